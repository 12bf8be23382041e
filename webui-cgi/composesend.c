/* composesend.c - store, send and record one mail written in the browser
 * (composesend.h). The CGI lives for one request, so the SMTP transaction
 * is synchronous, under worker.notify.timeout_ms. */
#include "composesend.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "handler.h"
#include "smtpsend.h"

/* SQL, named: every statement that touches sent_mail from the web pages. */
static const char SQL_ATTACHMENTS[] =
    "SELECT id, filename, content_type, data FROM mailroom.standard_attachments"
    " WHERE active AND id = ANY ($1::bigint[]) ORDER BY array_position($1::bigint[], id)";
/* No row back: this user's form with this token was submitted before (schema/029). */
static const char SQL_INSERT[] =
    "INSERT INTO mailroom.sent_mail (conversation_id, organisation_id, contact_id, kind, header_message_id,"
    "  in_reply_to, from_addr, to_addrs, cc_addrs, subject, template_id, size_bytes, sent_by, send_token)"
    " VALUES (nullif($1, '')::bigint, nullif($2, '')::bigint, nullif($3, '')::bigint, $4, $5, $6, $7,"
    "  $8::text[], $9::text[], $10,"
    "  (SELECT t.id FROM mailroom.mail_templates t WHERE t.id = nullif($11, '')::bigint), $12::bigint, "
    "$13::bigint, $14)"
    " ON CONFLICT (sent_by, send_token) DO NOTHING RETURNING id";
static const char SQL_EARLIER[] = "SELECT id, state FROM mailroom.sent_mail"
                                  " WHERE sent_by = $1::bigint AND send_token = $2";
static const char SQL_OUTCOME[] = "UPDATE mailroom.sent_mail SET state = $2, smtp_reply = left($3, 1000),"
                                  "  sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1::bigint";
static const char SQL_FIRST_CONTACT_ORG[] = "UPDATE mailroom.organisations SET first_contact_at = now() "
                                            "WHERE id = $1::bigint AND first_contact_at IS NULL";
static const char SQL_FIRST_CONTACT_PERSON[] = "UPDATE mailroom.contacts SET first_contact_at = now() WHERE "
                                               "id = $1::bigint AND first_contact_at IS NULL";

/* the attachments as read, binary */
struct loaded {
	PGresult *res;
	struct mail_attachment att[MAIL_ATTACH_MAX];
	size_t n;
};

/* load_attachments - the ticked standard attachments, bytes and all:
 * COMPOSE_SENT (loaded), COMPOSE_BAD (why) or COMPOSE_ERROR */
