/* jobs.c - claim and finish jobs; every statement of the job queue is here. */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define SQL_MARK_ATTEMPT                                                                           \
	"UPDATE mailroom.jobs SET attempts = attempts + 1, claimed_by = $1, claimed_at = now()"    \
	" WHERE message_id IN (SELECT message_id FROM mailroom.jobs WHERE state = 'pending'"       \
	"   ORDER BY enqueued_at LIMIT $2 FOR UPDATE SKIP LOCKED)"                                 \
	" RETURNING message_id::text, attempts"
#define SQL_LOCK                                                                                   \
	"SELECT message_id::text FROM mailroom.jobs WHERE message_id = ANY($1::uuid[])"            \
	" AND state = 'pending' FOR UPDATE SKIP LOCKED"
#define SQL_FINISH                                                                                 \
	"UPDATE mailroom.jobs SET state = CASE WHEN $2::text IS NULL THEN 'done' ELSE 'failed' END," \
	" last_error = $2, done_at = now() WHERE message_id = $1::uuid AND state = 'pending'"
/* Session-level: held from counting the attempts until the rows are locked. */
#define SQL_CLAIM_LOCK   "SELECT pg_advisory_lock(hashtext('mailroom.jobs.claim'))"
#define SQL_CLAIM_UNLOCK "SELECT pg_advisory_unlock(hashtext('mailroom.jobs.claim'))"

/* mark_attempt - up to max pending jobs with their attempt counted (committed); how many, or -1 */
static int mark_attempt(PGconn *conn, const char *worker, int max, struct job *jobs, char *err, size_t errlen)
{
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", max);
	const char *params[2] = {worker, limit};
	PGresult *res = db_query(conn, SQL_MARK_ATTEMPT, 2, params, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		snprintf(jobs[i].id, sizeof(jobs[i].id), "%s", PQgetvalue(res, i, 0));
		jobs[i].attempts = (int)strtol(PQgetvalue(res, i, 1), NULL, 10);
	}
	PQclear(res);
	return n;
}

/* lock_rows - inside an open transaction, lock those of jobs[] still pending;
 * the ones another worker holds or finished are removed. How many kept, or -1. */
static int lock_rows(PGconn *conn, struct job *jobs, int n, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	size_t cap = (size_t)n * (UUID_TEXT_LEN + 1) + 3, o = 0;
	char *arr = malloc(cap);
	if (arr == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	arr[o++] = '{';
	for (int i = 0; i < n; i++) {
		if (i)
			arr[o++] = ',';
		memcpy(arr + o, jobs[i].id, UUID_TEXT_LEN);
		o += UUID_TEXT_LEN;
	}
	arr[o++] = '}';
	arr[o] = '\0';
	const char *params[1] = {arr};
	PGresult *res = db_query(conn, SQL_LOCK, 1, params, err, errlen);
	free(arr);
	if (res == NULL)
		return -1;
	int kept = 0;
	for (int i = 0; i < n; i++) {
		int locked = 0;
		for (int r = 0; r < PQntuples(res) && !locked; r++)
			locked = strcmp(PQgetvalue(res, r, 0), jobs[i].id) == 0;
		if (locked)
			jobs[kept++] = jobs[i];
	}
	PQclear(res);
	return kept;
}

int jobs_claim(PGconn *conn, const char *worker, int max, struct job *jobs, char *err, size_t errlen)
{
	char uerr[256];
	if (db_command(conn, SQL_CLAIM_LOCK, 0, NULL, err, errlen) < 0)
		return -1;
	int n = mark_attempt(conn, worker, max, jobs, err, errlen);
	if (n > 0) {
		if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
			n = -1;
		else if ((n = lock_rows(conn, jobs, n, err, errlen)) <= 0)
			db_command(conn, "ROLLBACK", 0, NULL, uerr, sizeof(uerr));
	}
	/* Others may count attempts now: the rows are ours until commit. */
	if (db_command(conn, SQL_CLAIM_UNLOCK, 0, NULL, uerr, sizeof(uerr)) < 0 && n >= 0) {
		snprintf(err, errlen, "releasing the claim lock: %s", uerr);
		if (n > 0)
			db_command(conn, "ROLLBACK", 0, NULL, uerr, sizeof(uerr));
		n = -1;
	}
	return n;
}

int jobs_finish(PGconn *conn, const char *id, const char *failure, char *err, size_t errlen)
{
	const char *params[2] = {id, failure};
	return db_command(conn, SQL_FINISH, 2, params, err, errlen);
}
