/* convpage.h - the conversation page: its facts, its messages in the
 * order the gateway received them, the timeline and the action forms. */
#ifndef MAILROOM_WEB_CONVPAGE_H
#define MAILROOM_WEB_CONVPAGE_H

#include <libpq-fe.h>
#include <stdio.h>

#include "handler.h"

#define CONV_MESSAGES_MAX 500 /* messages shown on one page; the rest are named */

/* convpage_send - answer GET SN/c/ID: the page, 404 when the user may not
 * see conversation id, or an error page; 0, or -1 when out failed */
int convpage_send(struct ctx *c, PGconn *conn, const struct session *s, const char *id);
/* conv_time - <time datetime="iso">local</time> */
void conv_time(FILE *mem, const char *iso, const char *local);
/* conv_tz - the time zone pages show times in (deadlines.timezone, or UTC) */
const char *conv_tz(const struct ctx *c);

#endif
