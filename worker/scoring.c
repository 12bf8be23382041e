/* scoring.c - one message's priority in the worker: history, rules, model.
 *
 * One statement per message (SQL_LOOKUP, prepared; the worker sends it in
 * one round trip with the thread-key insert before it) counts the message for
 * its sender and reads the thread's history and the sender's statistics,
 * which the worker keeps up to date as it goes (schema/009: sender_stats,
 * conversations.message_count and we_asked, written by the conversation's
 * state update in worker/pipeline.c); everything else is in memory. How
 * long the conversation has waited comes from conversations.waiting_since.
 */
#include "scoring.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "learn.h"
#include "log.h"
#include "priority.h"

#define LOOKUP_STATEMENT "mailroom_scoring_lookup"
#define QUESTION_SCAN    4096 /* bytes of our text looked at for a question */

/* $1 conversation (its state before this message), $2 this message's
 * time, $3 its sender. Counts the message for its sender and returns what
 * scoring needs: two primary-key lookups, no scan (schema/009). The
 * sender's figures are those before this message. Prepared once per
 * connection; its plan is the same generic or custom. */
#define SQL_LOOKUP                                                                                           \
	"WITH s AS (INSERT INTO mailroom.sender_stats AS t (addr, messages) SELECT $3::text, 1"              \
	"   WHERE length($3::text) BETWEEN 1 AND 320"                                                        \
	"   ON CONFLICT (addr) DO UPDATE SET messages = t.messages + 1 RETURNING t.messages - 1 AS n, "      \
	"t.answered)"                                                                                        \
	" SELECT c.message_count, c.waiting_on = 'them', c.waiting_on = 'them' AND c.we_asked,"              \
	" CASE WHEN c.waiting_on = 'us' AND c.waiting_since IS NOT NULL"                                     \
	"   THEN GREATEST(0, extract(epoch FROM $2::timestamptz - c.waiting_since))::bigint ELSE 0 END,"     \
	" (SELECT n FROM s), (SELECT answered FROM s)"                                                       \
	" FROM mailroom.conversations c WHERE c.id = $1::bigint"

struct scoring {
	const struct mailroom_conf *conf;
	struct model *model;      /* NULL: none stored yet */
	long long version;        /* of model; 0: none; -1: not looked yet */
	long long level_examples; /* the model's examples of the level:* heads: none, no model opinion */
	struct feature_vector v;
	PGconn *prepared_on; /* the connection (and its backend) SQL_LOOKUP is prepared on */
	int prepared_pid;
};

struct scoring *scoring_new(const struct mailroom_conf *conf)
{
	struct scoring *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->conf = conf;
	s->version = -1;
	return s;
}

void scoring_set_conf(struct scoring *s, const struct mailroom_conf *conf)
{
	s->conf = conf;
}

void scoring_free(struct scoring **sp)
{
	struct scoring *s = *sp;
	if (s == NULL)
		return;
	model_free(&s->model);
	free(s);
	*sp = NULL;
}

int scoring_refresh(struct scoring *s, PGconn *conn, char *err, size_t errlen)
{
	struct model *m = NULL;
	long long v = 0;
	int rc = learn_newest(conn, s->version, &m, &v, err, errlen);
	if (rc <= 0)
		return rc;
	model_free(&s->model);
	s->model = m;
	s->version = v;
	s->level_examples = m ? model_examples(m, "level:urgent") : 0;
	if (v == 0)
		log_info("no model stored yet: priority from rules alone");
	else
		log_info("model version %lld loaded", v);
	return 0;
}

/* prepare_lookup - SQL_LOOKUP prepared on conn, once per backend */
static int prepare_lookup(struct scoring *s, PGconn *conn, char *err, size_t errlen)
{
	if (s->prepared_on == conn && s->prepared_pid == PQbackendPID(conn))
		return 0;
	PGresult *res = PQprepare(conn, LOOKUP_STATEMENT, SQL_LOOKUP, 3, NULL);
	int rc = db_result_ok(res, PGRES_COMMAND_OK, conn, err, errlen);
	PQclear(res);
	if (rc == 0) {
		s->prepared_on = conn;
		s->prepared_pid = PQbackendPID(conn);
	}
	return rc;
}

/* count_of - a bigint count as an int, capped */
static int count_of(const char *v)
{
	long long n = strtoll(v, NULL, 10);
	return n > INT_MAX ? INT_MAX : n < 0 ? 0 : (int)n;
}

