/* learning.c - learn agents' corrections, exactly once.
 *
 * In one transaction: take up to LEARNING_BATCH unlearnt corrections with
 * FOR UPDATE SKIP LOCKED (another worker takes the others), learn them on
 * top of the newest model (learn_store: advisory lock, new version,
 * audited), mark them learnt with that version, show the agent's value on
 * the message (a level correction sets its priority, a class correction
 * its class), audit each correction and recompute the conversations'
 * priority. A class correction trains the "advertising" head when it
 * moves a message into or out of advertising; other class changes teach
 * the model nothing and are only marked learnt.
 */
#include "learning.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "learn.h"
#include "log.h"
#include "scoring.h"

#define SQL_TAKE                                                                                             \
	"SELECT c.id, c.kind, c.old_value, c.new_value, mm.subject, left(mm.text_new, 65536), mm.from_addr," \
	" m.direction, ('bounce' = ANY(mm.flags))::int | ('auto-reply' = ANY(mm.flags))::int << 1"           \
	" | ('out-of-office' = ANY(mm.flags))::int << 2 | ('list' = ANY(mm.flags))::int << 3,"               \
	" mm.class, cardinality(mm.to_addrs), cardinality(mm.cc_addrs),"                                     \
	" (SELECT count(*) FROM mailroom.attachments a WHERE a.message_id = c.message_id),"                  \
	" (SELECT r FROM unnest(m.envelope_to) r WHERE lower(r) = ANY($2::text[]) LIMIT 1)"                  \
	" FROM mailroom.corrections c JOIN mailroom.message_meta mm ON mm.message_id = c.message_id"         \
	" JOIN mailroom.messages m ON m.id = c.message_id"                                                   \
	" WHERE c.learnt_at IS NULL ORDER BY c.id LIMIT $1::int FOR UPDATE OF c SKIP LOCKED"
/* $1 the corrections, $2 the model version (NULL: nothing to learn) */
#define SQL_MARK                                                                                             \
	"WITH d AS (UPDATE mailroom.corrections SET learnt_at = now(), model_version = $2::bigint"           \
	"  WHERE id = ANY($1::bigint[]) RETURNING *),"                                                       \
	" lv AS (UPDATE mailroom.message_meta mm SET priority_level = d.new_value,"                          \
	"  priority_score = CASE d.new_value WHEN 'urgent' THEN 90 WHEN 'high' THEN 68 WHEN 'normal' THEN "  \
	"45 ELSE 15 END,"                                                                                    \
	"  priority_confidence = 1, priority_reasons = COALESCE(mm.priority_reasons, '[]'::jsonb)"           \
	"  || jsonb_build_array(jsonb_build_object('by', 'agent', 'points', 0, 'why', 'set to ' || "         \
	"d.new_value || ' by ' || d.actor))"                                                                 \
	"  FROM d WHERE d.kind = 'level' AND mm.message_id = d.message_id RETURNING mm.conversation_id),"    \
	" cl AS (UPDATE mailroom.message_meta mm SET class = d.new_value FROM d"                             \
	"  WHERE d.kind = 'class' AND mm.message_id = d.message_id RETURNING mm.message_id),"                \
	" au AS (SELECT mailroom.audit_append(d.actor, 'message.correction', 'message:' || d.message_id,"    \
	"  jsonb_build_object(d.kind, d.old_value), jsonb_build_object(d.kind, d.new_value,"                 \
	"  'model_version', d.model_version)) FROM d)"                                                       \
	" SELECT (SELECT count(*) FROM au), (SELECT array_agg(DISTINCT conversation_id) FROM lv)"
#define SQL_CONV                                                                                             \
	"UPDATE mailroom.conversations c SET" SCORING_CONV_SET " FROM (SELECT" SCORING_CONV_PRIORITY         \
	" AS s) p WHERE c.id = $1::bigint"

/* label_of - the label a correction teaches, or NULL when none */
static const char *label_of(const char *kind, const char *old_value, const char *new_value)
{
	if (strcmp(kind, "level") == 0)
		return new_value;
	if (strcmp(new_value, "advertising") == 0)
		return "advertising";
	if (old_value != NULL && strcmp(old_value, "advertising") == 0)
		return "not-advertising";
	return NULL;
}

