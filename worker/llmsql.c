/* llmsql.c - the statements of the LLM's bookkeeping, prepared once per
 * database backend (see llmsql.h). Batches travel as array parameters
 * ({"a","b"} literals of db_array_literal()) and are taken apart by unnest.
 */
#include "llmsql.h"

#include <stdio.h>

#include "db.h"

static const struct {
	const char *sql;
	int nparams;
} stmts[LLMSQL_COUNT] = {
    [LLMSQL_BUDGET_LEFT] = {"SELECT requests FROM mailroom.llm_usage WHERE day = current_date", 0},
    [LLMSQL_USAGE_ROW] = {"INSERT INTO mailroom.llm_usage (day, requests) VALUES (current_date, 0) "
                          "ON CONFLICT (day) DO NOTHING",
                          0},
    /* the row is locked while read: workers sharing the budget never exceed it */
    [LLMSQL_RESERVE] = {"UPDATE mailroom.llm_usage u SET requests = u.requests + g.n FROM "
                        "(SELECT day, least($2::integer, $1::integer - requests) AS n "
                        "FROM mailroom.llm_usage WHERE day = current_date AND requests < $1::integer "
                        "FOR UPDATE) g WHERE u.day = g.day RETURNING g.n",
                        2},
    /* exactly once: a row locked by another worker's claim is skipped */
    [LLMSQL_CLAIM] = {"UPDATE mailroom.llm_requests r SET state = 'sent', attempts = r.attempts + 1, "
                      "sent_at = now(), claimed_by = $2 FROM mailroom.message_meta m "
                      "WHERE m.message_id = r.message_id AND r.message_id IN "
                      "(SELECT message_id FROM mailroom.llm_requests WHERE state = 'pending' "
                      "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1::integer "
                      "FOR UPDATE SKIP LOCKED) "
                      "RETURNING r.message_id, r.attempts, coalesce(m.subject, ''), "
                      "coalesce(m.text_new, ''), coalesce(m.priority_level, '')",
                      2},
    [LLMSQL_HASHES] = {"UPDATE mailroom.llm_requests r SET content_hash = u.h, model = $3 "
                       "FROM unnest($1::uuid[], $2::text[]) AS u(id, h) WHERE r.message_id = u.id",
                       3},
    [LLMSQL_CACHE_GET] = {"SELECT content_hash, answer::text FROM mailroom.llm_cache "
                          "WHERE content_hash = ANY($1::text[])",
                          1},
    [LLMSQL_LOCK] = {"SELECT message_id::text, coalesce(priority_level, ''), "
                     "coalesce(conversation_id::text, '') FROM mailroom.message_meta "
                     "WHERE message_id = ANY($1::uuid[]) ORDER BY message_id FOR UPDATE",
                     1},
    [LLMSQL_META] = {"UPDATE mailroom.message_meta m SET priority_level = u.applied, priority_reasons = "
                     "coalesce(m.priority_reasons, '[]'::jsonb) || "
                     "jsonb_build_array(jsonb_build_object('by', 'llm', 'points', 0, 'why', u.why)) "
                     "FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, applied, why) "
                     "WHERE m.message_id = u.id",
                     3},
    [LLMSQL_CONV] = {"UPDATE mailroom.conversations c SET priority_level = (SELECT m.priority_level "
                     "FROM mailroom.message_meta m WHERE m.conversation_id = c.id "
                     "AND m.priority_level IS NOT NULL "
                     "ORDER BY array_position(ARRAY['low', 'normal', 'high', 'urgent'], "
                     "m.priority_level) DESC LIMIT 1) WHERE c.id IN (SELECT unnest($1::bigint[]))",
                     1},
    /* one audit row per answer, in the batch's order */
    [LLMSQL_AUDIT] = {"SELECT count(mailroom.audit_append('worker', 'message.llm', 'message:' || u.id, "
                      "jsonb_build_object('priority_level', u.before), "
                      "jsonb_build_object('priority_level', u.applied, 'llm', u.answer::jsonb, "
                      "'model', $5::text))) "
                      "FROM (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
                      "WITH ORDINALITY AS x(id, before, applied, answer, ord) ORDER BY ord) u",
                      5},
    [LLMSQL_DONE] = {"UPDATE mailroom.llm_requests r SET state = 'done', answer = u.answer::jsonb, "
                     "applied_level = u.applied, from_cache = u.fc, http_status = u.st, error = NULL, "
                     "done_at = now() "
                     "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::integer[]) "
                     "AS u(id, answer, applied, fc, st) WHERE r.message_id = u.id",
                     5},
    [LLMSQL_CACHE_PUT] = {"INSERT INTO mailroom.llm_cache (content_hash, model, answer) "
                          "SELECT u.h, $2, u.a::jsonb FROM unnest($1::text[], $3::text[]) AS u(h, a) "
                          "ON CONFLICT (content_hash) DO NOTHING",
                          3},
};

/* The connection and backend the statements are prepared on (the worker
 * has one at a time), and which of them are. */
static const PGconn *prepared_on;
static int prepared_pid;
static int prepared[LLMSQL_COUNT];

/* prepare - prepare statement which on conn unless done on its backend;
 * inside a savepoint when a transaction is open, so that a failure does
 * not abort it. 0 or -1 with err. */
static int prepare(PGconn *conn, enum llmsql_stmt which, const char *name, char *err, size_t errlen)
{
	if (prepared_on != conn || prepared_pid != PQbackendPID(conn)) {
		prepared_on = conn;
		prepared_pid = PQbackendPID(conn);
		for (int i = 0; i < LLMSQL_COUNT; i++)
			prepared[i] = 0;
	}
	if (prepared[which])
		return 0;
	int in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;
	if (in_tx && db_command(conn, "SAVEPOINT llm_prepare", 0, NULL, err, errlen) < 0)
		return -1;
	PGresult *res = PQprepare(conn, name, stmts[which].sql, stmts[which].nparams, NULL);
	int rc = db_result_ok(res, PGRES_COMMAND_OK, conn, err, errlen);
	PQclear(res);
	if (in_tx) {
		char rb[256];
		db_command(conn,
		           rc == 0 ? "RELEASE SAVEPOINT llm_prepare" : "ROLLBACK TO SAVEPOINT llm_prepare", 0,
		           NULL, rb, sizeof(rb));
	}
	prepared[which] = rc == 0;
	return rc;
}

PGresult *llmsql_query(PGconn *conn, enum llmsql_stmt which, const char *const *params, char *err,
                       size_t errlen)
{
	char name[32];
	snprintf(name, sizeof(name), "mailroom_llm_%d", (int)which);
	if (prepare(conn, which, name, err, errlen) < 0)
		return NULL;
	PGresult *res = PQexecPrepared(conn, name, stmts[which].nparams, params, NULL, NULL, 0);
	ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		db_result_error(res, conn, err, errlen);
		PQclear(res);
		return NULL;
	}
	return res;
}

int llmsql_command(PGconn *conn, enum llmsql_stmt which, const char *const *params, char *err, size_t errlen)
{
	PGresult *res = llmsql_query(conn, which, params, err, errlen);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}
