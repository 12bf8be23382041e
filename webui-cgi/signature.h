/* signature.h - the signature pages: GET/POST /account/signature (the
 * signed-in user's own) and GET/POST /inboxes/ADDRESS/signature (a shared
 * inbox's; admins and leads change it). An empty text removes the
 * signature. composesig.c appends them to mail. */
#ifndef MAILROOM_WEB_SIGNATURE_H
#define MAILROOM_WEB_SIGNATURE_H

#include "handler.h"

int signature_mine_get(struct ctx *c, const char *arg);
int signature_mine_post(struct ctx *c, const char *arg);
int signature_inbox_get(struct ctx *c, const char *arg);
int signature_inbox_post(struct ctx *c, const char *arg);

#endif
