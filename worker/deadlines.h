/* deadlines.h - the worker's deadline task: open response deadlines and
 * follow-ups, close them when answered, fire warnings, breaches and
 * follow-ups exactly once (docs/deadlines.md).
 */
#ifndef MAILROOM_WORKER_DEADLINES_H
#define MAILROOM_WORKER_DEADLINES_H

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"

/* deadlines_run - one pass of the schedule task: how many deadlines it
 * opened, closed or fired, or -1 with err. Each change is its own
 * statement (its own transaction): the state change, its event and its
 * audit row commit together or not at all. */
int deadlines_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);

#endif