static enum compose_result load_attachments(PGconn *conn, const struct compose_mail *m, struct loaded *l,
                                            char *why, size_t whylen, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if (m->n_att == 0)
		return COMPOSE_SENT;
	char *ids = db_array_literal(m->att_ids, m->n_att);
	if (ids == NULL) {
		snprintf(err, errlen, "out of memory");
		return COMPOSE_ERROR;
	}
	const char *p[1] = {ids};
	l->res = PQexecParams(conn, SQL_ATTACHMENTS, 1, NULL, p, NULL, NULL, 1);
	free(ids);
	if (db_result_ok(l->res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(l->res);
		l->res = NULL;
		return COMPOSE_ERROR;
	}
	size_t total = 0;
	for (int i = 0; i < PQntuples(l->res) && l->n < MAIL_ATTACH_MAX; i++) {
		struct mail_attachment *a = &l->att[l->n++];
		a->filename = PQgetvalue(l->res, i, 1);
		a->content_type = PQgetvalue(l->res, i, 2);
		a->data = (const unsigned char *)PQgetvalue(l->res, i, 3);
		a->len = (size_t)PQgetlength(l->res, i, 3);
		total += a->len;
	}
	if (l->n != m->n_att) {
		snprintf(why, whylen, "a standard attachment is not there (any more)");
		return COMPOSE_BAD;
	}
	if (total > (size_t)COMPOSE_ATTACH_TOTAL) {
		snprintf(why, whylen, "the attachments are larger than %ld MiB together",
		         COMPOSE_ATTACH_TOTAL >> 20);
		return COMPOSE_BAD;
	}
	return COMPOSE_SENT;
}

/* addr_array - a text[] literal of a's addresses; malloc'd */
static char *addr_array(const struct mail_addrs *a)
{
	const char *items[MAIL_RCPT_MAX];
	for (size_t i = 0; i < a->n; i++)
		items[i] = a->addr[i];
	return db_array_literal(items, a->n);
}

/* earlier - the row an earlier submission of the same form stored: its
 * id and state; 0, or -1 with err */
static int earlier(PGconn *conn, const struct session *s, const struct compose_mail *m, char sent_id[24],
                   char *state, size_t statelen, char *err, size_t errlen)
{
	const char *p[2] = {s->user_id, m->send_token};
	PGresult *r = db_query(conn, SQL_EARLIER, 2, p, err, errlen);
	if (r == NULL)
		return -1;
	int found = PQntuples(r) == 1;
	if (found) {
		snprintf(sent_id, 24, "%s", PQgetvalue(r, 0, 0));
		snprintf(state, statelen, "%s", PQgetvalue(r, 0, 1));
	} else {
		snprintf(err, errlen, "sent_mail: the token conflicts but no row of this user has it");
	}
	PQclear(r);
	return found ? 0 : -1;
}

/* store - the sent_mail row, state sending, committed on its own: 1, 0
 * when this form was submitted before (nothing stored), -1 with err */
static int store(PGconn *conn, const struct session *s, const struct compose_mail *m, const char *msgid,
                 size_t size, char sent_id[24], char *err, size_t errlen)
{
	const struct compose_ctx *x = m->x;
	char sz[24];
	char *to = addr_array(m->to), *cc = addr_array(m->cc);
	snprintf(sz, sizeof(sz), "%zu", size);
	const char *p[14] = {x->conversation,
	                     x->organisation,
	                     x->contact,
	                     compose_kind_name(x->kind),
	                     msgid,
	                     x->in_reply_to,
	                     m->from,
	                     to,
	                     cc,
	                     m->subject,
	                     m->template_id != NULL ? m->template_id : "",
	                     sz,
	                     s->user_id,
	                     m->send_token};
	PGresult *r = to != NULL && cc != NULL ? db_query(conn, SQL_INSERT, 14, p, err, errlen) : NULL;
	if (to == NULL || cc == NULL)
		snprintf(err, errlen, "out of memory");
	free(to);
	free(cc);
	if (r == NULL)
		return -1;
	int stored = PQntuples(r) == 1;
	if (stored)
		snprintf(sent_id, 24, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return stored;
}

/* audit_after - the audit row's "after": what was sent to whom, and how it went */
static char *audit_after(const struct compose_mail *m, const char *sent_id, const char *msgid, int sent,
                         const char *why)
{
	json_t *to = json_array(), *cc = json_array(), *att = json_array();
	for (size_t i = 0; i < m->to->n; i++)
		json_array_append_new(to, json_string(m->to->addr[i]));
	for (size_t i = 0; i < m->cc->n; i++)
		json_array_append_new(cc, json_string(m->cc->addr[i]));
	for (size_t i = 0; i < m->n_att; i++)
		json_array_append_new(att, json_integer(strtoll(m->att_ids[i], NULL, 10)));
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:s}", "sent_mail_id",
	                      (json_int_t)strtoll(sent_id, NULL, 10), "kind", compose_kind_name(m->x->kind),
	                      "message_id", msgid, "from", m->from, "to", to, "cc", cc, "subject", m->subject,
	                      "attachments", att, "state", sent ? "sent" : "failed");
	if (o == NULL)
		return NULL;
	if (!sent)
		json_object_set_new(o, "error", json_string(why));
	if (m->template_id != NULL)
		json_object_set_new(o, "template_id", json_integer(strtoll(m->template_id, NULL, 10)));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* record_outcome - sent or failed, its audit row and the customer's first
 * contact, in one transaction */
static int record_outcome(PGconn *conn, const struct session *s, const struct compose_mail *m,
                          const char *sent_id, const char *msgid, int sent, const char *why, char *err,
                          size_t errlen)
{
	const struct compose_ctx *x = m->x;
	char object[64], ignored[256];
	const char *p[3] = {sent_id, sent ? "sent" : "failed", sent ? "250" : why};
	char *after = audit_after(m, sent_id, msgid, sent, why);
	if (after == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (x->conversation[0] != '\0')
		snprintf(object, sizeof(object), "conversation:%s", x->conversation);
	else if (x->contact[0] != '\0')
		snprintf(object, sizeof(object), "contact:%s", x->contact);
	else if (x->organisation[0] != '\0')
		snprintf(object, sizeof(object), "organisation:%s", x->organisation);
	else
		snprintf(object, sizeof(object), "sent_mail:%s", sent_id);
	const char *org[1] = {x->organisation}, *person[1] = {x->contact};
	int rc = db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0 ||
	                 db_command(conn, SQL_OUTCOME, 3, p, err, errlen) < 0 ||
	                 web_audit(conn, s, sent ? "mail.sent" : "mail.failed", object, NULL, after, err,
	                           errlen) < 0 ||
	                 (sent && x->organisation[0] != '\0' &&
	                  db_command(conn, SQL_FIRST_CONTACT_ORG, 1, org, err, errlen) < 0) ||
	                 (sent && x->contact[0] != '\0' &&
	                  db_command(conn, SQL_FIRST_CONTACT_PERSON, 1, person, err, errlen) < 0) ||
	                 db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0
	             ? -1
	             : 0;
	if (rc < 0)
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	free(after);
	return rc;
}

enum compose_result compose_send(PGconn *conn, const struct mailroom_conf *conf, const struct session *s,
                                 const struct compose_mail *m, char sent_id[24], char *why, size_t whylen,
                                 char *err, size_t errlen)
{
	struct loaded l;
	char msgid[256], *msg = NULL;
	size_t len = 0;
	enum compose_result rc = load_attachments(conn, m, &l, why, whylen, err, errlen);
	if (rc != COMPOSE_SENT) {
		PQclear(l.res);
		return rc;
	}
	mail_message_id(m->from, msgid, sizeof(msgid));
	struct mail_out out = {m->from_name,
	                       m->from,
	                       m->to,
	                       m->cc,
	                       m->subject,
	                       m->text,
	                       msgid,
	                       m->x->in_reply_to,
	                       (const char *const *)m->x->references,
	                       m->x->n_references,
	                       l.att,
	                       l.n,
	                       time(NULL)};
	int built = mail_build(&out, &msg, &len, why, whylen);
	PQclear(l.res);
	if (built < 0)
		return COMPOSE_BAD;
	int stored = store(conn, s, m, msgid, len, sent_id, err, errlen);
	if (stored <= 0) {
		free(msg);
		if (stored == 0)
			return earlier(conn, s, m, sent_id, why, whylen, err, errlen) < 0 ? COMPOSE_ERROR
			                                                                  : COMPOSE_REPEATED;
		return COMPOSE_ERROR;
	}
	const char *rcpt[MAIL_RCPT_MAX];
	size_t n = 0;
	for (size_t i = 0; i < m->to->n; i++)
		rcpt[n++] = m->to->addr[i];
	for (size_t i = 0; i < m->cc->n && n < MAIL_RCPT_MAX; i++)
		rcpt[n++] = m->cc->addr[i];
	struct smtpsend smtp = {conf->notify_smtp_url, (long)conf->notify_timeout_ms, m->from, rcpt, n};
	int sent = smtpsend_message(&smtp, msg, len, why, whylen) == 0;
	free(msg);
	if (record_outcome(conn, s, m, sent_id, msgid, sent, why, err, errlen) < 0)
		return COMPOSE_ERROR;
	return sent ? COMPOSE_SENT : COMPOSE_FAILED;
}
