/* reminders.h - the worker's periodic tasks for reminders, notification
 * mail and note outcomes (rows of worker/schedule.c's task table). */
#ifndef MAILROOM_WORKER_REMINDERS_H
#define MAILROOM_WORKER_REMINDERS_H

#include <libpq-fe.h>
#include <time.h>

#include "conf.h"

/* reminders_fire_due - fire due reminders exactly once (notification, audit, outbox row) */
int reminders_fire_due(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);
/* outbox_send_due - send queued notification mail through Postfix; retry with backoff */
int outbox_send_due(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen);
/* notes_classify_recent - give recent phone and call notes their outcome */
int notes_classify_recent(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err,
                          size_t errlen);

#endif
