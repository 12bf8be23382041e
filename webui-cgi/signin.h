/* signin.h - checking a sign-in: throttling, password, second factor.
 *
 * Order matters: the throttle is checked before the password is looked
 * at, an unknown login costs the same Argon2id work as a known one, a
 * TOTP code is accepted once only (its time step must be newer than the
 * last one accepted), and every outcome goes to the audit trail.
 */
#ifndef MAILROOM_WEB_SIGNIN_H
#define MAILROOM_WEB_SIGNIN_H

#include <libpq-fe.h>

#include "conf.h"

enum signin_result { SIGNIN_OK, SIGNIN_FAILED, SIGNIN_THROTTLED, SIGNIN_ERROR };

/* signin_check - check login, password and code (may be "" when the user
 * has no second factor) from client addr; on SIGNIN_OK user_id (24 bytes)
 * is set. Failures are recorded for throttling and audited here. */
enum signin_result signin_check(PGconn *conn, const struct mailroom_conf *conf, const char *login,
                                const char *password, const char *code, const char *addr, char user_id[24],
                                char *err, size_t errlen);
/* signin_failed - record a failed password (or code) of login from addr
 * for throttling and in the audit trail (web.signin.fail; user_id may be
 * NULL); SIGNIN_FAILED, or SIGNIN_ERROR with err filled */
enum signin_result signin_failed(PGconn *conn, const struct mailroom_conf *conf, const char *login,
                                 const char *addr, const char *user_id, char *err, size_t errlen);
/* signin_throttled - 1 when the login or the address has too many recent
 * failures, 0 not, -1 error */
int signin_throttled(PGconn *conn, const struct mailroom_conf *conf, const char *login, const char *addr,
                     char *err, size_t errlen);
/* signin_audit - one audit row: actor "web:<login>", action, object "user:<id>" */
int signin_audit(PGconn *conn, const char *login, const char *action, const char *user_id, const char *addr,
                 char *err, size_t errlen);

#endif
