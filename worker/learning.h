/* learning.h - the worker's periodic task that learns agents' corrections
 * (mailroom.corrections) into a new model version, each exactly once. */
#ifndef MAILROOM_WORKER_LEARNING_H
#define MAILROOM_WORKER_LEARNING_H

#include <libpq-fe.h>
#include <time.h>

#include "conf.h"

#define LEARNING_BATCH 100 /* corrections learnt per transaction */

/* learning_run - a schedule_task: learn the corrections nobody has learnt
 * yet; how many were taken, or -1 with err set */
int learning_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);

#endif
