/* compose.h - writing mail in the browser: the routes
 * GET /c/ID/compose?kind=reply|reply-all|forward, GET /compose?o=ID|p=ID
 * and POST /compose (preview, then send with confirm=1). */
#ifndef MAILROOM_WEB_COMPOSE_H
#define MAILROOM_WEB_COMPOSE_H

#include "handler.h"

int compose_conv_get(struct ctx *c, const char *arg);
int compose_new_get(struct ctx *c, const char *arg);
int compose_post(struct ctx *c, const char *arg);
/* compose_links - the reply, reply-all and forward links of conversation
 * id, for the conversation page (nav.compose) */
void compose_links(FILE *mem, struct ctx *c, const char *id);

#endif
