/* model.c - the local model: online logistic regression over hashed
 * features, a global part and a part per shared inbox.
 *
 * Storage is sparse: each part of a head (the global one, one per inbox)
 * is an open-addressing hash map from feature index to a cell {weight,
 * sum of squared gradients}, so a head costs memory for the features it
 * has seen, not FEATURES_DIM floats. The key sits beside its cell (one
 * cache miss per lookup: in a big model the misses are what scoring
 * costs). Heads are few and found by name in a short array; the inboxes
 * of a head are a hash table by name.
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
 * The serialised form (little endian):
 *   "MRMODEL1"  u32 format version  u32 heads
 *   per head:   u16 name length, name  u64 examples  part (global)
 *               u32 inboxes, per inbox: u16 name length, name, part
 *   part:       f32 bias, f32 bias G  u32 cells, per cell (index ascending):
 *               u32 index, f32 weight, f32 G
 *   32-byte BLAKE2b (crypto_generichash) of everything before it.
 * model_load() checks the length and checksum first, then every count
 * against its cap and the bytes left, every index against FEATURES_DIM and
 * the order of the previous, and every float for being finite.
 */
#include "model.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETA           0.4
#define LAMBDA_GLOBAL 1e-6
#define LAMBDA_INBOX  1e-5
#define WEIGHT_CLAMP  30.0f /* |weight| at most: keeps a flood of one label from running away */

#define MODEL_MAGIC       "MRMODEL1"
#define MODEL_VERSION     1u
#define MODEL_MAX_HEADS   256
#define MODEL_MAX_INBOXES 4096 /* per head */
#define MODEL_MAX_NAME    200  /* bytes of a head's or an inbox's name */
#define MODEL_MAX_BLOB    (512u << 20)
#define MODEL_HASH_BYTES  32
#define EMPTY             UINT32_MAX

struct cell {
	float w, g2;
};

/* A slot of a part's table: the key beside its cell, one cache line for both. */
struct entry {
	uint32_t key; /* EMPTY or a feature index */
	struct cell c;
};

/* A sparse weight vector with its bias. */
struct part {
	struct entry *e;
	size_t cap, n; /* cap a power of two, 0 when nothing is stored */
	struct cell bias;
};

struct inbox {
	char *name;
	struct part part;
};

struct head {
	char *name;
	long long examples;
	struct part global;
	struct inbox **inboxes; /* hash table of cap_inboxes slots */
	size_t n_inboxes, cap_inboxes;
	struct inbox **order; /* the inboxes in the order they came, for saving */
};

struct model {
	struct head **heads;
	size_t n_heads;
};

/* --- sparse parts ---------------------------------------------------------------------------- */

/* home_slot - where the search for idx in p starts (cap > 0) */
static inline size_t home_slot(const struct part *p, uint32_t idx)
{
	return ((uint64_t)idx * 0x9E3779B97F4A7C15ull) >> 40 & (p->cap - 1);
}

/* slot_of - where idx is or would go in p (cap > 0) */
static size_t slot_of(const struct part *p, uint32_t idx)
{
	size_t mask = p->cap - 1, i = home_slot(p, idx);
	while (p->e[i].key != EMPTY && p->e[i].key != idx)
		i = (i + 1) & mask;
	return i;
}

/* part_find - idx's cell, NULL when not stored */
static const struct cell *part_find(const struct part *p, uint32_t idx)
{
	if (p->cap == 0)
		return NULL;
	size_t i = slot_of(p, idx);
	return p->e[i].key == idx ? &p->e[i].c : NULL;
}

/* part_grow - double p's table (or make one); 0, or -1 when out of memory */
static int part_grow(struct part *p)
{
	size_t cap = p->cap ? 2 * p->cap : 64;
	struct part np = {.cap = cap, .n = 0, .bias = p->bias};
	if ((np.e = malloc(cap * sizeof(*np.e))) == NULL)
		return -1;
	for (size_t i = 0; i < cap; i++)
		np.e[i].key = EMPTY;
	for (size_t i = 0; i < p->cap; i++) {
		if (p->e[i].key == EMPTY)
			continue;
		np.e[slot_of(&np, p->e[i].key)] = p->e[i];
		np.n++;
	}
	free(p->e);
	*p = np;
	return 0;
}

