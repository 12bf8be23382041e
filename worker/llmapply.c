/* llmapply.c - write the LLM's outcomes to the database, a batch at a time
 * (see llmapply.h). A batch of answers costs one SELECT ... FOR UPDATE of
 * the messages, one UPDATE each of message_meta, conversations and
 * llm_requests, one select of audit_append over the batch and one INSERT
 * into the cache, whatever its size; the values travel as array parameters.
 */
#include "llmapply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "llmsql.h"
#include "log.h"

/* What a batch learns and computes per answer. */
struct row {
	char before[16];
	char conv[32];
	char why[1200];
	char status[16];
	const char *applied; /* NULL: the message has no level to move */
};

int llm_batch_add(struct llm_batch *b, const char *id, const char *hash, const char *json,
                  const struct llmproto_answer *a, int from_cache, long http_status)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct llm_answer *v = realloc(b->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		b->v = v;
		b->cap = cap;
	}
	struct llm_answer *e = &b->v[b->n];
	memset(e, 0, sizeof(*e));
	e->json = strdup(json);
	if (e->json == NULL)
		return -1;
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	e->a = *a;
	e->from_cache = from_cache;
	e->http_status = http_status;
	b->n++;
	return 0;
}

/* batch_clear - forget the queued answers, keep the storage */
static void batch_clear(struct llm_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].json);
	b->n = 0;
}

void llm_batch_free(struct llm_batch *b)
{
	batch_clear(b);
	free(b->v);
	b->v = NULL;
	b->cap = 0;
}

void llm_set_state(PGconn *conn, const char *id, const char *state, const char *error, long delay_s,
                   long http_status, int attempts_back)
{
	char err[512], delay[32], status[16], back[8];
	snprintf(delay, sizeof(delay), "%ld", delay_s);
	snprintf(status, sizeof(status), "%ld", http_status);
	snprintf(back, sizeof(back), "%d", attempts_back);
	const char *p[] = {id, state, error, delay, http_status ? status : NULL, back};
	if (db_command(conn,
	               "UPDATE mailroom.llm_requests SET state = $2, error = $3, "
	               "next_attempt_at = now() + $4::bigint * interval '1 second', "
	               "http_status = coalesce($5::integer, http_status), attempts = attempts - $6::integer, "
	               "done_at = CASE WHEN $2 IN ('failed', 'skipped') THEN now() END "
	               "WHERE message_id = $1",
	               6, p, err, sizeof(err)) < 0)
		log_warnx("llm: message %s: recording %s: %s", id, state, err);
}

/* array_param - the array literal of n items, or NULL (out of memory) with err */
static char *array_param(const char *const *items, size_t n, char *err, size_t errlen)
{
	char *s = db_array_literal(items, n);
	if (s == NULL)
		snprintf(err, errlen, "out of memory");
	return s;
}

/* lock_rows - lock the batch's messages; fill each row's level before and
 * conversation, and the level to apply; 0 or -1 with err */
static int lock_rows(PGconn *conn, const struct llm_batch *b, struct row *rows, const char *ids, char *err,
                     size_t errlen)
{
	const char *p[] = {ids};
	PGresult *r = llmsql_query(conn, LLMSQL_LOCK, p, err, errlen);
	if (r == NULL)
		return -1;
	for (int k = 0; k < PQntuples(r); k++)
		for (size_t i = 0; i < b->n; i++)
			if (strcmp(b->v[i].id, PQgetvalue(r, k, 0)) == 0) {
				snprintf(rows[i].before, sizeof(rows[i].before), "%s", PQgetvalue(r, k, 1));
				snprintf(rows[i].conv, sizeof(rows[i].conv), "%s", PQgetvalue(r, k, 2));
			}
	PQclear(r);
	for (size_t i = 0; i < b->n; i++) {
		const struct llm_answer *e = &b->v[i];
		rows[i].applied = llmproto_cap_level(rows[i].before, e->a.level);
		snprintf(rows[i].why, sizeof(rows[i].why), "LLM suggests %s (class %s, confidence %.2f): %s",
		         e->a.level, e->a.class, e->a.confidence, e->a.reason);
		snprintf(rows[i].status, sizeof(rows[i].status), "%ld", e->http_status);
	}
	return 0;
}

/* Columns of the applicable answers, as arrays for the batch statements. */
enum { C_ID, C_BEFORE, C_APPLIED, C_WHY, C_JSON, C_FC, C_ST, C_CONV, C_HASH, C_CJSON, NCOLS };

/* run_batch - the batch statements over the answers that can be applied;
 * 0 or -1 with err */
