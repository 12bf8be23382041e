/* inbox.h - the inbox page (GET SN/): the conversations the user may see,
 * filtered, ordered, a page at a time, with counts beside the filters and
 * the bulk form. */
#ifndef MAILROOM_WEB_INBOX_H
#define MAILROOM_WEB_INBOX_H

#include "handler.h"

/* inbox_get - GET /: the page, 400 for a bad filter value */
int inbox_get(struct ctx *c, const char *arg);

#endif
