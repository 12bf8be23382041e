/* users.h - the user pages (admins only; everyone else gets 403):
 * GET /users, POST /users (add), GET and POST /users/ID (edit, shared
 * inbox membership), POST /users/ID/reset (a new password, shown once). */
#ifndef MAILROOM_WEB_USERS_H
#define MAILROOM_WEB_USERS_H

#include "handler.h"

/* users_list - GET /users: table.users and the form users-add */
int users_list(struct ctx *c, const char *arg);
/* users_add - POST /users: a new user with a random password, shown once */
int users_add(struct ctx *c, const char *arg);
/* users_edit - GET /users/ID: the forms user-edit and user-reset */
int users_edit(struct ctx *c, const char *arg);
/* users_update - POST /users/ID: name, e-mail, role, active, inboxes */
int users_update(struct ctx *c, const char *arg);
/* users_reset - POST /users/ID/reset: a new random password, shown once */
int users_reset(struct ctx *c, const char *arg);

#endif
