/* session.h - web sessions in mailroom.web_sessions.
 *
 * The browser holds a 256-bit random token (64 hex digits) in the
 * __Host-mailroom cookie; the database holds only its SHA-256. A session
 * ends after web.session_idle_minutes without a request, after
 * web.session_max_hours in any case, when its user is disabled, or at
 * sign-out, when its row is deleted.
 */
#ifndef MAILROOM_WEB_SESSION_H
#define MAILROOM_WEB_SESSION_H

#include <libpq-fe.h>

#include "conf.h"
#include "csrf.h"

#define SESSION_TOKEN_HEX 64

struct session {
	char user_id[24];
	char login[72];
	char name[256];
	char role[16];
	unsigned char csrf_key[CSRF_KEY_BYTES];
};

/* session_create - a new session for user_id; token (SESSION_TOKEN_HEX + 1)
 * gets the cookie value. 0, or -1 with err filled */
int session_create(PGconn *conn, const char *user_id, const char *user_agent, const char *addr,
                   char token[SESSION_TOKEN_HEX + 1], char *err, size_t errlen);
/* session_lookup - the live session of a cookie token, its last_seen
 * renewed: 1 found, 0 none (unknown, expired, user disabled), -1 error */
int session_lookup(PGconn *conn, const struct mailroom_conf *conf, const char *token, struct session *s,
                   char *err, size_t errlen);
/* session_end - delete the session of token; 1 deleted, 0 none, -1 error */
int session_end(PGconn *conn, const char *token, char *err, size_t errlen);
/* session_prune - delete every expired session; 0 or -1 */
int session_prune(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen);

#endif
