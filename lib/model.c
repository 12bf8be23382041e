/* model.c - the local model: online logistic regression over hashed
 * features, a global part and a part per shared inbox.
 *
 * Storage is sparse and shared by the heads (lib/model-impl.h): each part
 * (the global one, one per inbox) is an open-addressing hash map from
 * feature index to a row with the weights of every head side by side, the
 * key at its start. Predicting is then one lookup, one cache miss, per
 * feature and part however many heads are asked (model_predict_heads); in
 * a big model the misses are what scoring costs, and with a table per head
 * the worker's five heads made five times as many. A head that never saw a
 * feature holds a zero in that feature's row, which predicts exactly as a
 * missing weight did. Heads are few and found by name in a short array;
 * the inboxes are a hash table by name.
 *
 * Learning rate: per-coordinate AdaGrad, step = ETA * example weight /
 * sqrt(1 + G) where G is the feature's sum of squared gradients. A fixed
 * global schedule would make a model that has seen many messages deaf to
 * an agent's correction; AdaGrad keeps the step large for features that
 * are rare (the words of the corrected message that the model has seldom
 * seen) and small for features seen everywhere, which need not move.
 * ETA 0.4 was chosen on the shared corpus (docs/evaluation.md): larger
 * helps clear signals such as advertising, smaller noisy ones such as
 * priority.
 *
 * L2: applied to the weights a step touches (the usual sparse shortcut),
 * LAMBDA_GLOBAL for the global part and LAMBDA_INBOX, ten times more, for
 * an inbox's part: an inbox's part should only hold what makes that inbox
 * differ, the global part everything they share. The bias of each part is
 * learnt like a feature of value 1 and never shrunk.
 *
 * The serialised form is lib/model-store.c's.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model-impl.h"

#define ETA           0.4
#define LAMBDA_GLOBAL 1e-6
#define LAMBDA_INBOX  1e-5
#define WEIGHT_CLAMP  30.0f             /* |weight| at most: keeps a flood of one label from running away */
#define CHUNK         16                /* heads predicted in one pass over the features */
#define HUGE_PAGE     ((size_t)2 << 20) /* tables from this size on ask for huge pages */

/* --- sparse parts ---------------------------------------------------------------------------- */

/* home_slot - where the search for idx in p starts (cap > 0) */
static inline size_t home_slot(const struct model_part *p, uint32_t idx)
{
	return ((uint64_t)idx * 0x9E3779B97F4A7C15ull) >> 40 & (p->cap - 1);
}

/* slot_of - where idx is or would go in p (cap > 0) */
static size_t slot_of(const struct model_part *p, size_t stride, uint32_t idx)
{
	size_t mask = p->cap - 1, i = home_slot(p, idx);
	while (p->row[i * stride].key != MODEL_EMPTY && p->row[i * stride].key != idx)
		i = (i + 1) & mask;
	return i;
}

long model_row_find(const struct model *m, const struct model_part *p, uint32_t idx)
{
	if (p->cap == 0)
		return -1;
	size_t i = slot_of(p, m->stride, idx);
	return p->row[i * m->stride].key == idx ? (long)i : -1;
}

/* rows_alloc - cap empty rows of stride words, aligned so that a row of up
 * to 64 bytes never straddles two cache lines; NULL when out of memory. A
 * table of megabytes asks for huge pages: with 4 kB pages nearly every
 * lookup in it would also miss the TLB. */
static union model_word *rows_alloc(size_t cap, size_t stride)
{
	size_t bytes = (cap * stride * sizeof(union model_word) + 63) & ~(size_t)63;
	union model_word *r;
	if (bytes >= HUGE_PAGE) {
		bytes = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		if ((r = aligned_alloc(HUGE_PAGE, bytes)) == NULL)
			return NULL;
#ifdef MADV_HUGEPAGE
		(void)madvise(r, bytes, MADV_HUGEPAGE); /* a hint: the table works without */
#endif
	} else if ((r = aligned_alloc(64, bytes)) == NULL) {
		return NULL;
	}
	memset(r, 0, bytes);
	for (size_t i = 0; i < cap; i++)
		r[i * stride].key = MODEL_EMPTY;
	return r;
}

