/* mailtpl.h - the mail templates' pages: GET/POST /templates/mail (the
 * list; admins and leads add one) and GET/POST /templates/mail/ID (edit).
 * Every signed-in user but an auditor may use a template in the compose
 * form (compose_template_apply). */
#ifndef MAILROOM_WEB_MAILTPL_H
#define MAILROOM_WEB_MAILTPL_H

#include "composectx.h"
#include "handler.h"

int mailtpl_list(struct ctx *c, const char *arg);
int mailtpl_create(struct ctx *c, const char *arg);
int mailtpl_edit(struct ctx *c, const char *arg);
int mailtpl_update(struct ctx *c, const char *arg);

/* mailtpl_apply - the active template id (usable from inbox "from")
 * expanded with x's values: *subject (NULL when the template has none, or when x is a reply or
 * forward that has a subject already) and
 * *body, malloc'd; subject is the mail's current subject for
 * {{subject}} (the template's own subject, expanded, when it has one). 1, 0 when there is no such template,
 * -1 with err */
int mailtpl_apply(PGconn *conn, const struct compose_ctx *x, const char *id, const char *from,
                  const char *subject, char **subject_out, char **body_out, char *err, size_t errlen);

#endif
