/* conversation.h - the conversation page and what hangs off it:
 *   GET SN/c/ID                 the page (convpage.c)
 *   GET SN/c/ID/m/UUID/html     a message's HTML, made safe (mailhtml.c)
 *   GET SN/c/ID/m/UUID/a/N      attachment N of a message (attachment.c)
 * Paths are strict: a canonical decimal id, a lower-case UUID, a decimal
 * position; anything else is 404. So is everything the signed-in user
 * may not see: row-level security decides, and a private conversation of
 * someone else looks exactly like one that does not exist.
 */
#ifndef MAILROOM_WEB_CONVERSATION_H
#define MAILROOM_WEB_CONVERSATION_H

#include "handler.h"

enum conv_kind { CONV_PAGE, CONV_HTML, CONV_ATTACHMENT };

struct conv_path {
	enum conv_kind kind;
	char id[20];   /* conversation id, 1-18 digits */
	char uuid[37]; /* message id (CONV_HTML, CONV_ATTACHMENT) */
	char pos[10];  /* attachment position (CONV_ATTACHMENT) */
};

/* conv_path_parse - the part of a path after /c/; 0, or -1 when it is not
 * one of the three forms */
int conv_path_parse(const char *arg, struct conv_path *p);
/* conversation_get - the route's handler: GET /c/<arg> */
int conversation_get(struct ctx *c, const char *arg);

#endif