/* part_grow - double p's table (or make one); 0, or -1 when out of memory */
static int part_grow(const struct model *m, struct model_part *p)
{
	size_t cap = p->cap ? 2 * p->cap : 64, s = m->stride, c = m->cols;
	struct model_part np = {.cap = cap, .n = 0, .bias = p->bias};
	np.row = rows_alloc(cap, s);
	np.g2 = calloc(cap * c, sizeof(*np.g2));
	if (np.row == NULL || np.g2 == NULL) {
		free(np.row);
		free(np.g2);
		return -1;
	}
	for (size_t i = 0; i < p->cap; i++) {
		if (p->row[i * s].key == MODEL_EMPTY)
			continue;
		size_t j = slot_of(&np, s, p->row[i * s].key);
		memcpy(&np.row[j * s], &p->row[i * s], s * sizeof(*np.row));
		memcpy(&np.g2[j * c], &p->g2[i * c], c * sizeof(*np.g2));
		np.n++;
	}
	free(p->row);
	free(p->g2);
	*p = np;
	return 0;
}

long model_row_get(const struct model *m, struct model_part *p, uint32_t idx)
{
	if ((p->n + 1) * 10 > p->cap * 7 && part_grow(m, p) < 0)
		return -1;
	size_t i = slot_of(p, m->stride, idx);
	if (p->row[i * m->stride].key != idx) {
		p->row[i * m->stride].key = idx; /* the weights and sums of a free row are zero */
		p->n++;
	}
	return (long)i;
}

static void part_free(struct model_part *p)
{
	free(p->row);
	free(p->g2);
	free(p->bias);
	memset(p, 0, sizeof(*p));
}

/* A part's arrays for another number of columns, made before any is replaced. */
struct widened {
	union model_word *row;
	float *g2;
	struct model_cell *bias;
};

/* widen - p's arrays copied into w's wider ones (stride s, cols c) */
static void widen(const struct model *m, struct model_part *p, struct widened *w, size_t s, size_t c)
{
	for (size_t i = 0; i < p->cap; i++) {
		memcpy(&w->row[i * s], &p->row[i * m->stride], m->stride * sizeof(*w->row));
		memcpy(&w->g2[i * c], &p->g2[i * m->cols], m->cols * sizeof(*w->g2));
	}
	memcpy(w->bias, p->bias, m->cols * sizeof(*w->bias));
	free(p->row);
	free(p->g2);
	free(p->bias);
	p->row = w->row;
	p->g2 = w->g2;
	p->bias = w->bias;
}

int model_columns(struct model *m, size_t n)
{
	if (n <= m->cols)
		return 0;
	size_t s = 2;
	while (s < n + 1)
		s *= 2;
	size_t c = s - 1, n_parts = 1 + m->n_inboxes, k;
	struct widened *w = calloc(n_parts, sizeof(*w));
	if (w == NULL)
		return -1;
	for (k = 0; k < n_parts; k++) {
		const struct model_part *p = k == 0 ? &m->global : &m->order[k - 1]->part;
		w[k].row = rows_alloc(p->cap, s);
		w[k].g2 = calloc(p->cap * c + 1, sizeof(*w[k].g2));
		w[k].bias = calloc(c, sizeof(*w[k].bias));
		if ((p->cap > 0 && w[k].row == NULL) || w[k].g2 == NULL || w[k].bias == NULL)
			break;
	}
	if (k < n_parts) {
		for (size_t i = 0; i < n_parts; i++) {
			free(w[i].row);
			free(w[i].g2);
			free(w[i].bias);
		}
		free(w);
		return -1;
	}
	for (k = 0; k < n_parts; k++)
		widen(m, k == 0 ? &m->global : &m->order[k - 1]->part, &w[k], s, c);
	free(w);
	m->stride = s;
	m->cols = c;
	return 0;
}

/* --- heads and inboxes --------------------------------------------------------------------------- */

/* name_hash - FNV-1a of a name, for the inbox table */
static size_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct model_inbox *model_inbox_find(const struct model *m, const char *name)
{
	if (m->cap_inboxes == 0)
		return NULL;
	size_t mask = m->cap_inboxes - 1;
	for (size_t i = name_hash(name) & mask; m->inboxes[i] != NULL; i = (i + 1) & mask)
		if (strcmp(m->inboxes[i]->name, name) == 0)
			return m->inboxes[i];
	return NULL;
}

/* inbox_insert - place ib in m's table, which has room */
static void inbox_insert(struct model *m, struct model_inbox *ib)
{
	size_t mask = m->cap_inboxes - 1, i = name_hash(ib->name) & mask;
	while (m->inboxes[i] != NULL)
		i = (i + 1) & mask;
	m->inboxes[i] = ib;
}

