/* remindersadmin.h - `mailroomctl user add`, `reminder ...` and `calendar
 * ...`: the team's users (minimal: login, name, mail address, role; the
 * web sign-in is in useradmin.c), reminders and calendar feed tokens.
 * Every change is written to the audit trail in the same statement.
 *
 * Each entry gets argv from the command name on and returns 0, -1 after
 * reporting a runtime error on errout, or -2 for a usage error (reported).
 */
#ifndef MAILROOM_CTL_REMINDERSADMIN_H
#define MAILROOM_CTL_REMINDERSADMIN_H

#include <libpq-fe.h>
#include <stdio.h>

int remindersadmin_user(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout);
int remindersadmin_reminder(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout);
int remindersadmin_calendar(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout);

#endif
