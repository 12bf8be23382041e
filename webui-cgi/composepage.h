/* composepage.h - the pages of writing mail: the form, and the preview
 * that lists the recipients (with a warning for those who are not the
 * conversation's usual correspondents) before anything is sent. */
#ifndef MAILROOM_WEB_COMPOSEPAGE_H
#define MAILROOM_WEB_COMPOSEPAGE_H

#include "composectx.h"
#include "handler.h"

#define COMPOSE_ADDRS_MAX   4000  /* bytes of the To or Cc field */
#define COMPOSE_SUBJECT_MAX 998   /* characters of the subject */
#define COMPOSE_BODY_MAX    50000 /* characters of the text */

/* the form's values as posted (or the defaults), pointing into the form or x */
#define COMPOSE_TOKEN_LEN 32 /* hex digits of a send form's token */

struct compose_form {
	const char *inbox, *to, *cc, *subject, *body, *template_id;
	const char *send_token; /* the preview's token on a send, NULL otherwise */
	const char *att[MAIL_ATTACH_MAX];
	size_t n_att;
};

/* compose_page - the form with f's values and an error message (may be
 * NULL), answered with status */
int compose_page(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                 const struct compose_form *f, const char *status, const char *error);
/* compose_preview - the recipients (to, cc), the text as it will be sent
 * (text with signature) and the send button (confirm=1, with a new
 * send_token: its mail is sent once however often it is submitted), then
 * the form */
int compose_preview(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                    const struct compose_form *f, const struct mail_addrs *to, const struct mail_addrs *cc,
                    const char *text);

#endif