struct model_inbox *model_inbox_add(struct model *m, const char *name)
{
	if (m->n_inboxes >= MODEL_MAX_INBOXES || strlen(name) > MODEL_MAX_NAME)
		return NULL;
	if ((m->n_inboxes + 1) * 2 > m->cap_inboxes) {
		size_t cap = m->cap_inboxes ? 2 * m->cap_inboxes : 8;
		struct model_inbox **table = calloc(cap, sizeof(*table));
		struct model_inbox **order = realloc(m->order, cap * sizeof(*order));
		if (table == NULL || order == NULL) {
			free(table);
			if (order != NULL)
				m->order = order;
			return NULL;
		}
		m->order = order;
		free(m->inboxes);
		m->inboxes = table;
		m->cap_inboxes = cap;
		for (size_t i = 0; i < m->n_inboxes; i++)
			inbox_insert(m, m->order[i]);
	}
	struct model_inbox *ib = calloc(1, sizeof(*ib));
	if (ib == NULL || (ib->name = strdup(name)) == NULL ||
	    (ib->part.bias = calloc(m->cols, sizeof(*ib->part.bias))) == NULL) {
		if (ib != NULL)
			free(ib->name);
		free(ib);
		return NULL;
	}
	inbox_insert(m, ib);
	m->order[m->n_inboxes++] = ib;
	return ib;
}

long model_head_find(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_heads; i++)
		if (strcmp(m->heads[i].name, name) == 0)
			return (long)i;
	return -1;
}

long model_head_add(struct model *m, const char *name)
{
	if (m->n_heads >= MODEL_MAX_HEADS || strlen(name) > MODEL_MAX_NAME)
		return -1;
	if (model_columns(m, m->n_heads + 1) < 0)
		return -1;
	struct model_head *heads = realloc(m->heads, (m->n_heads + 1) * sizeof(*heads));
	if (heads == NULL)
		return -1;
	m->heads = heads;
	m->heads[m->n_heads].examples = 0;
	if ((m->heads[m->n_heads].name = strdup(name)) == NULL)
		return -1;
	return (long)m->n_heads++;
}

