/* jobs.h - the worker's job queue in PostgreSQL (mailroom.jobs).
 *
 * Claiming is two steps. The first counts an attempt for a batch of
 * pending jobs and commits at once, so that a message that kills its
 * worker is not retried for ever. The second takes the row locks
 * (FOR UPDATE SKIP LOCKED) inside the transaction that will also hold the
 * job's results, and jobs_finish() marks each job done or failed: commit
 * makes result and "done" visible together, a worker that dies before
 * commit leaves the job pending for the next one. Exactly once.
 *
 * Between the two steps a job is pending and unlocked. So that no other
 * worker counts an attempt for it in that gap (and a message is given up
 * without ever having stopped a worker), jobs_claim() holds a session
 * advisory lock across both steps: claims are serialised, processing is
 * not. A worker that dies loses the lock with its connection.
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

/* jobs_claim - up to max pending jobs, oldest first: their attempt counted
 * (committed), then locked inside a transaction this call opens. Returns
 * the number of jobs[] kept; when > 0 the transaction is open for the
 * caller to commit or roll back, otherwise none is. -1 with err. */
int jobs_claim(PGconn *conn, const char *worker, int max, struct job *jobs, char *err, size_t errlen);
/* jobs_finish - mark a locked job done, or failed with a reason; 0 or -1 */
int jobs_finish(PGconn *conn, const char *id, const char *failure, char *err, size_t errlen);

#endif