/* part_get - idx's cell, made (zero) when missing; NULL when out of memory */
static struct cell *part_get(struct part *p, uint32_t idx)
{
	if ((p->n + 1) * 10 > p->cap * 7 && part_grow(p) < 0)
		return NULL;
	size_t i = slot_of(p, idx);
	if (p->e[i].key != idx) {
		p->e[i].key = idx;
		p->e[i].c = (struct cell){0, 0};
		p->n++;
	}
	return &p->e[i].c;
}

static void part_free(struct part *p)
{
	free(p->e);
	memset(p, 0, sizeof(*p));
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

/* inbox_find - the inbox of head h, NULL when it has none of that name */
static struct inbox *inbox_find(const struct head *h, const char *name)
{
	if (h->cap_inboxes == 0)
		return NULL;
	size_t mask = h->cap_inboxes - 1;
	for (size_t i = name_hash(name) & mask; h->inboxes[i] != NULL; i = (i + 1) & mask)
		if (strcmp(h->inboxes[i]->name, name) == 0)
			return h->inboxes[i];
	return NULL;
}

/* inbox_insert - place ib in h's table, which has room */
static void inbox_insert(struct head *h, struct inbox *ib)
{
	size_t mask = h->cap_inboxes - 1, i = name_hash(ib->name) & mask;
	while (h->inboxes[i] != NULL)
		i = (i + 1) & mask;
	h->inboxes[i] = ib;
}

/* inbox_add - a new, empty inbox part; NULL when out of memory or over the cap */
static struct inbox *inbox_add(struct head *h, const char *name)
{
	if (h->n_inboxes >= MODEL_MAX_INBOXES || strlen(name) > MODEL_MAX_NAME)
		return NULL;
	if ((h->n_inboxes + 1) * 2 > h->cap_inboxes) {
		size_t cap = h->cap_inboxes ? 2 * h->cap_inboxes : 8;
		struct inbox **table = calloc(cap, sizeof(*table));
		struct inbox **order = realloc(h->order, cap * sizeof(*order));
		if (table == NULL || order == NULL) {
			free(table);
			if (order != NULL)
				h->order = order;
			return NULL;
		}
		h->order = order;
		free(h->inboxes);
		h->inboxes = table;
		h->cap_inboxes = cap;
		for (size_t i = 0; i < h->n_inboxes; i++)
			inbox_insert(h, h->order[i]);
	}
	struct inbox *ib = calloc(1, sizeof(*ib));
	if (ib == NULL || (ib->name = strdup(name)) == NULL) {
		free(ib);
		return NULL;
	}
	inbox_insert(h, ib);
	h->order[h->n_inboxes++] = ib;
	return ib;
}

/* head_find - the head of that name, NULL when none */
static struct head *head_find(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_heads; i++)
		if (strcmp(m->heads[i]->name, name) == 0)
			return m->heads[i];
	return NULL;
}

/* head_add - a new head; NULL when out of memory or over the caps */
static struct head *head_add(struct model *m, const char *name)
{
	if (m->n_heads >= MODEL_MAX_HEADS || strlen(name) > MODEL_MAX_NAME)
		return NULL;
	struct head **heads = realloc(m->heads, (m->n_heads + 1) * sizeof(*heads));
	if (heads == NULL)
		return NULL;
	m->heads = heads;
	struct head *h = calloc(1, sizeof(*h));
	if (h == NULL || (h->name = strdup(name)) == NULL) {
		free(h);
		return NULL;
	}
	m->heads[m->n_heads++] = h;
	return h;
}

static void head_free(struct head *h)
{
	for (size_t i = 0; i < h->n_inboxes; i++) {
		part_free(&h->order[i]->part);
		free(h->order[i]->name);
		free(h->order[i]);
	}
	free(h->order);
	free(h->inboxes);
	part_free(&h->global);
	free(h->name);
	free(h);
}

struct model *model_new(void)
{
	return calloc(1, sizeof(struct model));
}

