/* inboxsync.h - the configured shared inboxes into mailroom.inboxes. */
#ifndef MAILROOM_WORKER_INBOXSYNC_H
#define MAILROOM_WORKER_INBOXSYNC_H

#include <libpq-fe.h>

#include "conf.h"

/* inboxsync_run - add each address of gateway.shared_inboxes (lower case)
 * to mailroom.inboxes unless it is there; how many were added, or -1 with
 * err filled */
int inboxsync_run(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen);

#endif
