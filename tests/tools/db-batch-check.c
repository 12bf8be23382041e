/* db-batch-check.c - db_batch() against a real PostgreSQL (run by
 * tests/integration/91b-db-batch.sh with a connection string): results in
 * order, a failing statement's error, the connection usable afterwards;
 * and the session settings db_connect() gives every connection. TAP on
 * stdout.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "tap.h"

/* value - the first field of a result, or "" */
static const char *value(const PGresult *r)
{
	return r != NULL && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
}

/* clear - PQclear n results */
static void clear(PGresult **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		PQclear(r[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: db-batch-check CONNINFO\n");
		return 2;
	}
	char err[512];
	PGconn *conn = db_connect(argv[1], "db-batch-check", err, sizeof(err));
	if (conn == NULL) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	PGresult *r[DB_BATCH_MAX + 1];

	/* JIT off by default (its compile time exceeded whole queries), unless
	 * the connection string sets its own options */
	PGresult *j = db_query(conn, "SHOW jit", 0, NULL, err, sizeof(err));
	is_str(value(j), "off", "db_connect: JIT off");
	PQclear(j);
	char own[1024];
	snprintf(own, sizeof(own), "%s options='-c jit=on'", argv[1]);
	PGconn *c2 = db_connect(own, "db-batch-check", err, sizeof(err));
	j = c2 != NULL ? db_query(c2, "SHOW jit", 0, NULL, err, sizeof(err)) : NULL;
	is_str(value(j), "on", "db_connect: the connection string's own options win");
	PQclear(j);
	db_close(&c2);
	setenv("PGOPTIONS", "-c statement_timeout=4321", 1);
	c2 = db_connect(argv[1], "db-batch-check", err, sizeof(err));
	j = c2 != NULL ? db_query(c2,
	                          "SELECT current_setting('statement_timeout') || ' ' || "
	                          "current_setting('jit')",
	                          0, NULL, err, sizeof(err))
	               : NULL;
	is_str(value(j), "4321ms off", "db_connect: PGOPTIONS kept beside JIT off");
	PQclear(j);
	db_close(&c2);
	char big[1100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("PGOPTIONS", big, 1);
	c2 = db_connect(argv[1], "db-batch-check", err, sizeof(err));
	ok(c2 == NULL && strstr(err, "PGOPTIONS is longer") != NULL,
	   "db_connect: an overlong PGOPTIONS refused: %s", err);
	db_close(&c2);
	unsetenv("PGOPTIONS");

	/* three statements, prepared and not, in one round trip */
	PGresult *p = PQprepare(conn, "twice", "SELECT $1::int * 2", 1, NULL);
	ok(PQresultStatus(p) == PGRES_COMMAND_OK, "prepared a statement");
	PQclear(p);
	const char *a[1] = {"21"}, *b[1] = {"x"};
	struct db_stmt ok3[3] = {{"SELECT $1::text || 'y'", NULL, 1, b, PGRES_TUPLES_OK},
	                         {NULL, "twice", 1, a, PGRES_TUPLES_OK},
	                         {"CREATE TEMP TABLE t (v int)", NULL, 0, NULL, PGRES_COMMAND_OK}};
	is_int(db_batch(conn, ok3, 3, r, err, sizeof(err)), 0, "three statements in one batch");
	is_str(value(r[0]), "xy", "the first statement's result first");
	is_str(value(r[1]), "42", "the prepared one's second");
	ok(r[2] != NULL && PQresultStatus(r[2]) == PGRES_COMMAND_OK, "the command's third");
	clear(r, 3);
	is_int(PQpipelineStatus(conn), PQ_PIPELINE_OFF, "the connection left pipeline mode");

	/* a failure in the middle of a transaction: its error, nothing after it runs */
	PQclear(PQexec(conn, "BEGIN"));
	const char *one[1] = {"1"}, *two[1] = {"2"};
	struct db_stmt bad[3] = {{"INSERT INTO t VALUES ($1::int)", NULL, 1, one, PGRES_COMMAND_OK},
	                         {"SELECT 1 / 0", NULL, 0, NULL, PGRES_TUPLES_OK},
	                         {"INSERT INTO t VALUES ($1::int)", NULL, 1, two, PGRES_COMMAND_OK}};
	err[0] = '\0';
	is_int(db_batch(conn, bad, 3, r, err, sizeof(err)), -1, "a failing statement fails the batch");
	ok(strstr(err, "division by zero") != NULL, "with its error: %s", err);
	ok(r[0] == NULL && r[1] == NULL && r[2] == NULL, "and no results");
	is_int(PQpipelineStatus(conn), PQ_PIPELINE_OFF, "the connection left pipeline mode");
	is_int(PQtransactionStatus(conn), PQTRANS_INERROR,
	       "the transaction is aborted, as after any failure");
	PQclear(PQexec(conn, "ROLLBACK"));
	PGresult *c = PQexec(conn, "SELECT count(*) FROM t");
	is_str(value(c), "0", "after the rollback the connection answers; nothing was kept");
	PQclear(c);

	/* a result of the wrong kind is a failure too */
	struct db_stmt kind[1] = {{"SELECT 1", NULL, 0, NULL, PGRES_COMMAND_OK}};
	is_int(db_batch(conn, kind, 1, r, err, sizeof(err)), -1, "rows where a command was wanted: refused");

	/* caps */
	struct db_stmt many[DB_BATCH_MAX + 1];
	for (size_t i = 0; i <= DB_BATCH_MAX; i++)
		many[i] = (struct db_stmt){"SELECT 1", NULL, 0, NULL, PGRES_TUPLES_OK};
	is_int(db_batch(conn, many, DB_BATCH_MAX + 1, r, err, sizeof(err)), -1,
	       "more than DB_BATCH_MAX: refused");
	is_int(db_batch(conn, many, DB_BATCH_MAX, r, err, sizeof(err)), 0, "DB_BATCH_MAX statements: run");
	clear(r, DB_BATCH_MAX);
	is_int(db_batch(conn, many, 0, r, err, sizeof(err)), 0, "an empty batch: nothing to do");

	db_close(&conn);
	return done_testing();
}