void model_free(struct model **mp)
{
	struct model *m = *mp;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_heads; i++)
		head_free(m->heads[i]);
	free(m->heads);
	free(m);
	*mp = NULL;
}

/* --- predicting and learning ------------------------------------------------------------------- */

/* prefetch - ask for the first slot of every feature of v in p ahead of the
 * lookups: the misses then overlap instead of coming one after another */
static void prefetch(const struct part *p, const struct feature_vector *v)
{
	if (p->cap == 0)
		return;
	for (size_t i = 0; i < v->n; i++)
		__builtin_prefetch(&p->e[home_slot(p, v->index[i])]);
}

/* margin - the head's score before the sigmoid */
static double margin(const struct head *h, const struct inbox *ib, const struct feature_vector *v)
{
	double z = h->global.bias.w + (ib != NULL ? ib->part.bias.w : 0.0);
	prefetch(&h->global, v);
	if (ib != NULL)
		prefetch(&ib->part, v);
	for (size_t i = 0; i < v->n; i++) {
		const struct cell *c = part_find(&h->global, v->index[i]);
		double w = c != NULL ? c->w : 0.0;
		if (ib != NULL && (c = part_find(&ib->part, v->index[i])) != NULL)
			w += c->w;
		z += w * v->value[i];
	}
	return z;
}

/* sigmoid - 1 / (1 + e^-z), without overflow */
static double sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

double model_predict(const struct model *m, const char *head, const char *inbox,
                     const struct feature_vector *v)
{
	const struct head *h = head_find(m, head);
	if (h == NULL)
		return 0.5;
	return sigmoid(margin(h, inbox != NULL ? inbox_find(h, inbox) : NULL, v));
}

/* step - one AdaGrad step of cell c with gradient g (L2 added by the caller),
 * scaled by the example weight: the weight stays out of the sum of squares,
 * where AdaGrad would cancel it for every feature seen for the first time */
static void step(struct cell *c, double g, double weight)
{
	c->g2 += (float)(g * g);
	double w = c->w - ETA * weight * g / sqrt(1.0 + c->g2);
	c->w = (float)(w > WEIGHT_CLAMP ? WEIGHT_CLAMP : w < -WEIGHT_CLAMP ? -WEIGHT_CLAMP : w);
}

/* learn_part - the step of one part: err is p - label */
static int learn_part(struct part *p, const struct feature_vector *v, double err, double weight,
                      double lambda)
{
	for (size_t i = 0; i < v->n; i++) {
		struct cell *c = part_get(p, v->index[i]);
		if (c == NULL)
			return -1;
		step(c, err * v->value[i] + lambda * c->w, weight);
	}
	step(&p->bias, err, weight);
	return 0;
}

int model_learn(struct model *m, const char *head, const char *inbox, const struct feature_vector *v,
                int label, double w)
{
	struct head *h = head_find(m, head);
	if (h == NULL && (h = head_add(m, head)) == NULL)
		return -1;
	struct inbox *ib = NULL;
	if (inbox != NULL && (ib = inbox_find(h, inbox)) == NULL && (ib = inbox_add(h, inbox)) == NULL)
		return -1;
	if (!(w > 0) || !isfinite(w))
		w = 1.0;
	double err = sigmoid(margin(h, ib, v)) - (label ? 1.0 : 0.0);
	if (learn_part(&h->global, v, err, w, LAMBDA_GLOBAL) < 0)
		return -1;
	if (ib != NULL && learn_part(&ib->part, v, err, w, LAMBDA_INBOX) < 0)
		return -1;
	h->examples++;
	return 0;
}

long long model_examples(const struct model *m, const char *head)
{
	const struct head *h = head_find(m, head);
	return h != NULL ? h->examples : 0;
}

/* --- saving ---------------------------------------------------------------------------------------- */

