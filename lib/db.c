/* db.c - connect to PostgreSQL and run parameterised statements.
 *
 * libpq reports errors as several lines ("FATAL: ...\nDETAIL: ..."); mailroom
 * logs one line per event, so every message is folded here. The connection
 * string is given to libpq as the dbname keyword with expand_dbname set, so
 * it may be a key=value string or a postgresql:// URI; application_name comes
 * first in the keyword list, which lets an administrator's own
 * application_name in the connection string win.
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fold_line - append src to dst as one line: line breaks become "; ", quoted text optionally hidden */
static void fold_line(char *dst, size_t len, const char *src, int hide_quoted)
{
	size_t used;
	int in_quote = 0, line_start = 1, pending_sep = 0;

	if (len == 0)
		return;
	used = strlen(dst);
	for (; *src != '\0' && used + 1 < len; src++) {
		char c = *src;
		if (c == '\n' || c == '\r') {
			line_start = 1;
			pending_sep = !in_quote;
			continue;
		}
		if (line_start && (c == ' ' || c == '\t'))
			continue; /* indentation of a continued line */
		line_start = 0;
		if (pending_sep) {
			pending_sep = 0;
			if (used > 0) {
				if (used + 3 >= len)
					break;
				dst[used++] = ';';
				dst[used++] = ' ';
			}
		}
		if (hide_quoted && c == '"' && !in_quote) {
			/* A quoted single character ("=") cannot be a secret: keep it. */
			const char *close = strchr(src + 1, '"');
			if (close != NULL && close - src <= 2 && used + (size_t)(close - src) + 1 < len) {
				for (; src < close; src++)
					dst[used++] = *src;
				dst[used++] = '"';
				continue;
			}
		}
		if (hide_quoted && c == '"') {
			if (!in_quote && used + 4 < len) {
				memcpy(dst + used, "\"...", 4);
				used += 4;
			} else if (in_quote) {
				dst[used++] = '"';
			}
			in_quote = !in_quote;
			continue;
		}
		if (in_quote && hide_quoted)
			continue;
		if (c == '\t')
			c = ' ';
		if (c == ' ' && used > 0 && dst[used - 1] == ' ')
			continue; /* libpq pads "FATAL:  " */
		dst[used++] = c;
	}
	dst[used] = '\0';
	while (used > 0 && (dst[used - 1] == ' ' || dst[used - 1] == ';'))
		dst[--used] = '\0';
}

#define JIT_OFF        "-c jit=off"
#define DB_OPTIONS_MAX 1024

/* db_connect - open a connection; the error never echoes the connection string */
PGconn *db_connect(const char *conninfo, const char *application_name, char *err, size_t errlen)
{
	/* JIT off: mailroom's statements are short, and compiling one whose
	 * estimate crossed jit_above_cost took 28-84 ms, more than running it
	 * (the deadline pass, docs/benchmarks.md). Given as "options", it would
	 * hide PGOPTIONS, so that follows (a later -c wins). The connection
	 * string comes last and is expanded: its own options replace all. */
	char options[DB_OPTIONS_MAX];
	const char *env = getenv("PGOPTIONS");
	if (env != NULL && strlen(env) + sizeof(JIT_OFF) + 1 > sizeof(options)) {
		snprintf(err, errlen, "PGOPTIONS is longer than %zu bytes",
		         sizeof(options) - sizeof(JIT_OFF) - 1);
		return NULL;
	}
	snprintf(options, sizeof(options), "%s%s%s", JIT_OFF, env != NULL ? " " : "", env != NULL ? env : "");
	const char *const keywords[] = {"application_name", "options", "dbname", NULL};
	const char *const values[] = {application_name, options, conninfo, NULL};
	char *parse_err = NULL;
	PQconninfoOption *opts;
	PGconn *conn;

	if (errlen > 0)
		err[0] = '\0';
	/* Parse first: a syntax error message quotes the string, which may hold a password. */
	opts = PQconninfoParse(conninfo, &parse_err);
	if (opts == NULL) {
		snprintf(err, errlen, "invalid connection string: ");
		fold_line(err, errlen, parse_err != NULL ? parse_err : "out of memory", 1);
		PQfreemem(parse_err);
		return NULL;
	}
	PQconninfoFree(opts);

	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: ");
		fold_line(err, errlen, PQerrorMessage(conn), 0);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* db_close - PQfinish and forget */
void db_close(PGconn **connp)
{
	if (*connp != NULL)
		PQfinish(*connp);
	*connp = NULL;
}

/* db_result_error - "primary; detail; hint: ... (SQLSTATE xxxxx)", else the connection's message */
void db_result_error(const PGresult *res, const PGconn *conn, char *err, size_t errlen)
{
	const char *primary = NULL, *detail = NULL, *hint = NULL, *sqlstate = NULL;

	if (errlen == 0)
		return;
	err[0] = '\0';
	if (res != NULL) {
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	}
	if (primary != NULL) {
		fold_line(err, errlen, primary, 0);
		if (detail != NULL) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, "; ");
			fold_line(err, errlen, detail, 0);
		}
		if (hint != NULL) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, "; hint: ");
			fold_line(err, errlen, hint, 0);
		}
		if (sqlstate != NULL) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, " (SQLSTATE %s)", sqlstate);
		}
	} else if (res != NULL && PQresultErrorMessage(res)[0] != '\0') {
		fold_line(err, errlen, PQresultErrorMessage(res), 0);
	} else if (conn != NULL && PQerrorMessage(conn)[0] != '\0') {
		fold_line(err, errlen, PQerrorMessage(conn), 0);
	} else if (res != NULL) {
		snprintf(err, errlen, "unexpected result status %s", PQresStatus(PQresultStatus(res)));
	} else {
		snprintf(err, errlen, "no result from PostgreSQL");
	}
}