struct model *model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->stride = 2;
	m->cols = 1;
	if ((m->global.bias = calloc(m->cols, sizeof(*m->global.bias))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void model_free(struct model **mp)
{
	struct model *m = *mp;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_inboxes; i++) {
		part_free(&m->order[i]->part);
		free(m->order[i]->name);
		free(m->order[i]);
	}
	free(m->order);
	free(m->inboxes);
	part_free(&m->global);
	for (size_t i = 0; i < m->n_heads; i++)
		free(m->heads[i].name);
	free(m->heads);
	free(m);
	*mp = NULL;
}

/* --- predicting and learning ------------------------------------------------------------------- */

/* prefetch - ask for the first row of every feature of v in p ahead of the
 * lookups: the misses then overlap instead of coming one after another */
static void prefetch(const struct model *m, const struct model_part *p, const struct feature_vector *v)
{
	if (p->cap == 0)
		return;
	for (size_t i = 0; i < v->n; i++)
		__builtin_prefetch(&p->row[home_slot(p, v->index[i]) * m->stride]);
}

/* margins - z[k], the score before the sigmoid, of the head in column
 * col[k] for k < n (n <= CHUNK; a column of -1 is skipped): one lookup per
 * feature and part for all of them */
static void margins(const struct model *m, const long *col, size_t n, const struct model_inbox *ib,
                    const struct feature_vector *v, double *z)
{
	const struct model_part *g = &m->global, *p = ib != NULL ? &ib->part : NULL;
	for (size_t k = 0; k < n; k++)
		z[k] = col[k] < 0 ? 0 : g->bias[col[k]].w + (p != NULL ? p->bias[col[k]].w : 0.0);
	prefetch(m, g, v);
	if (p != NULL)
		prefetch(m, p, v);
	for (size_t i = 0; i < v->n; i++) {
		long a = model_row_find(m, g, v->index[i]),
		     b = p != NULL ? model_row_find(m, p, v->index[i]) : -1;
		if (a < 0 && b < 0)
			continue;
		const union model_word *ra = a >= 0 ? &g->row[(size_t)a * m->stride + 1] : NULL;
		const union model_word *rb = b >= 0 ? &p->row[(size_t)b * m->stride + 1] : NULL;
		for (size_t k = 0; k < n; k++) {
			if (col[k] < 0)
				continue;
			double w = ra != NULL ? ra[col[k]].w : 0.0;
			if (rb != NULL)
				w += rb[col[k]].w;
			z[k] += w * v->value[i];
		}
	}
}

/* sigmoid - 1 / (1 + e^-z), without overflow */
static double sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

void model_predict_heads(const struct model *m, const char *const *heads, size_t n, const char *inbox,
                         const struct feature_vector *v, double *out)
{
	const struct model_inbox *ib = inbox != NULL ? model_inbox_find(m, inbox) : NULL;
	for (size_t at = 0; at < n; at += CHUNK) {
		size_t c = n - at < CHUNK ? n - at : CHUNK, known = 0;
		long col[CHUNK];
		double z[CHUNK];
		for (size_t k = 0; k < c; k++)
			known += (col[k] = model_head_find(m, heads[at + k])) >= 0;
		if (known > 0)
			margins(m, col, c, ib, v, z);
		for (size_t k = 0; k < c; k++)
			out[at + k] = col[k] < 0 ? 0.5 : sigmoid(z[k]);
	}
}

double model_predict(const struct model *m, const char *head, const char *inbox,
                     const struct feature_vector *v)
{
	double p;
	model_predict_heads(m, &head, 1, inbox, v, &p);
	return p;
}

/* step - one AdaGrad step of weight w with sum g2 and gradient g (L2 added
 * by the caller), scaled by the example weight: the weight stays out of
 * the sum of squares, where AdaGrad would cancel it for every feature seen
 * for the first time */
static void step(float *w, float *g2, double g, double weight)
{
	*g2 += (float)(g * g);
	double nw = *w - ETA * weight * g / sqrt(1.0 + *g2);
	*w = (float)(nw > WEIGHT_CLAMP ? WEIGHT_CLAMP : nw < -WEIGHT_CLAMP ? -WEIGHT_CLAMP : nw);
}

/* learn_part - the step of column col of one part: err is p - label.
 * The example weight applies to the message's own features (words,
 * sender); the bias and the meta group, which every message shares, step
 * with weight at most 1. A correction is chosen because its message was
 * unlike the rest: taught at full weight to the bias and the shared
 * features, one "urgent" correction on a young model made every later
 * message likely urgent (0.87 for a message without a word in common). */
static int learn_part(const struct model *m, struct model_part *p, size_t col, const struct feature_vector *v,
                      double err, double weight, double lambda)
{
	double shared = weight < 1.0 ? weight : 1.0;
	size_t own = v->n_meta < v->n ? v->n - v->n_meta : 0;
	for (size_t i = 0; i < v->n; i++) {
		long s = model_row_get(m, p, v->index[i]);
		if (s < 0)
			return -1;
		float *w = &p->row[(size_t)s * m->stride + 1 + col].w;
		step(w, &p->g2[(size_t)s * m->cols + col], err * v->value[i] + lambda * *w,
		     i < own ? weight : shared);
	}
	step(&p->bias[col].w, &p->bias[col].g2, err, shared);
	return 0;
}

int model_learn(struct model *m, const char *head, const char *inbox, const struct feature_vector *v,
                int label, double w)
{
	long col = model_head_find(m, head);
	if (col < 0 && (col = model_head_add(m, head)) < 0)
		return -1;
	struct model_inbox *ib = NULL;
	if (inbox != NULL && (ib = model_inbox_find(m, inbox)) == NULL &&
	    (ib = model_inbox_add(m, inbox)) == NULL)
		return -1;
	if (!(w > 0) || !isfinite(w))
		w = 1.0;
	double z;
	margins(m, &col, 1, ib, v, &z);
	double err = sigmoid(z) - (label ? 1.0 : 0.0);
	if (learn_part(m, &m->global, (size_t)col, v, err, w, LAMBDA_GLOBAL) < 0)
		return -1;
	if (ib != NULL && learn_part(m, &ib->part, (size_t)col, v, err, w, LAMBDA_INBOX) < 0)
		return -1;
	m->heads[col].examples++;
	return 0;
}

long long model_examples(const struct model *m, const char *head)
{
	long col = model_head_find(m, head);
	return col >= 0 ? m->heads[col].examples : 0;
}
