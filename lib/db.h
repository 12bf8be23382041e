/* db.h - small libpq helpers shared by every mailroom binary.
 *
 * Values reach the server only as parameters of PQexecParams; no helper here
 * builds SQL text from values. Errors come back as one line of text in a
 * buffer the caller owns, never with a password in it: a connection string
 * that does not parse is reported without the parts libpq quoted from it.
 */
#ifndef MAILROOM_DB_H
#define MAILROOM_DB_H

#include <stddef.h>

#include <libpq-fe.h>

/* db_connect - open a connection tagged with application_name; NULL with err filled on failure */
PGconn *db_connect(const char *conninfo, const char *application_name, char *err, size_t errlen);
/* db_close - close a connection and clear the caller's pointer */
void db_close(PGconn **connp);
/* db_result_error - describe a failed result (or, when res is NULL, the connection) in one line */
void db_result_error(const PGresult *res, const PGconn *conn, char *err, size_t errlen);
/* db_result_ok - 0 when res has status want, else -1 with err filled; does not clear res */
int db_result_ok(const PGresult *res, ExecStatusType want, const PGconn *conn, char *err, size_t errlen);
/* db_command - run one parameterised statement, discard its result; 0 or -1 with err filled */
int db_command(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
	       size_t errlen);
/* db_query - run one parameterised query returning rows; the caller PQclear()s the result */
PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
		   size_t errlen);

/* One statement of db_batch(): sql with its parameters, or the statement
 * prepared under the name prepared (then sql is unused). want is the
 * status its result must have: PGRES_COMMAND_OK or PGRES_TUPLES_OK. */
struct db_stmt {
	const char *sql;
	const char *prepared;
	int nparams;
	const char *const *params;
	ExecStatusType want;
};
/* db_batch - run n statements (at most DB_BATCH_MAX) in one round trip:
 * libpq's pipeline mode, one sync. A statement's answer that nothing
 * before the next one needs is not waited for alone. results[i] is the
 * result of stmts[i] (the caller PQclear()s them); 0, or -1 with err filled
 * from the first failure and every results[i] NULL. A failure aborts the
 * statements after it, as it aborts the transaction. */
#define DB_BATCH_MAX 8
int db_batch(PGconn *conn, const struct db_stmt *stmts, size_t n, PGresult **results, char *err,
	     size_t errlen);

/* db_array_literal - a PostgreSQL array literal {"a","b"} of items, each
 * quoted and escaped, for a text[] parameter ($1::text[]); malloc'd, NULL
 * when out of memory. NULL items become NULL elements. */
char *db_array_literal(const char *const *items, size_t n);

#endif
