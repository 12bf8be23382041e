/* pipeline.c - parse, classify, thread and store one message.
 *
 * Runs inside the caller's transaction. A message that cannot be parsed
 * is stored with its reason (message_meta.parse_error) and stays visible;
 * only database errors make the caller roll back. Bounces and automatic
 * replies join their conversation but never reopen it nor count as an
 * answer: they leave its state alone. Every parsed message gets its
 * priority (worker/scoring.c) in the same transaction; the conversation's
 * priority is computed in the update of its state.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrbook.h"
#include "classify.h"
#include "db.h"
#include "log.h"
#include "mimeparse.h"
#include "msgflags.h"
#include "rules.h"
#include "sorting.h"
#include "scoring.h"
#include "threading.h"


#define SQL_MESSAGE                                                                                \
	"SELECT direction, envelope_from, received_at::text, raw, record_policy,"                  \
	" array_to_string(envelope_to, ' ') FROM mailroom.messages WHERE id = $1::uuid"
#define SQL_META                                                                                   \
	"INSERT INTO mailroom.message_meta (message_id, parse_error, from_addr, from_name, to_addrs," \
	" cc_addrs, subject, sent_at, header_message_id, in_reply_to, references_ids, body_text,"  \
	" text_new, text_quoted, text_signature, body_html, text_from_html, class, flags,"          \
	" organisation_id, contact_id, conversation_id, decided_by, rule_id, reason, labels, team," \
	" assignee, priority, skip_inbox, warnings, search, priority_score, priority_level, priority_reasons," \
	" priority_confidence, model_version)"                                       \
	" VALUES ($1::uuid, $2, $3, $4, $5::text[], $6::text[], $7, to_timestamp($8::bigint), $9, $10," \
	" $11::text[], $12, $13, $14, $15, $16, $17::boolean, $18, $19::text[], $20::bigint,"      \
	" $21::bigint, $22::bigint, $23, $24::bigint, $25, $26::text[], $27, $28, $29::smallint,"  \
	" $30::boolean, $31::text[],"                                                              \
	" setweight(to_tsvector('simple', $32), 'A') || setweight(to_tsvector('german', COALESCE($7, '')), 'B')" \
	" || setweight(to_tsvector('english', COALESCE($7, '')), 'B')"                            \
	" || to_tsvector('german', left(COALESCE($13, ''), " "100000" "))"                          \
	" || to_tsvector('english', left(COALESCE($13, ''), " "100000" ")),"                     \
	" $33::smallint, $34, $35::jsonb, $36::real, $37::bigint)"
/* Put before SQL_META when the LLM is to be asked about the message: its
 * request is queued in the same statement, so the message and its request
 * commit together and no task has to look for unsure messages afterwards. */
#define SQL_ASK_LLM                                                                                \
	"WITH ask AS (INSERT INTO mailroom.llm_requests (message_id) VALUES ($1::uuid)"             \
	" ON CONFLICT (message_id) DO NOTHING) "
#define SQL_META_FAILED                                                                            \
	"INSERT INTO mailroom.message_meta (message_id, parse_error) VALUES ($1::uuid, $2)"
#define SQL_ATTACHMENT                                                                             \
	"INSERT INTO mailroom.attachments (message_id, position, filename, content_type, size_bytes," \
	" sha256, is_inline) VALUES ($1::uuid, $2, $3, $4, $5, decode($6, 'hex'), $7::boolean)"
