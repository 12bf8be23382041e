/* learn.h - the one path by which the local model learns: take the newest
 * stored version, learn examples on top of it, store the result as a new
 * version and audit it.
 *
 * Agents' corrections (the worker's learning task) and `mailroomctl learn`
 * both come through learn_store(), so that a model version always says what
 * it was learnt from. Concurrent learners are serialised by a transaction
 * advisory lock (LEARN_LOCK_KEY) taken before the newest version is read:
 * the second learner waits, then reads the version the first one stored,
 * so no update is lost.
 *
 * Labels: a level ("urgent", "high", "normal", "low") trains all four
 * "level:*" heads (1 for its own, 0 for the three others);
 * "advertising" / "not-advertising" train the "advertising" head.
 */
#ifndef MAILROOM_LEARN_H
#define MAILROOM_LEARN_H

#include <libpq-fe.h>
#include <stddef.h>

#include "classify.h"
#include "mimeparse.h"
#include "model.h"
#include "msgfeatures.h"

#define LEARN_LOCK_KEY          7406202611LL /* pg_advisory_xact_lock key of model updates */
#define LEARN_WEIGHT_CORRECTION 5.0          /* an agent's correction counts this many examples */
#define LEARN_BLOB_MAX          (256u << 20) /* a stored model larger than this is refused */

struct learn_example {
	const struct feature_vector *v;
	const char *inbox; /* shared inbox the message came to; NULL: global only */
	const char *label; /* see above */
	double weight;
};

/* learn_label_valid - 1 when label is one learn_store() knows */
int learn_label_valid(const char *label);

/* learn_newest - the newest stored model into *m (NULL and version 0 when
 * none is stored yet) if its version differs from have; 1 when loaded, 0
 * when have is the newest, -1 with err set */
int learn_newest(PGconn *conn, long long have, struct model **m, long long *version, char *err,
                 size_t errlen);

/* learn_store - in the caller's transaction: lock, learn ex[0..n) on top of
 * the newest version, store it with note, audit it as actor; 0 with
 * *version set, or -1 with err set (the caller rolls back) */
int learn_store(PGconn *conn, const char *actor, const struct learn_example *ex, size_t n, const char *note,
                long long *version, char *err, size_t errlen);

/* learn_features - the model's input for a parsed and sorted message (thread
 * history and sender statistics unknown: -1; the caller fills them when it
 * knows them). Pointers into m and c. */
void learn_features(const struct mp_message *m, const struct classification *c, const char *direction,
                    struct feature_input *out);

/* learn_inbox - the first of rcpts[0..n) that is one of the shared inboxes, or NULL */
const char *learn_inbox(const char *const *inboxes, size_t n_inboxes, const char *const *rcpts, size_t n);

#endif