/* A growing output buffer; failed sticks. */
struct out {
	unsigned char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		unsigned char *b = realloc(o->buf, cap);
		if (b == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_u16(struct out *o, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	put(o, b, 2);
}

static void put_u32(struct out *o, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	put(o, b, 4);
}

static void put_u64(struct out *o, uint64_t v)
{
	put_u32(o, (uint32_t)v);
	put_u32(o, (uint32_t)(v >> 32));
}

static void put_f32(struct out *o, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	put_u32(o, u);
}

static void put_name(struct out *o, const char *s)
{
	size_t n = strlen(s);
	put_u16(o, (uint16_t)n);
	put(o, s, n);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* put_part - a part, its cells in index order so that equal models give equal bytes */
static void put_part(struct out *o, const struct part *p)
{
	put_f32(o, p->bias.w);
	put_f32(o, p->bias.g2);
	put_u32(o, (uint32_t)p->n);
	if (p->n == 0)
		return;
	uint32_t *idx = malloc(p->n * sizeof(*idx));
	if (idx == NULL) {
		o->failed = 1;
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < p->cap; i++)
		if (p->e[i].key != EMPTY)
			idx[k++] = p->e[i].key;
	qsort(idx, k, sizeof(*idx), cmp_u32);
	for (size_t i = 0; i < k; i++) {
		const struct cell *c = part_find(p, idx[i]);
		put_u32(o, idx[i]);
		put_f32(o, c->w);
		put_f32(o, c->g2);
	}
	free(idx);
}

int model_save(const struct model *m, unsigned char **buf, size_t *len)
{
	struct out o = {0};
	*buf = NULL;
	*len = 0;
	put(&o, MODEL_MAGIC, 8);
	put_u32(&o, MODEL_VERSION);
	put_u32(&o, (uint32_t)m->n_heads);
	for (size_t i = 0; i < m->n_heads; i++) {
		const struct head *h = m->heads[i];
		put_name(&o, h->name);
		put_u64(&o, (uint64_t)h->examples);
		put_part(&o, &h->global);
		put_u32(&o, (uint32_t)h->n_inboxes);
		for (size_t k = 0; k < h->n_inboxes; k++) {
			put_name(&o, h->order[k]->name);
			put_part(&o, &h->order[k]->part);
		}
	}
	unsigned char hash[MODEL_HASH_BYTES];
	if (sodium_init() < 0)
		o.failed = 1;
	if (!o.failed)
		crypto_generichash(hash, sizeof(hash), o.buf, o.len, NULL, 0);
	put(&o, hash, sizeof(hash));
	if (o.failed) {
		free(o.buf);
		return -1;
	}
	*buf = o.buf;
	*len = o.len;
	return 0;
}

/* --- loading --------------------------------------------------------------------------------------- */

/* A reader over the checked bytes; the first error sticks. */
struct in {
	const unsigned char *p;
	size_t left;
	char *err;
	size_t errlen;
	int failed;
};

static void in_fail(struct in *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void in_fail(struct in *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	r->failed = 1;
}

static const unsigned char *take(struct in *r, size_t n)
{
	if (r->failed)
		return NULL;
	if (n > r->left) {
		in_fail(r, "model: truncated");
		return NULL;
	}
	const unsigned char *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t get_u32(struct in *r)
{
	const unsigned char *b = take(r, 4);
	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

static float get_f32(struct in *r)
{
	uint32_t u = get_u32(r);
	float f;
	memcpy(&f, &u, 4);
	if (!isfinite(f)) {
		in_fail(r, "model: a weight is not a finite number");
		return 0;
	}
	return f;
}

/* get_name - a name into buf (NUL-terminated); 0 or -1 */
static int get_name(struct in *r, char *buf, size_t size, const char *what)
{
	const unsigned char *b = take(r, 2);
	size_t n = b ? (size_t)b[0] | (size_t)b[1] << 8 : 0;
	if (b != NULL && (n == 0 || n > MODEL_MAX_NAME || n >= size))
		in_fail(r, "model: %s name of %zu bytes", what, n);
	const unsigned char *s = take(r, n);
	if (s == NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		in_fail(r, "model: %s name holds a NUL byte", what);
		return -1;
	}
	return 0;
}

/* get_part - a part into p; 0 or -1 */
static int get_part(struct in *r, struct part *p)
{
	p->bias.w = get_f32(r);
	p->bias.g2 = get_f32(r);
	uint32_t n = get_u32(r);
	if (r->failed)
		return -1;
	if (n > FEATURES_DIM || (size_t)n * 12 > r->left) {
		in_fail(r, "model: %u weights do not fit", n);
		return -1;
	}
	uint32_t prev = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = get_u32(r);
		float w = get_f32(r), g2 = get_f32(r);
		if (r->failed)
			return -1;
		if (idx >= FEATURES_DIM || (i > 0 && idx <= prev) || g2 < 0) {
			in_fail(r, "model: weight %u of a part is out of order or out of range", i);
			return -1;
		}
		struct cell *c = part_get(p, idx);
		if (c == NULL) {
			in_fail(r, "model: out of memory");
			return -1;
		}
		*c = (struct cell){w, g2};
		prev = idx;
	}
	return 0;
}

/* load_head - one head into m; 0 or -1 */
static int load_head(struct in *r, struct model *m)
{
	char name[MODEL_MAX_NAME + 1];
	if (get_name(r, name, sizeof(name), "a head's") < 0)
		return -1;
	if (head_find(m, name) != NULL) {
		in_fail(r, "model: head \"%s\" twice", name);
		return -1;
	}
	struct head *h = head_add(m, name);
	if (h == NULL) {
		in_fail(r, "model: out of memory");
		return -1;
	}
	uint32_t lo = get_u32(r), hi = get_u32(r);
	uint64_t ex = (uint64_t)hi << 32 | lo;
	if (ex > INT64_MAX)
		in_fail(r, "model: head \"%s\": example count out of range", name);
	h->examples = (long long)ex;
	if (get_part(r, &h->global) < 0)
		return -1;
	uint32_t n = get_u32(r);
	if (!r->failed && n > MODEL_MAX_INBOXES)
		in_fail(r, "model: head \"%s\": %u inboxes, more than %d", name, n, MODEL_MAX_INBOXES);
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		if (get_name(r, name, sizeof(name), "an inbox's") < 0)
			return -1;
		if (inbox_find(h, name) != NULL) {
			in_fail(r, "model: inbox \"%s\" twice", name);
			return -1;
		}
		struct inbox *ib = inbox_add(h, name);
		if (ib == NULL) {
			in_fail(r, "model: out of memory");
			return -1;
		}
		if (get_part(r, &ib->part) < 0)
			return -1;
	}
	return r->failed ? -1 : 0;
}

struct model *model_load(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	struct in r = {buf, len, err, errlen, 0};
	unsigned char hash[MODEL_HASH_BYTES];

	if (len < 8 + 4 + 4 + MODEL_HASH_BYTES || memcmp(buf, MODEL_MAGIC, 8) != 0) {
		snprintf(err, errlen, "model: not a model (%s)", len < 8 ? "too short" : "wrong magic");
		return NULL;
	}
	if (len > MODEL_MAX_BLOB) {
		snprintf(err, errlen, "model: %zu bytes, more than the limit of %u", len, MODEL_MAX_BLOB);
		return NULL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "model: libsodium failed to start");
		return NULL;
	}
	r.left = len - MODEL_HASH_BYTES;
	crypto_generichash(hash, sizeof(hash), buf, r.left, NULL, 0);
	if (sodium_memcmp(hash, buf + r.left, sizeof(hash)) != 0) {
		snprintf(err, errlen, "model: checksum mismatch (damaged or truncated)");
		return NULL;
	}
	take(&r, 8);
	uint32_t version = get_u32(&r), n = get_u32(&r);
	if (version != MODEL_VERSION) {
		snprintf(err, errlen, "model: format version %u, this program reads %u", version,
		         MODEL_VERSION);
		return NULL;
	}
	if (n > MODEL_MAX_HEADS) {
		snprintf(err, errlen, "model: %u heads, more than %d", n, MODEL_MAX_HEADS);
		return NULL;
	}
	struct model *m = model_new();
	if (m == NULL) {
		snprintf(err, errlen, "model: out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < n && !r.failed; i++)
		load_head(&r, m);
	if (!r.failed && r.left != 0)
		in_fail(&r, "model: %zu bytes after the last head", r.left);
	if (r.failed) {
		model_free(&m);
		return NULL;
	}
	return m;
}