/* The conversation's state after one message that is not automatic. */
#define SQL_CONVERSATION                                                                           \
	"UPDATE mailroom.conversations c SET"                                                     \
	" last_activity_at = GREATEST(c.last_activity_at, $2::timestamptz),"                       \
	" waiting_on = CASE $3 WHEN 'inbound' THEN 'us' WHEN 'outbound' THEN 'them' ELSE c.waiting_on END," \
	" status = CASE WHEN $3 = 'inbound' THEN 'open' ELSE c.status END,"                        \
	" class = COALESCE(c.class, $4), organisation_id = COALESCE(c.organisation_id, $5::bigint)," \
	" first_answered_at = CASE WHEN $3 = 'outbound' AND c.first_answered_at IS NULL"           \
	"   AND fi.t IS NOT NULL AND fi.t <= $2::timestamptz THEN $2::timestamptz ELSE c.first_answered_at END," \
	" first_answered_by = CASE WHEN $3 = 'outbound' AND c.first_answered_at IS NULL"           \
	"   AND fi.t IS NOT NULL AND fi.t <= $2::timestamptz THEN $6 ELSE c.first_answered_by END," \
	" first_response_seconds = CASE WHEN $3 = 'outbound' AND c.first_answered_at IS NULL"      \
	"   AND fi.t IS NOT NULL AND fi.t <= $2::timestamptz"                                      \
	"   THEN extract(epoch FROM $2::timestamptz - fi.t)::bigint ELSE c.first_response_seconds END" \
	"," SCORING_CONV_STEP                                                                      \
	" FROM (SELECT min(m.received_at) AS t FROM mailroom.message_meta mm"                       \
	"   JOIN mailroom.messages m ON m.id = mm.message_id WHERE mm.conversation_id = $1::bigint" \
	"   AND m.direction = 'inbound' AND NOT (mm.flags && '{bounce,auto-reply,out-of-office}')) fi" \
	" WHERE c.id = $1::bigint"

struct pipeline {
	const struct mailroom_conf *conf;
	struct addrbook *ab;
	struct ruleset *rules;
	struct scoring *scoring;
	long long version; /* of the address book and rules loaded; -1: none yet */
};

struct pipeline *pipeline_new(const struct mailroom_conf *conf)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return NULL;
	pl->conf = conf;
	pl->version = -1;
	pl->scoring = scoring_new(conf);
	if (pl->scoring == NULL) {
		free(pl);
		return NULL;
	}
	mimeparse_init();
	return pl;
}

void pipeline_set_conf(struct pipeline *pl, const struct mailroom_conf *conf)
{
	pl->conf = conf;
	scoring_set_conf(pl->scoring, conf);
	pl->version = -1; /* own domains come from the configuration too */
}

void pipeline_free(struct pipeline **plp)
{
	struct pipeline *pl = *plp;
	if (pl == NULL)
		return;
	addrbook_free(&pl->ab);
	rules_free(&pl->rules);
	scoring_free(&pl->scoring);
	free(pl);
	*plp = NULL;
}

int pipeline_refresh(struct pipeline *pl, PGconn *conn, char *err, size_t errlen)
{
	if (scoring_refresh(pl->scoring, conn, err, errlen) < 0)
		log_warnx("model not reloaded, keeping the one loaded before: %s", err);
	long long v = addrbook_version_now(conn, err, errlen);
	if (v < 0)
		return -1;
	if (v == pl->version)
		return 0;
	struct addrbook *ab = addrbook_load(conn, pl->conf, err, errlen);
	if (ab == NULL)
		return -1;
	struct ruleset *rules = NULL;
	char rerr[512];
	if (sorting_load_rules(conn, &rules, rerr, sizeof(rerr)) < 0) {
		/* A broken rule must not stop sorting: keep the rules we had. */
		log_warnx("rules not reloaded, keeping %zu compiled before: %s",
			  pl->rules ? rules_count(pl->rules) : 0, rerr);
	} else {
		rules_free(&pl->rules);
		pl->rules = rules;
	}
	addrbook_free(&pl->ab);
	pl->ab = ab;
	pl->version = v;
	size_t na, nd;
	addrbook_sizes(ab, &na, &nd);
	log_info("address book version %lld: %zu addresses, %zu domains, %zu rules", v, na, nd,
		 pl->rules ? rules_count(pl->rules) : 0);
	return 0;
}

