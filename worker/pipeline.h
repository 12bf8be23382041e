/* pipeline.h - what the worker does with one message: parse, classify,
 * thread, store. Plain functions over a connection, called inside the
 * transaction that also finishes the message's job.
 */
#ifndef MAILROOM_WORKER_PIPELINE_H
#define MAILROOM_WORKER_PIPELINE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "conf.h"

struct pipeline;

/* pipeline_new - state kept between messages (address book, rules); conf is borrowed */
struct pipeline *pipeline_new(const struct mailroom_conf *conf);
/* pipeline_set_conf - use another configuration from now on (borrowed) */
void pipeline_set_conf(struct pipeline *pl, const struct mailroom_conf *conf);
/* pipeline_refresh - reload the address book and rules when their version changed; 0 or -1 */
int pipeline_refresh(struct pipeline *pl, PGconn *conn, char *err, size_t errlen);
/* pipeline_process - sort message id. 0 when done (failure filled when the
 * message could not be parsed: it is stored with the reason and the job
 * fails); -1 with err on a database error (the caller rolls back). */
int pipeline_process(struct pipeline *pl, PGconn *conn, const char *id, char *failure, size_t failure_len,
		     char *err, size_t errlen);
void pipeline_free(struct pipeline **plp);

#endif
