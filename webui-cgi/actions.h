/* actions.h - the team's actions: on one conversation (POST /c/ID/ACTION),
 * on many at once (POST /bulk), and the organisation search that the
 * classify form uses (GET /orgs). Every change is audited. */
#ifndef MAILROOM_WEB_ACTIONS_H
#define MAILROOM_WEB_ACTIONS_H

#include "handler.h"

/* actions_post - POST /c/ID/ACTION (arg "ID/ACTION"): 303 to /c/ID */
int actions_post(struct ctx *c, const char *arg);
/* bulk_post - POST /bulk: one action on up to BULK_MAX conversations; 303 to / */
int bulk_post(struct ctx *c, const char *arg);
/* orgs_page - GET /orgs?q=TEXT[&c=ID]: organisations matching name or domain */
int orgs_page(struct ctx *c, const char *arg);

#endif
