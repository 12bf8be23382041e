/* composectx.h - what a mail written in the browser starts from: the
 * conversation it answers (or the customer it goes to), the defaults of
 * the form, the addresses the user may send from, the conversation's
 * usual correspondents and the values of the templates' placeholders.
 *
 * Everything is read as the web role with the user set, so row-level
 * security decides: a conversation the user cannot see is "not found".
 */
#ifndef MAILROOM_WEB_COMPOSECTX_H
#define MAILROOM_WEB_COMPOSECTX_H

#include <libpq-fe.h>

#include "mailbuild.h"
#include "session.h"

#define COMPOSE_FROM_MAX 32 /* addresses offered as sender */

enum compose_kind { COMPOSE_REPLY, COMPOSE_REPLY_ALL, COMPOSE_FORWARD, COMPOSE_NEW };

struct compose_ctx {
	enum compose_kind kind;
	char conversation[24], organisation[24], contact[24]; /* ids, "" when none */
	/* the form's defaults */
	struct mail_addrs to, cc;
	char *subject, *body;
	/* threading: the message answered or forwarded */
	char *in_reply_to;                   /* NULL: none (new mail) */
	char *references[MAIL_REFS_MAX + 1]; /* oldest first, in_reply_to last */
	size_t n_references;
	/* the addresses that wrote or were written to in this conversation
	 * (or the customer's addresses); others get a warning */
	struct mail_addrs usual;
	char usual_domains[8][256]; /* a new mail to an organisation: its domains */
	size_t n_usual_domains;
	/* senders the user may choose: shared inboxes, then their own address */
	char from[COMPOSE_FROM_MAX][MAIL_ADDR_MAX + 1];
	char from_name[COMPOSE_FROM_MAX][256];
	size_t n_from;
	size_t from_default;
	/* placeholder values */
	char *salutation, *first_name, *last_name, *org_name, *agent_name, *agent_email;
};

/* compose_kind_parse - "reply", "reply-all", "forward", "new": 0 and *k, or -1 */
int compose_kind_parse(const char *s, enum compose_kind *k);
/* compose_kind_name - the form value of k */
const char *compose_kind_name(enum compose_kind k);
/* compose_ctx_load - fill x for kind k and the id of its conversation
 * (reply, reply-all, forward) or organisation/contact (new; one of them
 * may be ""); 1 loaded, 0 not found (or not visible), -1 with err */
int compose_ctx_load(PGconn *conn, const struct session *s, enum compose_kind k, const char *conversation,
                     const char *organisation, const char *contact, struct compose_ctx *x, char *err,
                     size_t errlen);
/* compose_ctx_free - free what compose_ctx_load allocated */
void compose_ctx_free(struct compose_ctx *x);
/* compose_is_usual - is addr one of the usual correspondents? */
int compose_is_usual(const struct compose_ctx *x, const char *addr);
/* compose_from_index - the index of addr among the offered senders, or -1 */
int compose_from_index(const struct compose_ctx *x, const char *addr);

#endif