/* db_result_ok - check a result's status against the one the caller expects */
int db_result_ok(const PGresult *res, ExecStatusType want, const PGconn *conn, char *err, size_t errlen)
{
	if (res != NULL && PQresultStatus(res) == want)
		return 0;
	db_result_error(res, conn, err, errlen);
	return -1;
}

/* db_command - PQexecParams with text parameters; any row the statement returns is discarded */
int db_command(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
               size_t errlen)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_result_error(res, conn, err, errlen);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* db_query - PQexecParams expecting rows; NULL with err filled otherwise */
PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/* batch_send - queue stmts on conn in pipeline mode; how many were queued */
static size_t batch_send(PGconn *conn, const struct db_stmt *stmts, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const struct db_stmt *s = &stmts[i];
		int ok = s->prepared != NULL
		             ? PQsendQueryPrepared(conn, s->prepared, s->nparams, s->params, NULL, NULL, 0)
		             : PQsendQueryParams(conn, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
		if (!ok)
			break;
	}
	return i;
}

int db_batch(PGconn *conn, const struct db_stmt *stmts, size_t n, PGresult **results, char *err,
             size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (n == 0)
		return 0;
	if (n > DB_BATCH_MAX) {
		snprintf(err, errlen, "a batch of %zu statements (at most %d)", n, DB_BATCH_MAX);
		return -1;
	}
	if (PQenterPipelineMode(conn) != 1) {
		db_result_error(NULL, conn, err, errlen);
		return -1;
	}
	int rc = 0;
	size_t sent = batch_send(conn, stmts, n);
	if (sent < n) {
		db_result_error(NULL, conn, err, errlen);
		rc = -1;
	}
	if (PQpipelineSync(conn) != 1) {
		if (rc == 0)
			db_result_error(NULL, conn, err, errlen);
		rc = -1;
		sent = 0; /* nothing will answer: the connection is gone */
	}
	/* each statement: its result, then NULL; at the end the sync's result */
	for (size_t i = 0; i < sent; i++) {
		PGresult *r = PQgetResult(conn);
		if (r == NULL) {
			if (rc == 0)
				db_result_error(NULL, conn, err, errlen);
			rc = -1;
			break;
		}
		if (rc == 0 && db_result_ok(r, stmts[i].want, conn, err, errlen) < 0)
			rc = -1;
		results[i] = r;
		for (PGresult *extra; (extra = PQgetResult(conn)) != NULL;)
			PQclear(extra);
	}
	PGresult *sync = PQgetResult(conn);
	if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		if (rc == 0)
			db_result_error(sync, conn, err, errlen);
		rc = -1;
	}
	PQclear(sync);
	if (PQexitPipelineMode(conn) != 1 && rc == 0) {
		db_result_error(NULL, conn, err, errlen);
		rc = -1;
	}
	if (rc < 0)
		for (size_t i = 0; i < n; i++) {
			PQclear(results[i]);
			results[i] = NULL;
		}
	return rc;
}

/* db_array_literal - quote every item: the literal is a parameter value, never SQL text */
char *db_array_literal(const char *const *items, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += items[i] ? 2 * strlen(items[i]) + 3 : 5;
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	out[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			out[o++] = ',';
		if (items[i] == NULL) {
			memcpy(out + o, "NULL", 4);
			o += 4;
			continue;
		}
		out[o++] = '"';
		for (const char *v = items[i]; *v; v++) {
			if (*v == '"' || *v == '\\')
				out[o++] = '\\';
			out[o++] = *v;
		}
		out[o++] = '"';
	}
	out[o++] = '}';
	out[o] = '\0';
	return out;
}
