/* llmapply.h - write the LLM's outcomes to the database, a batch at a time.
 *
 * Answers collected during one tick (from the endpoint or from the cache)
 * are applied together: a handful of set-based statements per batch instead
 * of several statements per answer, so that the LLM's bookkeeping costs the
 * worker's job loop little even with many answers a second. Should a batch
 * statement fail, the batch is rolled back to its savepoint and applied one
 * answer at a time, so that one bad row fails alone, with its reason.
 */
#ifndef MAILROOM_WORKER_LLMAPPLY_H
#define MAILROOM_WORKER_LLMAPPLY_H

#include <libpq-fe.h>
#include <stddef.h>

#include "llmproto.h"

/* One validated answer waiting to be applied to its message. */
struct llm_answer {
	char id[40];
	char hash[65];
	char *json; /* the answer as stored and cached; malloc'd */
	struct llmproto_answer a;
	int from_cache;
	long http_status;
};

/* The answers of one tick. */
struct llm_batch {
	struct llm_answer *v;
	size_t n, cap;
};

/* llm_batch_add - queue an answer (json is copied); 0, or -1 when out of memory */
int llm_batch_add(struct llm_batch *b, const char *id, const char *hash, const char *json,
                  const struct llmproto_answer *a, int from_cache, long http_status);

/* llm_batch_apply - apply every queued answer inside the caller's transaction
 * (levels one step at most, reasons, conversations, audit rows, request rows,
 * cache), then empty the batch. Answers that cannot be applied end failed
 * with the reason. */
void llm_batch_apply(struct llm_batch *b, PGconn *conn, const char *model);

/* llm_batch_free - release the batch's memory */
void llm_batch_free(struct llm_batch *b);

/* llm_set_state - end a request (failed, skipped) or put it back (pending
 * after delay_s); attempts_back gives back the attempt counted at the claim */
void llm_set_state(PGconn *conn, const char *id, const char *state, const char *error, long delay_s,
                   long http_status, int attempts_back);

#endif