/* learn_taken - learn the rows of res; 0 with *version (0: nothing learnt), or -1 */
static int learn_taken(PGconn *conn, PGresult *res, long long *version, char *err, size_t errlen)
{
	int n = PQntuples(res);
	struct feature_vector *vs = calloc((size_t)n, sizeof(*vs));
	struct learn_example *ex = calloc((size_t)n, sizeof(*ex));
	size_t k = 0;
	int rc = -1;
	*version = 0;
	if (vs == NULL || ex == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *label =
		    label_of(PQgetvalue(res, i, 1), PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
		             PQgetvalue(res, i, 3));
		if (label == NULL)
			continue;
		struct feature_input fi = {.subject = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
		                           .text = PQgetvalue(res, i, 5),
		                           .from_addr = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6),
		                           .direction = PQgetvalue(res, i, 7),
		                           .flags = (unsigned)strtoul(PQgetvalue(res, i, 8), NULL, 10),
		                           .mail_class = PQgetvalue(res, i, 9),
		                           .n_to = strtoul(PQgetvalue(res, i, 10), NULL, 10),
		                           .n_cc = strtoul(PQgetvalue(res, i, 11), NULL, 10),
		                           .n_attachments = strtoul(PQgetvalue(res, i, 12), NULL, 10),
		                           .thread_messages = -1,
		                           .we_wrote_last = -1,
		                           .sender_messages = -1,
		                           .sender_answered = -1};
		fi.has_list_headers = (fi.flags & 0x8u) != 0;
		features_extract(&fi, &vs[k]);
		const char *inbox = PQgetisnull(res, i, 13) ? NULL : PQgetvalue(res, i, 13);
		ex[k] = (struct learn_example){&vs[k], inbox, label, LEARN_WEIGHT_CORRECTION};
		k++;
	}
	rc = k == 0 ? 0 : learn_store(conn, "worker", ex, k, "corrections", version, err, errlen);
out:
	free(ex);
	free(vs);
	return rc;
}

/* shared_inboxes - the configured shared inboxes as a lower-case text[] literal */
static char *shared_inboxes(const struct mailroom_conf *conf)
{
	char **low = calloc(conf->shared_inboxes.count + 1, sizeof(*low));
	if (low == NULL)
		return NULL;
	for (size_t i = 0; i < conf->shared_inboxes.count; i++) {
		low[i] = strdup(conf->shared_inboxes.items[i]);
		for (char *q = low[i]; q && *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	char *lit = db_array_literal((const char *const *)low, conf->shared_inboxes.count);
	for (size_t i = 0; i < conf->shared_inboxes.count; i++)
		free(low[i]);
	free(low);
	return lit;
}

/* take_learn_mark - the body of one learning transaction; how many taken, or -1 */
static int take_learn_mark(PGconn *conn, const char *inboxes, char *err, size_t errlen)
{
	char batch[16];
	snprintf(batch, sizeof(batch), "%d", LEARNING_BATCH);
	const char *pt[2] = {batch, inboxes};
	PGresult *res = db_query(conn, SQL_TAKE, 2, pt, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	long long version = 0;
	if (n == 0 || learn_taken(conn, res, &version, err, errlen) < 0) {
		PQclear(res);
		return n == 0 ? 0 : -1;
	}
	const char **ids = calloc((size_t)n, sizeof(*ids));
	char *lit = NULL;
	if (ids != NULL) {
		for (int i = 0; i < n; i++)
			ids[i] = PQgetvalue(res, i, 0);
		lit = db_array_literal(ids, (size_t)n);
	}
	free(ids);
	PQclear(res);
	if (lit == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char vers[24];
	snprintf(vers, sizeof(vers), "%lld", version);
	const char *pm[2] = {lit, version ? vers : NULL};
	res = db_query(conn, SQL_MARK, 2, pm, err, errlen);
	free(lit);
	if (res == NULL)
		return -1;
	/* {1,2,NULL}: the conversations whose messages got a level */
	char *convs = strdup(PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
	PQclear(res);
	if (convs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = n;
	for (char *q = convs; *q && rc >= 0;) {
		while (*q && (*q < '0' || *q > '9'))
			q++;
		if (*q == '\0')
			break;
		const char *pc[1] = {q};
		while (*q >= '0' && *q <= '9')
			q++;
		char save = *q;
		*q = '\0';
		if (db_command(conn, SQL_CONV, 1, pc, err, errlen) < 0)
			rc = -1;
		*q = save;
	}
	free(convs);
	if (rc > 0)
		log_info("learnt %d correction%s into model version %lld", n, n == 1 ? "" : "s", version);
	return rc;
}

int learning_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now;
	char *inboxes = shared_inboxes(conf);
	if (inboxes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int n = -1;
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) == 0) {
		n = take_learn_mark(conn, inboxes, err, errlen);
		char e2[256];
		if (db_command(conn, n >= 0 ? "COMMIT" : "ROLLBACK", 0, NULL, n >= 0 ? err : e2,
		               n >= 0 ? errlen : sizeof(e2)) < 0)
			n = -1;
	}
	free(inboxes);
	return n;
}
