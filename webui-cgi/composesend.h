/* composesend.h - send a mail written in the browser: standard
 * attachments read, the message built, its row in sent_mail stored (with
 * the new Message-ID) and committed BEFORE the SMTP transaction, then the
 * outcome (sent or failed, with the server's answer) and its audit row
 * written in one transaction. A failed mail stays in sent_mail as failed.
 */
#ifndef MAILROOM_WEB_COMPOSESEND_H
#define MAILROOM_WEB_COMPOSESEND_H

#include <libpq-fe.h>

#include "composectx.h"
#include "conf.h"
#include "session.h"

#define COMPOSE_ATTACH_TOTAL (20L * 1024 * 1024) /* bytes of standard attachments in one mail */

/* what is sent */
struct compose_mail {
	const struct compose_ctx *x;
	const char *from, *from_name;
	const struct mail_addrs *to, *cc;
	const char *subject, *text; /* the text with its signature */
	const char *template_id;    /* NULL: none */
	const char *send_token;     /* the send form's token (COMPOSE_TOKEN_LEN hex digits) */
	const char *const *att_ids;
	size_t n_att;
};

enum compose_result {
	COMPOSE_ERROR = -1,
	COMPOSE_FAILED = 0,
	COMPOSE_SENT = 1,
	COMPOSE_BAD = 2,
	COMPOSE_REPEATED = 3,
};

/* compose_send - send m: COMPOSE_SENT, COMPOSE_FAILED (the SMTP server's
 * refusal or no answer in why; the row is failed), COMPOSE_BAD (an
 * attachment that is not there or too large, in why; nothing stored),
 * COMPOSE_REPEATED (this user already submitted m->send_token: nothing is
 * sent again; why has that row's state: sending, sent or failed) or
 * COMPOSE_ERROR (database, err). sent_id gets the sent_mail row's id. */
enum compose_result compose_send(PGconn *conn, const struct mailroom_conf *conf, const struct session *s,
                                 const struct compose_mail *m, char sent_id[24], char *why, size_t whylen,
                                 char *err, size_t errlen);

#endif