static int run_batch(PGconn *conn, const struct llm_batch *b, const struct row *rows, const char *model,
                     char *err, size_t errlen)
{
	size_t n = b->n, m = 0, nconv = 0, ncache = 0;
	const char **col = calloc(NCOLS * (n ? n : 1), sizeof(*col));
	char *lit[NCOLS] = {0};
	int rc = -1;
	if (col == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct llm_answer *e = &b->v[i];
		if (rows[i].applied == NULL)
			continue;
		col[C_ID * n + m] = e->id;
		col[C_BEFORE * n + m] = rows[i].before;
		col[C_APPLIED * n + m] = rows[i].applied;
		col[C_WHY * n + m] = rows[i].why;
		col[C_JSON * n + m] = e->json;
		col[C_FC * n + m] = e->from_cache ? "true" : "false";
		col[C_ST * n + m] = e->http_status ? rows[i].status : NULL;
		m++;
		if (rows[i].conv[0] != '\0')
			col[C_CONV * n + nconv++] = rows[i].conv;
		if (!e->from_cache) {
			col[C_HASH * n + ncache] = e->hash;
			col[C_CJSON * n + ncache++] = e->json;
		}
	}
	if (m == 0) {
		free(col);
		return 0;
	}
	size_t len[NCOLS] = {m, m, m, m, m, m, m, nconv, ncache, ncache};
	for (int c = 0; c < NCOLS; c++)
		if ((lit[c] = array_param(col + c * n, len[c], err, errlen)) == NULL)
			goto out;
	const char *pmeta[] = {lit[C_ID], lit[C_APPLIED], lit[C_WHY]};
	const char *pconv[] = {lit[C_CONV]};
	const char *paudit[] = {lit[C_ID], lit[C_BEFORE], lit[C_APPLIED], lit[C_JSON], model};
	const char *preq[] = {lit[C_ID], lit[C_JSON], lit[C_APPLIED], lit[C_FC], lit[C_ST]};
	const char *pcache[] = {lit[C_HASH], model, lit[C_CJSON]};
	if (llmsql_command(conn, LLMSQL_META, pmeta, err, errlen) < 0 ||
	    (nconv > 0 && llmsql_command(conn, LLMSQL_CONV, pconv, err, errlen) < 0) ||
	    llmsql_command(conn, LLMSQL_AUDIT, paudit, err, errlen) < 0 ||
	    llmsql_command(conn, LLMSQL_DONE, preq, err, errlen) < 0 ||
	    (ncache > 0 && llmsql_command(conn, LLMSQL_CACHE_PUT, pcache, err, errlen) < 0))
		goto out;
	rc = 0;
out:
	for (int c = 0; c < NCOLS; c++)
		free(lit[c]);
	free(col);
	return rc;
}

/* apply_batch - lock, then apply in one go inside a savepoint; 0, or -1
 * with err (rolled back to the savepoint) */
static int apply_batch(PGconn *conn, const struct llm_batch *b, struct row *rows, const char *model,
                       char *err, size_t errlen)
{
	const char **ids = calloc(b->n, sizeof(*ids));
	char *lit = NULL;
	if (ids == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->n; i++)
		ids[i] = b->v[i].id;
	lit = array_param(ids, b->n, err, errlen);
	free(ids);
	if (lit == NULL)
		return -1;
	int rc = db_command(conn, "SAVEPOINT llm_batch", 0, NULL, err, errlen);
	if (rc == 0 && (lock_rows(conn, b, rows, lit, err, errlen) < 0 ||
	                run_batch(conn, b, rows, model, err, errlen) < 0 ||
	                db_command(conn, "RELEASE SAVEPOINT llm_batch", 0, NULL, err, errlen) < 0)) {
		char rb[256];
		db_command(conn, "ROLLBACK TO SAVEPOINT llm_batch", 0, NULL, rb, sizeof(rb));
		db_command(conn, "RELEASE SAVEPOINT llm_batch", 0, NULL, rb, sizeof(rb));
		rc = -1;
	}
	free(lit);
	return rc;
}

/* apply_alone - the slow path after a failed batch: one answer in a
 * batch of its own, so that only a bad row fails */
static void apply_alone(PGconn *conn, const struct llm_answer *e, const char *model)
{
	struct llm_answer copy = *e; /* shares e's json, which the caller frees */
	struct llm_batch one = {.v = &copy, .n = 1, .cap = 1};
	struct row row;
	char err[1024] = "";
	memset(&row, 0, sizeof(row));
	int rc = apply_batch(conn, &one, &row, model, err, sizeof(err));
	if (rc == 0 && row.applied != NULL) {
		log_info("llm: message %s: %s -> %s (suggested %s)%s", e->id, row.before, row.applied,
		         e->a.level, e->from_cache ? " from the cache" : "");
		return;
	}
	if (rc == 0)
		snprintf(err, sizeof(err), "the message has no priority level to move");
	log_warnx("llm: message %s: applying the answer: %s", e->id, err);
	llm_set_state(conn, e->id, "failed", err, 0, e->http_status, 0);
}

void llm_batch_apply(struct llm_batch *b, PGconn *conn, const char *model)
{
	if (b->n == 0)
		return;
	char err[1024];
	struct row *rows = calloc(b->n, sizeof(*rows));
	if (rows != NULL && apply_batch(conn, b, rows, model, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < b->n; i++) {
			const struct llm_answer *e = &b->v[i];
			if (rows[i].applied != NULL) {
				log_info("llm: message %s: %s -> %s (suggested %s)%s", e->id, rows[i].before,
				         rows[i].applied, e->a.level, e->from_cache ? " from the cache" : "");
				continue;
			}
			log_warnx(
			    "llm: message %s: applying the answer: the message has no priority level to move",
			    e->id);
			llm_set_state(conn, e->id, "failed", "the message has no priority level to move", 0,
			              e->http_status, 0);
		}
	} else {
		if (rows != NULL)
			log_warnx("llm: applying %zu answers together: %s; one by one", b->n, err);
		for (size_t i = 0; i < b->n; i++)
			apply_alone(conn, &b->v[i], model);
	}
	free(rows);
	batch_clear(b);
}
