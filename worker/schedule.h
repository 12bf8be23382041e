/* schedule.h - the worker's periodic tasks: reminders, deadlines, note
 * outcomes and whatever else must happen at a time rather than on a new
 * message.
 *
 * Every worker runs every task; a task makes itself exactly-once in the
 * database (row locks with SKIP LOCKED, a state change in the same
 * transaction as its effect), never by assuming that only one worker runs.
 * A task is called when its interval has passed since its last run, between
 * job batches; it must not block for long (no network waits: it queues).
 */
#ifndef MAILROOM_WORKER_SCHEDULE_H
#define MAILROOM_WORKER_SCHEDULE_H

#include <libpq-fe.h>
#include <time.h>

#include "conf.h"

/* One periodic task: returns how many things it did (fired, sent ...), or
 * -1 after writing why into err; it runs in its own transactions. */
struct schedule_task {
	const char *name;
	long interval_ms;
	int (*run)(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);
};

/* schedule_run_due - run each task whose interval has passed; returns the
 * milliseconds until the next task is due (for the caller's poll). A
 * failing task is logged and retried at its next interval. */
long schedule_run_due(PGconn *conn, const struct mailroom_conf *conf);

/* schedule_reset - forget when tasks last ran (after a reconnect: run all soon) */
void schedule_reset(void);

#endif
