/* handler.h - what every page handler of mailroom.cgi shares: the
 * request context, the database connection of a signed-in user, and the
 * frame of the application's pages.
 *
 * A handler of a signed-in page starts with web_begin(): it connects as
 * the web role, finds the session (or redirects to the sign-in page) and
 * tells the database whom it acts for, so that row-level security
 * (schema/011_team_inbox.sql) applies to every query that follows.
 */
#ifndef MAILROOM_WEB_HANDLER_H
#define MAILROOM_WEB_HANDLER_H

#include <libpq-fe.h>
#include <stdio.h>

#include "conf.h"
#include "multipart.h"
#include "request.h"
#include "session.h"

struct ctx {
	const struct mailroom_conf *conf;
	const struct web_request *req;
	FILE *out;
	struct form form;  /* the POST body, parsed */
	struct form query; /* QUERY_STRING, parsed */
	struct upload upload; /* the file of a multipart POST (routes with an upload cap) */
};

/* connect_db - the web role's connection, or NULL after a 503 page */
PGconn *connect_db(struct ctx *c);
/* server_error - log what and err to the web server's log, answer 500 */
int server_error(struct ctx *c, const char *what, const char *err);
/* session_token - the session cookie's value into tok, or "" */
void session_token(const struct web_request *req, char tok[SESSION_TOKEN_HEX + 1]);
/* current_session - the request's live session: 1, 0 none, -1 after a 500 */
int current_session(struct ctx *c, PGconn *conn, struct session *s);
/* send_page - close the memstream mem and send its body with status */
int send_page(struct ctx *c, FILE *mem, char **body, size_t *len, const char *status, const char *extra);

/* web_begin - connect, find the session, act as its user in the database:
 * 1 with *conn open and s filled; 0 when the answer is already sent (a
 * redirect to the sign-in page for GET, 403 for POST, or an error page) */
int web_begin(struct ctx *c, PGconn **conn, struct session *s);
/* web_post_begin - web_begin for a POST whose form carries the CSRF token
 * of form name; 403 when the token is wrong */
int web_post_begin(struct ctx *c, const char *name, PGconn **conn, struct session *s);
/* web_audit - append one action of the signed-in user to the audit trail;
 * before and after are JSON text or NULL. 0 or -1 with err filled */
int web_audit(PGconn *conn, const struct session *s, const char *action, const char *object,
              const char *before, const char *after, char *err, size_t errlen);

/* app_head / app_foot - the frame of a signed-in page: the navigation,
 * the user's name and the sign-out button around main */
void app_head(FILE *mem, struct ctx *c, const struct session *s, const char *title);
void app_foot(FILE *mem);
/* form_open - <form method=post action=SCRIPT_NAME+path> with the CSRF
 * token of form name; attrs (may be NULL) are added to the tag as given */
void form_open(FILE *mem, struct ctx *c, const struct session *s, const char *path, const char *name,
               const char *attrs);

#endif
