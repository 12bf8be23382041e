/* scoring.c - one message's priority in the worker: history, rules, model.
 *
 * One extra query per message (SQL_HISTORY) gives the thread's history and
 * the sender's statistics; everything else is in memory. Sender statistics
 * are counted up to SENDER_COUNT_CAP rows so a prolific sender costs no
 * more than a rare one.
 */
#include "scoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "learn.h"
#include "log.h"
#include "priority.h"

#define SENDER_COUNT_CAP "1000"

/* $1 conversation, $2 this message's time, $3 its sender */
#define SQL_HISTORY                                                                                          \
	"WITH h AS (SELECT m.direction, m.received_at, left(mm.text_new, 4096) AS text_new"                  \
	"  FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"                   \
	"  WHERE mm.conversation_id = $1::bigint AND m.received_at <= $2::timestamptz"                       \
	"  AND NOT (mm.flags && '{bounce,auto-reply,out-of-office}')),"                                      \
	" last AS (SELECT direction, text_new FROM h ORDER BY received_at DESC LIMIT 1)"                     \
	" SELECT (SELECT count(*) FROM h),"                                                                  \
	" COALESCE((SELECT direction = 'outbound' FROM last), false),"                                       \
	" COALESCE((SELECT direction = 'outbound' AND text_new ~ '\\?(\\s|$)' FROM last), false),"           \
	" COALESCE((SELECT extract(epoch FROM $2::timestamptz - min(received_at))::bigint FROM h"            \
	"   WHERE direction = 'inbound' AND received_at > COALESCE((SELECT max(received_at) FROM h"          \
	"   WHERE direction = 'outbound'), '-infinity')), 0),"                                               \
	" (SELECT count(*) FROM (SELECT 1 FROM mailroom.message_meta WHERE from_addr = $3"                   \
	"   LIMIT " SENDER_COUNT_CAP ") s),"                                                                 \
	" (SELECT count(*) FROM (SELECT 1 FROM mailroom.message_meta sm JOIN mailroom.conversations sc"      \
	"   ON sc.id = sm.conversation_id WHERE sm.from_addr = $3 AND sc.first_answered_at IS NOT NULL"      \
	"   LIMIT " SENDER_COUNT_CAP ") a)"

struct scoring {
	const struct mailroom_conf *conf;
	struct model *model;      /* NULL: none stored yet */
	long long version;        /* of model; 0: none; -1: not looked yet */
	long long level_examples; /* the model's examples of the level:* heads: none, no model opinion */
	struct feature_vector v;
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

/* history - the thread's history and the sender's statistics into fi and pi */
static int history(PGconn *conn, long long conv, const char *received_at, const char *from,
                   struct feature_input *fi, struct priority_input *pi, char *err, size_t errlen)
{
	char convs[24];
	snprintf(convs, sizeof(convs), "%lld", conv);
	const char *p[3] = {convs, received_at, from};
	PGresult *res = db_query(conn, SQL_HISTORY, 3, p, err, errlen);
	if (res == NULL)
		return -1;
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
	if (history(conn, conv, received_at, m->from.addr, &fi, &pi, err, errlen) < 0)
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
		for (int i = 0; i < PRIORITY_LEVELS; i++)
			levels[i] = model_predict(s->model, heads[i], inbox, &s->v);
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
