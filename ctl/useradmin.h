/* useradmin.h - `mailroomctl user ...`: users of the team and their
 * sign-in to the web pages: add (with a password), disable, reset (a new
 * password; every session ends) and totp (a new second-factor key, printed
 * once as an otpauth:// URI). Every change goes to the audit trail in the
 * same transaction.
 *
 * Returns 0, -1 after reporting a runtime error on errout, or -2 for a
 * usage error.
 */
#ifndef MAILROOM_CTL_USERADMIN_H
#define MAILROOM_CTL_USERADMIN_H

#include <libpq-fe.h>
#include <stdio.h>

#define USERADMIN_USAGE                                                                                      \
	"add LOGIN [--name N] [--email E] [--role admin|lead|agent|auditor] [--password-file FILE|-] | "     \
	"disable LOGIN | reset LOGIN [--password-file FILE|-] | totp LOGIN"

int useradmin_user(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout);

#endif
