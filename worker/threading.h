/* threading.h - conversations over the whole Message-ID graph.
 *
 * Every message-id a message names (its own, In-Reply-To, References) is a
 * key in mailroom.thread_keys pointing at one conversation; strings without
 * an @ are not message-ids and are no keys. A message joins
 * the conversation of any key it shares; when its keys point at several
 * conversations, they are merged into the oldest (the graph connected them).
 * Only when no key is known does the subject decide: a reply or forward
 * ("Re:", "AW:", ...) joins the most recent open-window conversation with
 * the same subject key in which the same correspondent took part.
 * Callers serialise threading with a transaction-level advisory lock.
 */
#ifndef MAILROOM_WORKER_THREADING_H
#define MAILROOM_WORKER_THREADING_H

#include <libpq-fe.h>
#include <stddef.h>

#include "db.h"

struct thread_input {
	const char *message_id;	 /* may be NULL */
	const char *in_reply_to; /* may be NULL */
	char *const *references;
	size_t n_references;
	const char *subject;	 /* may be NULL */
	const char *counterpart; /* the outside correspondent's address, may be NULL */
	const char *received_at; /* timestamptz text */
	long window_days;
};

/* The statement that records a message's keys for its conversation: the
 * caller runs it before the next message is threaded, alone or with
 * others in one round trip (db_batch()). */
struct thread_keys {
	char *literal; /* malloc'd; NULL: the message has no keys */
	char conv[24];
	const char *params[2];
};

/* thread_assign - the conversation id the message belongs to (made when
 * new); its keys to record in keys (thread_keys_stmt(), then
 * thread_keys_free()); 0 < id, or -1 with err */
long long thread_assign(PGconn *conn, const struct thread_input *in, struct thread_keys *keys, char *err,
                        size_t errlen);
/* thread_keys_stmt - the statement recording keys into *st; 0 when there is none to run */
int thread_keys_stmt(struct thread_keys *keys, struct db_stmt *st);
void thread_keys_free(struct thread_keys *keys);

#endif
