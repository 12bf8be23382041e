/* jobs.h - the worker's job queue in PostgreSQL (mailroom.jobs).
 *
 * Claiming is two steps. jobs_mark_attempt() counts an attempt for a batch
 * of pending jobs and commits at once, so that a message that kills its
 * worker is not retried for ever. jobs_lock() then takes the row locks
 * (FOR UPDATE SKIP LOCKED) inside the transaction that will also hold the
 * job's results and jobs_finish() marks each job done or failed: commit
 * makes result and "done" visible together, a worker that dies before
 * commit leaves the job pending for the next one. Exactly once.
 */
#ifndef MAILROOM_WORKER_JOBS_H
#define MAILROOM_WORKER_JOBS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "uuid.h"

struct job {
	char id[UUID_TEXT_LEN + 1]; /* the message's id */
	int attempts;
};

/* jobs_mark_attempt - up to max pending jobs, oldest first, with their
 * attempt counted (committed); the number found, or -1 with err */
int jobs_mark_attempt(PGconn *conn, const char *worker, int max, struct job *jobs, char *err, size_t errlen);
/* jobs_lock - inside an open transaction, lock those of jobs[] still
 * pending; the ones another worker holds or finished are removed from the
 * array. The number kept, or -1 with err. */
int jobs_lock(PGconn *conn, struct job *jobs, int n, char *err, size_t errlen);
/* jobs_finish - mark a locked job done, or failed with a reason; 0 or -1 */
int jobs_finish(PGconn *conn, const char *id, const char *failure, char *err, size_t errlen);

#endif
