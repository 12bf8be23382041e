/* scoring.c - one message's priority in the worker: history, rules, model.
 *
 * One extra query per message (SQL_HISTORY, prepared) gives the thread's
 * history and the sender's statistics; everything else is in memory.
 * Sender statistics look at no more than SENDER_COUNT_CAP earlier
 * messages, so a prolific sender costs no more than a rare one; how long
 * the conversation has waited comes from conversations.waiting_since.
 */
#include "scoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "learn.h"
#include "log.h"
#include "priority.h"

#define SENDER_COUNT_CAP  "50"
#define HISTORY_STATEMENT "mailroom_scoring_history"

/* $1 conversation (its state before this message), $2 this message's
 * time, $3 its sender. Prepared once per connection: planning it each time
 * would cost PostgreSQL more than running it. */
#define SQL_HISTORY                                                                                          \
	"SELECT (SELECT count(*) FROM mailroom.message_meta WHERE conversation_id = $1::bigint),"            \
	" c.waiting_on = 'them',"                                                                            \
	" c.waiting_on = 'them' AND COALESCE((SELECT left(mm.text_new, 4096) ~ '\\?(\\s|$)'"                 \
	"   FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"                  \
	"   WHERE mm.conversation_id = $1::bigint AND m.direction = 'outbound'"                              \
	"   AND NOT (mm.flags && '{bounce,auto-reply,out-of-office}')"                                       \
	"   ORDER BY m.received_at DESC LIMIT 1), false),"                                                   \
	" CASE WHEN c.waiting_on = 'us' AND c.waiting_since IS NOT NULL"                                     \
	"   THEN GREATEST(0, extract(epoch FROM $2::timestamptz - c.waiting_since))::bigint ELSE 0 END,"     \
	" s.n, s.answered"                                                                                   \
	" FROM mailroom.conversations c, (SELECT count(*) AS n, count(*) FILTER (WHERE EXISTS"               \
	"   (SELECT 1 FROM mailroom.conversations a WHERE a.id = r.conversation_id"                          \
	"   AND a.first_answered_at IS NOT NULL)) AS answered"                                               \
	"   FROM (SELECT conversation_id FROM mailroom.message_meta WHERE from_addr = $3 ORDER BY conversation_id DESC" \
	"   LIMIT " SENDER_COUNT_CAP ") r) s"                                                                \
	" WHERE c.id = $1::bigint"

struct scoring {
	const struct mailroom_conf *conf;
	struct model *model;      /* NULL: none stored yet */
	long long version;        /* of model; 0: none; -1: not looked yet */
	long long level_examples; /* the model's examples of the level:* heads: none, no model opinion */
	struct feature_vector v;
	PGconn *prepared_on; /* the connection (and its backend) SQL_HISTORY is prepared on */
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

/* prepare_history - SQL_HISTORY prepared on conn, once per backend */
static int prepare_history(struct scoring *s, PGconn *conn, char *err, size_t errlen)
{
	if (s->prepared_on == conn && s->prepared_pid == PQbackendPID(conn))
		return 0;
	PGresult *res = PQprepare(conn, HISTORY_STATEMENT, SQL_HISTORY, 3, NULL);
	int rc = db_result_ok(res, PGRES_COMMAND_OK, conn, err, errlen);
	PQclear(res);
	if (rc == 0) {
		s->prepared_on = conn;
		s->prepared_pid = PQbackendPID(conn);
	}
	return rc;
}

/* history - the thread's history and the sender's statistics into fi and pi */
static int history(struct scoring *s, PGconn *conn, long long conv, const char *received_at, const char *from,
                   struct feature_input *fi, struct priority_input *pi, char *err, size_t errlen)
{
	char convs[24];
	snprintf(convs, sizeof(convs), "%lld", conv);
	const char *p[3] = {convs, received_at, from};
	if (prepare_history(s, conn, err, errlen) < 0)
		return -1;
	PGresult *res = PQexecPrepared(conn, HISTORY_STATEMENT, 3, p, NULL, NULL, 0);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1) { /* no such conversation: nothing known */
		PQclear(res);
		return 0;
	}
	fi->thread_messages = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	fi->we_wrote_last = PQgetvalue(res, 0, 1)[0] == 't';
	pi->replies_to_our_question = PQgetvalue(res, 0, 2)[0] == 't';
	pi->waited_seconds = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	fi->sender_messages = from ? (int)strtol(PQgetvalue(res, 0, 4), NULL, 10) : -1;
	fi->sender_answered = from ? (int)strtol(PQgetvalue(res, 0, 5), NULL, 10) : -1;
	PQclear(res);
	return 0;
}

int scoring_message(struct scoring *s, PGconn *conn, long long conv, const char *received_at,
                    const char *direction, const char *const *rcpts, size_t n_rcpts,
                    const struct mp_message *m, const struct classification *c, struct scoring_out *out,
                    char *err, size_t errlen)
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
	if (history(s, conn, conv, received_at, m->from.addr, &fi, &pi, err, errlen) < 0)
		return -1;
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
	snprintf(out->version, sizeof(out->version), "%lld", s->version);
	return 0;
}

void scoring_out_free(struct scoring_out *out)
{
	free(out->reasons);
	out->reasons = NULL;
}
