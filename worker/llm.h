/* llm.h - the worker's asynchronous client of an OpenAI-compatible LLM.
 *
 * Requests run on libcurl's multi interface inside the worker's own loop:
 * llm_tick() moves them on without waiting, llm_wait() sleeps on curl's
 * sockets and the database socket together, so a slow endpoint never holds
 * up job processing. The queue is mailroom.llm_requests; every outcome is
 * written there. A circuit breaker (per worker) stops sending after
 * breaker_failures failures in a row for breaker_cooldown_s.
 */
#ifndef MAILROOM_WORKER_LLM_H
#define MAILROOM_WORKER_LLM_H

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"

struct llm;

/* llm_new - a client named name (the claimed_by of its requests); NULL when out of memory */
struct llm *llm_new(const char *name);

/* llm_set_conf - use conf (borrowed; valid until the next call) and read its
 * API key file; 0, or -1 with err filled (the client then sends nothing). */
int llm_set_conf(struct llm *l, const struct mailroom_conf *conf, char *err, size_t errlen);

/* llm_tick - collect finished requests, apply their answers, start new ones
 * up to the concurrency; never blocks on the network. Returns the
 * milliseconds after which it wants to run again. */
long llm_tick(struct llm *l, PGconn *conn);

/* llm_pump - move transfers on without touching the database (between the
 * messages of a batch, while the connection is inside a transaction) */
void llm_pump(struct llm *l);

/* llm_wait - sleep until curl's sockets, the database socket pgfd (-1: none)
 * or a signal wake us, at most ms */
void llm_wait(struct llm *l, int pgfd, long ms);

/* llm_release - give requests in flight back to the queue (before a stop or
 * a reconnect); their answers are not awaited. */
void llm_release(struct llm *l, PGconn *conn);

/* llm_free - release the client and clear the caller's pointer */
void llm_free(struct llm **lp);

#endif
