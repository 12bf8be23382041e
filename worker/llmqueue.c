/* llmqueue.c - give back abandoned LLM requests; queue the backlog once
 * (see llmqueue.h).
 *
 * The walk used to be the only way into the queue, and it read every
 * message of the last day each time (its test of the confidence needs the
 * row): about 0.35 s of PostgreSQL's CPU every 2 s at 400,000 messages a
 * day. Now it walks in parsed_at order from where the last walk for the
 * same or a higher threshold stopped (mailroom.llm_backfill, schema/033),
 * and once it has caught up it only moves that mark on.
 */
#include "llmqueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define BACKFILL_ROWS    1000 /* messages queued per run at most */
#define BACKFILL_STR_(x) #x
#define BACKFILL_STR(x)  BACKFILL_STR_(x)
#define BACKFILL_LIMIT   BACKFILL_STR(BACKFILL_ROWS)

/* $1 the threshold, $2 the walk's position (parsed_at, -infinity at its
 * start). Rows at the position itself are looked at again: a batch's
 * messages share their parsed_at, and a run may have stopped inside one;
 * NOT EXISTS leaves out those already queued. */
#define SQL_BACKFILL                                                                                         \
	"WITH c AS (SELECT m.message_id, m.parsed_at FROM mailroom.message_meta m"                           \
	"   WHERE m.parsed_at >= greatest(now() - interval '1 day', $2::timestamptz)"                        \
	"   AND m.priority_confidence < $1::real"                                                            \
	"   AND NOT EXISTS (SELECT 1 FROM mailroom.llm_requests q WHERE q.message_id = m.message_id)"        \
	"   ORDER BY m.parsed_at LIMIT " BACKFILL_LIMIT "),"                                                 \
	" i AS (INSERT INTO mailroom.llm_requests (message_id) SELECT message_id FROM c"                     \
	"   ON CONFLICT (message_id) DO NOTHING RETURNING 1)"                                                \
	" SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM c), (SELECT max(parsed_at) FROM c)::text"

/* A worker that died after claiming: its rows go back well after any timeout ($1 ms). */
#define SQL_RECLAIM                                                                                          \
	"UPDATE mailroom.llm_requests SET state = 'pending',"                                                \
	" error = 'the worker that sent it stopped before the answer came'"                                  \
	" WHERE state = 'sent' AND sent_at < now() - $1::bigint * interval '1 millisecond'"

/* Where an earlier walk stopped, if it covers threshold $1 and the last day. */
#define SQL_MARK_GET                                                                                         \
	"SELECT walked_to::text FROM mailroom.llm_backfill"                                                  \
	" WHERE threshold >= $1::real AND walked_to > now() - interval '1 day'"
/* Caught up: every message parsed before now that is below $1 is queued. */
#define SQL_MARK_SET                                                                                         \
	"INSERT INTO mailroom.llm_backfill (threshold, walked_to) VALUES ($1::real, now())"                  \
	" ON CONFLICT (only_row) DO UPDATE SET threshold = $1::real, walked_to = now()"

/* The walk for the configuration in force: one per process. */
static struct {
	const struct mailroom_conf *conf; /* the walk is for this configuration */
	char position[64];                /* parsed_at reached; "" not looked up yet */
	int done;
} walk;

/* start - where the walk begins: an earlier walk's mark, or the day's start; 0 or -1 */
static int start(PGconn *conn, const char *thr, char *err, size_t errlen)
{
	const char *p[1] = {thr};
	PGresult *r = db_query(conn, SQL_MARK_GET, 1, p, err, errlen);
	if (r == NULL)
		return -1;
	snprintf(walk.position, sizeof(walk.position), "%s",
	         PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "-infinity");
	PQclear(r);
	return 0;
}

/* backfill - one run of the walk, or the mark moved on once it is done: rows queued, or -1 */
static int backfill(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	char thr[32];
	snprintf(thr, sizeof(thr), "%.6f", conf->llm_ask_below_confidence);
	const char *pm[1] = {thr};
	if (walk.conf != conf) {
		walk.conf = conf;
		walk.done = 0;
		walk.position[0] = '\0';
	}
	if (walk.done) /* messages stored since were queued by their INSERT */
		return db_command(conn, SQL_MARK_SET, 1, pm, err, errlen);
	if (walk.position[0] == '\0' && start(conn, thr, err, errlen) < 0)
		return -1;
	const char *p[2] = {thr, walk.position};
	PGresult *r = db_query(conn, SQL_BACKFILL, 2, p, err, errlen);
	if (r == NULL)
		return -1;
	int queued = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	long seen = strtol(PQgetvalue(r, 0, 1), NULL, 10);
	if (seen < BACKFILL_ROWS)
		walk.done = 1;
	else
		snprintf(walk.position, sizeof(walk.position), "%s", PQgetvalue(r, 0, 2));
	PQclear(r);
	if (walk.done && db_command(conn, SQL_MARK_SET, 1, pm, err, errlen) < 0)
		return -1;
	return queued;
}

int llmqueue_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now;
	if (!conf->llm_enabled)
		return 0;
	char stale[32];
	snprintf(stale, sizeof(stale), "%lld", conf->llm_timeout_ms + conf->llm_connect_timeout_ms + 60000);
	const char *ps[] = {stale};
	if (db_command(conn, SQL_RECLAIM, 1, ps, err, errlen) < 0)
		return -1;
	return backfill(conn, conf, err, errlen);
}