/* asks_question - text has a "?" followed by a space or its end in its first QUESTION_SCAN bytes, as
 * schema/009's backfill decides it */
static int asks_question(const char *text)
{
	if (text == NULL)
		return 0;
	size_t n = strnlen(text, QUESTION_SCAN);
	for (size_t i = 0; i < n; i++)
		if (text[i] == '?' && (i + 1 == n || isspace((unsigned char)text[i + 1])))
			return 1;
	return 0;
}

int scoring_lookup_stmt(struct scoring *s, PGconn *conn, long long conv, const char *received_at,
                        const char *from, struct scoring_lookup *lk, struct db_stmt *st, char *err,
                        size_t errlen)
{
	if (prepare_lookup(s, conn, err, errlen) < 0)
		return -1;
	snprintf(lk->conv, sizeof(lk->conv), "%lld", conv);
	lk->params[0] = lk->conv;
	lk->params[1] = received_at;
	lk->params[2] = from;
	*st = (struct db_stmt){SQL_LOOKUP, LOOKUP_STATEMENT, 3, lk->params, PGRES_TUPLES_OK};
	return 0;
}

/* history - the thread's history and the sender's statistics from the lookup's result into fi and pi */
static void history(const PGresult *res, struct feature_input *fi, struct priority_input *pi)
{
	if (PQntuples(res) != 1) /* no such conversation: nothing known */
		return;
	fi->thread_messages = count_of(PQgetvalue(res, 0, 0));
	fi->we_wrote_last = PQgetvalue(res, 0, 1)[0] == 't';
	pi->replies_to_our_question = PQgetvalue(res, 0, 2)[0] == 't';
	pi->waited_seconds = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	fi->sender_messages = PQgetisnull(res, 0, 4) ? -1 : count_of(PQgetvalue(res, 0, 4));
	fi->sender_answered = PQgetisnull(res, 0, 5) ? -1 : count_of(PQgetvalue(res, 0, 5));
}

int scoring_message(struct scoring *s, const PGresult *lookup, const char *direction,
                    const char *const *rcpts, size_t n_rcpts, const struct mp_message *m,
                    const struct classification *c, struct scoring_out *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct feature_input fi;
	learn_features(m, c, direction, &fi);
	struct priority_input pi = {.subject = m->subject,
	                            .text = m->text_new,
	                            .class = c->class,
	                            .flags = c->flags,
	                            .vip = c->vip,
	                            .sent_at = m->date,
	                            .rule_priority = c->rules.priority,
	                            .rule_id = c->rules.priority_rule};
	history(lookup, &fi, &pi);
	if (strcmp(direction, "inbound") != 0) /* our own mail has not waited, nor replies to us */
		pi.waited_seconds = pi.replies_to_our_question = 0;
	double levels[PRIORITY_LEVELS];
	if (s->model != NULL && s->level_examples > 0) {
		static const char *const heads[PRIORITY_LEVELS] = {"level:low", "level:normal", "level:high",
		                                                   "level:urgent"};
		const char *inbox = learn_inbox((const char *const *)s->conf->shared_inboxes.items,
		                                s->conf->shared_inboxes.count, rcpts, n_rcpts);
		features_extract(&fi, &s->v);
		model_predict_heads(s->model, heads, PRIORITY_LEVELS, inbox, &s->v, levels);
		pi.model_levels = levels;
		pi.model_version = s->version;
	}
	struct priority_result r;
	if (priority_score(&pi, &r, err, errlen) < 0)
		return -1;
	out->reasons = priority_reasons_json(&r);
	if (out->reasons == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(out->score, sizeof(out->score), "%d", r.score);
	snprintf(out->level, sizeof(out->level), "%s", priority_level_name(r.level));
	snprintf(out->confidence, sizeof(out->confidence), "%.3f", r.confidence);
	out->has_version = pi.model_levels != NULL && pi.rule_id == 0;
	out->asks = strcmp(direction, "outbound") == 0 && asks_question(m->text_new) ? "true" : "false";
	snprintf(out->version, sizeof(out->version), "%lld", s->version);
	/* compared as stored (rounded), as the LLM's backfill compares it */
	out->ask_llm =
	    s->conf->llm_enabled && strtod(out->confidence, NULL) < s->conf->llm_ask_below_confidence;
	return 0;
}

void scoring_out_free(struct scoring_out *out)
{
	free(out->reasons);
	out->reasons = NULL;
}
