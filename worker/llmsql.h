/* llmsql.h - the statements of the LLM's bookkeeping, prepared once per
 * database backend.
 *
 * llm_tick() runs its statements many times a second while answers come
 * in; parsing and planning them anew each time would be wasted work on the
 * worker's only connection. They are prepared on first use on a
 * connection (and again after a reconnect: another backend).
 */
#ifndef MAILROOM_WORKER_LLMSQL_H
#define MAILROOM_WORKER_LLMSQL_H

#include <libpq-fe.h>
#include <stddef.h>

enum llmsql_stmt {
	LLMSQL_BUDGET_LEFT, /* (): today's requests */
	LLMSQL_USAGE_ROW,   /* (): today's usage row, created when missing */
	LLMSQL_RESERVE,     /* (budget, want): how many fit, counted */
	LLMSQL_CLAIM,       /* (limit, worker name): the claimed rows */
	LLMSQL_HASHES,      /* (ids[], hashes[], model) */
	LLMSQL_CACHE_GET,   /* (hashes[]): content_hash, answer */
	LLMSQL_LOCK,        /* (ids[]): message_id, level, conversation_id */
	LLMSQL_META,        /* (ids[], applied[], why[]) */
	LLMSQL_CONV,        /* (conversation ids[]) */
	LLMSQL_AUDIT,       /* (ids[], before[], applied[], answers[], model) */
	LLMSQL_DONE,        /* (ids[], answers[], applied[], from_cache[], status[]) */
	LLMSQL_CACHE_PUT,   /* (hashes[], model, answers[]) */
	LLMSQL_COUNT
};

/* llmsql_query - run a statement with its parameters; the result (rows or
 * none; the caller PQclear()s it), or NULL with err filled */
PGresult *llmsql_query(PGconn *conn, enum llmsql_stmt which, const char *const *params, char *err,
                       size_t errlen);

/* llmsql_command - llmsql_query() for a statement whose rows are not needed; 0 or -1 with err */
int llmsql_command(PGconn *conn, enum llmsql_stmt which, const char *const *params, char *err, size_t errlen);

#endif