/* split_words - the space-separated words of s as an array of pointers into a copy */
static char **split_words(const char *s, size_t *n, char **copy_r)
{
	char *copy = strdup(s ? s : "");
	size_t cap = 8;
	char **w = malloc(cap * sizeof(*w));
	*n = 0;
	*copy_r = copy;
	if (copy == NULL || w == NULL) {
		free(w);
		return NULL;
	}
	for (char *p = copy; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (*n == cap) {
			char **g = realloc(w, 2 * cap * sizeof(*w));
			if (g == NULL)
				break;
			w = g;
			cap *= 2;
		}
		w[(*n)++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return w;
}

/* addr_literal - text[] literal of the addr-specs of list */
static char *addr_literal(const struct mp_address *list, size_t n)
{
	const char **a = calloc(n ? n : 1, sizeof(*a));
	size_t k = 0;
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (list[i].addr != NULL)
			a[k++] = list[i].addr;
	char *lit = db_array_literal(a, k);
	free(a);
	return lit;
}

/* store_failed - keep an unparseable message visible with its reason */
static int store_failed(PGconn *conn, const char *id, const char *why, char *err, size_t errlen)
{
	const char *p[2] = {id, why};
	return db_command(conn, SQL_META_FAILED, 2, p, err, errlen);
}

/* store_attachments - one row per attachment */
static int store_attachments(PGconn *conn, const char *id, const struct mp_message *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct mp_attachment *a = &m->attachments[i];
		char pos[24], size[24], hex[65];
		snprintf(pos, sizeof(pos), "%zu", i);
		snprintf(size, sizeof(size), "%llu", (unsigned long long)a->size);
		for (int b = 0; b < 32; b++)
			snprintf(hex + 2 * b, 3, "%02x", a->sha256[b]);
		const char *p[7] = {id, pos, a->filename, a->content_type ? a->content_type : "application/octet-stream",
				    size, hex, a->is_inline ? "true" : "false"};
		if (db_command(conn, SQL_ATTACHMENT, 7, p, err, errlen) < 0)
			return -1;
	}
	return 0;
}

struct row {
	char *direction, *envelope_from, *received_at, *policy, *rcpts;
	const char *raw;
	size_t raw_len;
};

/* process_parsed - classify, thread and store a parsed message */
static int process_parsed(struct pipeline *pl, PGconn *conn, const char *id, const struct row *row,
			  const struct mp_message *m, char *err, size_t errlen)
{
	int rc = -1;
	size_t n_rcpts;
	struct scoring_out so = {0};
	struct thread_keys keys = {0};
	PGresult *batch[2] = {NULL, NULL};
	char *rcopy = NULL, *to = NULL, *cc = NULL, *refs = NULL, *labels = NULL, *warnings = NULL;
	char **rcpts = split_words(row->rcpts, &n_rcpts, &rcopy);
	if (rcpts == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	struct sorting_envelope env = {row->envelope_from, (const char *const *)rcpts, n_rcpts, row->direction};
	struct classify_addrbook ops = addrbook_ops(pl->ab);
	struct classification c;
	if (sorting_classify(row->raw, row->raw_len, m, &env, &ops, pl->rules, &c, err, errlen) < 0)
		goto out;

	struct thread_input ti = {m->message_id, m->in_reply_to, m->references, m->n_references, m->subject,
				  c.counterpart[0] ? c.counterpart : NULL, row->received_at,
				  (long)pl->conf->worker_thread_window_days};
	long long conv = thread_assign(conn, &ti, &keys, err, errlen);
	if (conv < 0)
		goto out;

	/* The thread keys' insert and scoring's lookup in one round trip. */
	struct db_stmt st[2];
	size_t n_st = (size_t)thread_keys_stmt(&keys, &st[0]);
#ifndef MAILROOM_BENCH_NO_SCORING
	struct scoring_lookup lk;
	size_t at_lookup = n_st;
	if (scoring_lookup_stmt(pl->scoring, conn, conv, row->received_at, m->from.addr, &lk, &st[n_st++], err,
				errlen) < 0)
		goto out;
#endif
	if (db_batch(conn, st, n_st, batch, err, errlen) < 0)
		goto out;
#ifndef MAILROOM_BENCH_NO_SCORING
	if (scoring_message(pl->scoring, batch[at_lookup], row->direction, (const char *const *)rcpts, n_rcpts, m,
			    &c, &so, err, errlen) < 0)
		goto out;
	const int scored = 1;
#else
	/* The baseline bench/worker.sh compares with (docs/benchmarks.md): this
	 * worker with scoring compiled out; its messages get no priority. */
	const int scored = 0;
	so.asks = "false";
#endif
	char flags[128], flaglit[132], date[24], org[24], contact[24], convs[24], rule[24], prio[8];
	msgflags_format(c.flags, flags, sizeof(flags));
	snprintf(flaglit, sizeof(flaglit), "{%s}", flags);
	snprintf(date, sizeof(date), "%lld", (long long)m->date);
	snprintf(org, sizeof(org), "%lld", c.organisation_id);
	snprintf(contact, sizeof(contact), "%lld", c.contact_id);
	snprintf(convs, sizeof(convs), "%lld", conv);
	snprintf(rule, sizeof(rule), "%ld", c.rule_id);
	snprintf(prio, sizeof(prio), "%d", c.rules.priority);
	to = addr_literal(m->to, m->n_to);
	cc = addr_literal(m->cc, m->n_cc);
	refs = db_array_literal((const char *const *)m->references, m->n_references);
	labels = db_array_literal(c.rules.labels, c.rules.n_labels);
	warnings = db_array_literal((const char *const *)m->warnings, m->n_warnings);
	if (to == NULL || cc == NULL || refs == NULL || labels == NULL || warnings == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	char addrs[4096];
	snprintf(addrs, sizeof(addrs), "%s %s %s", m->from.addr ? m->from.addr : "",
		 m->from.name ? m->from.name : "", row->rcpts);
	const char *p[37] = {
	    id, NULL, m->from.addr, m->from.name, to, cc, m->subject, m->date ? date : NULL, m->message_id,
	    m->in_reply_to, refs, m->text, m->text_new, m->text_quoted, m->text_signature, m->html,
	    m->text_from_html ? "true" : "false", mailclass_name(c.class), flaglit,
	    c.organisation_id ? org : NULL, c.contact_id ? contact : NULL, convs,
	    classify_decider_name(c.decided_by), c.rule_id ? rule : NULL, c.reason, labels, c.rules.team,
	    c.rules.user, c.rules.priority_rule ? prio : NULL, c.rules.skip_inbox ? "true" : "false", warnings,
	    addrs, scored ? so.score : NULL, scored ? so.level : NULL, so.reasons, scored ? so.confidence : NULL,
	    so.has_version ? so.version : NULL};
	const char *meta = so.ask_llm ? SQL_ASK_LLM SQL_META : SQL_META;
	if (db_command(conn, meta, 37, p, err, errlen) < 0 || store_attachments(conn, id, m, err, errlen) < 0)
		goto out;

	if ((c.flags & (MSGFLAG_BOUNCE | MSGFLAG_AUTO_REPLY | MSGFLAG_OUT_OF_OFFICE)) == 0) {
		const char *from = m->from.addr ? m->from.addr : row->envelope_from;
		const char *pc[8] = {convs, row->received_at, row->direction, mailclass_name(c.class),
				     c.organisation_id ? org : NULL, from, scored ? so.score : NULL, so.asks};
		/* our answer counts for the sender it answers: that part only for outbound messages */
		const char *sql = strcmp(row->direction, "outbound") == 0 ? SCORING_ANSWERED SQL_CONVERSATION
									   : SQL_CONVERSATION;
		if (db_command(conn, sql, 8, pc, err, errlen) < 0)
			goto out;
	}
	log_debug("message %s: %s (%s), conversation %lld", id, mailclass_name(c.class), c.reason, conv);
	rc = 0;
out:
	PQclear(batch[0]);
	PQclear(batch[1]);
	thread_keys_free(&keys);
	scoring_out_free(&so);
	free(rcpts);
	free(rcopy);
	free(to);
	free(cc);
	free(refs);
	free(labels);
	free(warnings);
	return rc;
}

int pipeline_process(struct pipeline *pl, PGconn *conn, const char *id, char *failure, size_t failure_len,
		     char *err, size_t errlen)
{
	const char *pid[1] = {id};
	PGresult *res = PQexecParams(conn, SQL_MESSAGE, 1, NULL, pid, NULL, NULL, 1);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		snprintf(failure, failure_len, "no such message");
		return 0;
	}
	/* Binary results: text columns are their bytes, NUL-terminated by libpq. */
	struct row row = {PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			  PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 3),
			  (size_t)PQgetlength(res, 0, 3)};
	int rc;
	if (PQgetisnull(res, 0, 3)) {
		snprintf(failure, failure_len, "no stored bytes (record policy %s)", row.policy);
		rc = store_failed(conn, id, failure, err, errlen);
	} else {
		struct mp_message m;
		char why[512];
		if (sorting_parse(row.raw, row.raw_len, &m, why, sizeof(why)) < 0) {
			snprintf(failure, failure_len, "unparseable: %s", why);
			rc = store_failed(conn, id, failure, err, errlen);
		} else {
			rc = process_parsed(pl, conn, id, &row, &m, err, errlen);
			mimeparse_free(&m);
		}
	}
	PQclear(res);
	return rc;
}
