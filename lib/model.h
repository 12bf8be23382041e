/* model.h - the local model: online logistic regression over hashed
 * features, with a global part and a part per shared inbox.
 *
 * A model has named binary heads ("advertising", "level:urgent",
 * "level:high", "level:normal", "level:low", "note:positive" ...), each a
 * logistic regression whose weight for a feature is the global weight plus
 * the weight of the inbox the message came to (NULL inbox: global only).
 * Learning is one step of stochastic gradient descent per example (with
 * the given example weight: a correction by an agent counts more than a
 * bulk import), updating both parts. Heads appear on first use.
 *
 * Serialisation is a compact, versioned, checksummed binary form that is
 * stored in the database (mailroom.models) so that every decision can name
 * the model version that made it. model_load() checks everything it reads:
 * a damaged blob is refused, never half-loaded. A blob of the previous
 * format (version 1, a table per head) is converted on loading.
 */
#ifndef MAILROOM_LIB_MODEL_H
#define MAILROOM_LIB_MODEL_H

#include <stddef.h>

#include "msgfeatures.h"

struct model;

struct model *model_new(void);
void model_free(struct model **mp);

/* model_predict - probability 0..1 that the head's label applies; 0.5 for
 * a head never trained */
double model_predict(const struct model *m, const char *head, const char *inbox, const struct feature_vector *v);

/* model_predict_heads - out[k] = model_predict(m, heads[k], inbox, v) for
 * k < n, in one pass over the weights: the cost of a prediction is the
 * lookups of v's features, which all heads share */
void model_predict_heads(const struct model *m, const char *const *heads, size_t n, const char *inbox,
                         const struct feature_vector *v, double *out);

/* model_learn - one SGD step towards label (1 or 0) with example weight w
 * (1.0 normal, more for an agent's correction); 0, or -1 when out of memory */
int model_learn(struct model *m, const char *head, const char *inbox, const struct feature_vector *v, int label,
		double w);

/* model_examples - how many examples the head has learnt from (all inboxes) */
long long model_examples(const struct model *m, const char *head);

/* model_save - serialise into a malloc'd buffer; 0, or -1 when out of memory */
int model_save(const struct model *m, unsigned char **buf, size_t *len);

/* model_load - the model of a buffer model_save() made; NULL with err set
 * when it is damaged, of an unknown format or too large */
struct model *model_load(const unsigned char *buf, size_t len, char *err, size_t errlen);

#endif
