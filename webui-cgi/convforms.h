/* convforms.h - the action forms of the conversation page. Each posts to
 * SN/c/ID/ACTION with the CSRF token of form name ACTION and has the id
 * act-ACTION (docs/web.md has the table of actions and fields); the
 * handlers of those POSTs live elsewhere. Auditors get no forms. */
#ifndef MAILROOM_WEB_CONVFORMS_H
#define MAILROOM_WEB_CONVFORMS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "handler.h"

/* What the forms preselect: the conversation's current values ("" none). */
struct conv_current {
	const char *id, *title, *status, *level, *folder_id, *assignee_id, *holder_id;
	int is_owner, is_private;
};

/* convforms_write - every action form for conversation cur->id; 0, or -1
 * with err filled (the users and folders to choose from are queried) */
int convforms_write(FILE *mem, struct ctx *c, const struct session *s, PGconn *conn,
                    const struct conv_current *cur, char *err, size_t errlen);

#endif
