/* llmqueue.h - the LLM queue's periodic task (worker/schedule.c).
 *
 * Messages are queued for the LLM as they are stored (worker/pipeline.c,
 * in the same statement as their message_meta row). This task does what
 * that cannot: it gives back requests of a worker that died while waiting
 * for an answer, and after a start or a reload it walks over the last
 * day's messages that are unsure by the configuration now in force (the
 * LLM just enabled, or its threshold raised) and queues them, 1,000 per
 * run, from where an earlier walk for the same or a higher threshold
 * stopped (mailroom.llm_backfill).
 */
#ifndef MAILROOM_WORKER_LLMQUEUE_H
#define MAILROOM_WORKER_LLMQUEUE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"

/* llmqueue_run - the periodic task: rows queued, or -1 with err filled */
int llmqueue_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);

#endif
