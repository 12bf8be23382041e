/* userpage.h - what the user pages (users.c) and the account page
 * (account.c) share: a page with one message, SQL whose failure is told
 * apart by SQLSTATE, and audit JSON.
 */
#ifndef MAILROOM_WEB_USERPAGE_H
#define MAILROOM_WEB_USERPAGE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "handler.h"

/* userpage_message - status with a page in the app frame: a heading and
 * one message (both escaped), and a link back to back (a path of ours) */
int userpage_message(struct ctx *c, const struct session *s, const char *status, const char *title,
                     const char *message, const char *back);
/* userpage_exec - db_query that also gives the SQLSTATE of a failure in
 * state (6 bytes; "" when the server sent none) */
PGresult *userpage_exec(PGconn *conn, const char *sql, int n, const char *const *p, char state[6], char *err,
                        size_t errlen);
/* userpage_audit - web_audit with before and after as jansson objects
 * (either may be NULL; both are released here) */
int userpage_audit(PGconn *conn, const struct session *s, const char *action, const char *object,
                   json_t *before, json_t *after, char *err, size_t errlen);
/* userpage_password - the block that shows a new password once */
void userpage_password(FILE *mem, const char *login, const char *password);

#endif
