/* model-store.c - the local model's serialised form, stored in
 * mailroom.models: saving, and loading with every count, index and float
 * checked, so that a damaged blob is refused, never half-loaded.
 *
 * Format version 2 (little endian), the weights of all heads side by side
 * as lib/model.c keeps them:
 *   "MRMODEL1"  u32 format version (2)  u32 heads
 *   per head:   u16 name length, name  u64 examples
 *   part (global)  u32 inboxes, per inbox: u16 name length, name, part
 *   part:       per head: f32 bias, f32 bias G
 *               u32 rows, per row (index ascending):
 *               u32 index, per head: f32 weight, f32 G
 *   32-byte BLAKE2b (crypto_generichash) of everything before it.
 *
 * Format version 1, a table per head, is what mailroom stored before; a
 * database may still hold one, so it is converted on loading (the same
 * checks, the same predictions) and the next version learnt is saved as 2:
 *   "MRMODEL1"  u32 format version (1)  u32 heads
 *   per head:   u16 name length, name  u64 examples  part (global)
 *               u32 inboxes, per inbox: u16 name length, name, part
 *   part:       f32 bias, f32 bias G  u32 cells, per cell (index ascending):
 *               u32 index, f32 weight, f32 G
 *   32-byte BLAKE2b of everything before it.
 */
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-impl.h"

#define MODEL_MAGIC      "MRMODEL1"
#define MODEL_VERSION    2u
#define MODEL_V1         1u /* the per-head layout, converted on loading */
#define MODEL_MAX_BLOB   (512u << 20)
#define MODEL_HASH_BYTES 32

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

/* put_part - a part, its rows in index order so that equal models give equal bytes */
static void put_part(struct out *o, const struct model *m, const struct model_part *p)
{
	for (size_t k = 0; k < m->n_heads; k++) {
		put_f32(o, p->bias[k].w);
		put_f32(o, p->bias[k].g2);
	}
	put_u32(o, (uint32_t)p->n);
	if (p->n == 0)
		return;
	uint32_t *idx = malloc(p->n * sizeof(*idx));
	if (idx == NULL) {
		o->failed = 1;
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < p->cap; i++)
		if (p->row[i * m->stride].key != MODEL_EMPTY)
			idx[n++] = p->row[i * m->stride].key;
	qsort(idx, n, sizeof(*idx), cmp_u32);
	for (size_t i = 0; i < n; i++) {
		size_t s = (size_t)model_row_find(m, p, idx[i]);
		put_u32(o, idx[i]);
		for (size_t k = 0; k < m->n_heads; k++) {
			put_f32(o, p->row[s * m->stride + 1 + k].w);
			put_f32(o, p->g2[s * m->cols + k]);
		}
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
		put_name(&o, m->heads[i].name);
		put_u64(&o, (uint64_t)m->heads[i].examples);
	}
	put_part(&o, m, &m->global);
	put_u32(&o, (uint32_t)m->n_inboxes);
	for (size_t k = 0; k < m->n_inboxes; k++) {
		put_name(&o, m->order[k]->name);
		put_part(&o, m, &m->order[k]->part);
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

/* get_cell - a weight and its sum of squared gradients, which is never negative */
static struct model_cell get_cell(struct in *r)
{
	struct model_cell c;
	c.w = get_f32(r);
	c.g2 = get_f32(r);
	if (c.g2 < 0)
		in_fail(r, "model: a sum of squares out of range");
	return c;
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

/* get_rows - the count of rows of rowbytes each, checked against the bytes left */
static uint32_t get_rows(struct in *r, size_t rowbytes)
{
	uint32_t n = get_u32(r);
	if (!r->failed && (n > FEATURES_DIM || (size_t)n * rowbytes > r->left))
		in_fail(r, "model: %u weights do not fit", n);
	return r->failed ? 0 : n;
}

/* get_row - the row of the next index of a part, which must be above prev; -1 when refused */
static long get_row(struct in *r, struct model *m, struct model_part *p, uint32_t i, uint32_t *prev)
{
	uint32_t idx = get_u32(r);
	if (r->failed)
		return -1;
	if (idx >= FEATURES_DIM || (i > 0 && idx <= *prev)) {
		in_fail(r, "model: weight %u of a part is out of order or out of range", i);
		return -1;
	}
	*prev = idx;
	long s = model_row_get(m, p, idx);
	if (s < 0)
		in_fail(r, "model: out of memory");
	return s;
}

/* get_part - a part of the current format into p; 0 or -1 */
static int get_part(struct in *r, struct model *m, struct model_part *p)
{
	for (size_t k = 0; k < m->n_heads; k++)
		p->bias[k] = get_cell(r);
	uint32_t n = get_rows(r, 4 + 8 * m->n_heads), prev = 0;
	if (n > 0 && m->n_heads == 0)
		in_fail(r, "model: weights without a head");
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		long s = get_row(r, m, p, i, &prev);
		for (size_t k = 0; k < m->n_heads && s >= 0; k++) {
			struct model_cell c = get_cell(r);
			p->row[(size_t)s * m->stride + 1 + k].w = c.w;
			p->g2[(size_t)s * m->cols + k] = c.g2;
		}
	}
	return r->failed ? -1 : 0;
}

/* get_head - the next head's name and example count into m; 0 or -1 */
static int get_head(struct in *r, struct model *m)
{
	char name[MODEL_MAX_NAME + 1];
	if (get_name(r, name, sizeof(name), "a head's") < 0)
		return -1;
	if (model_head_find(m, name) >= 0) {
		in_fail(r, "model: head \"%s\" twice", name);
		return -1;
	}
	long col = model_head_add(m, name);
	if (col < 0) {
		in_fail(r, "model: out of memory");
		return -1;
	}
	uint32_t lo = get_u32(r), hi = get_u32(r);
	uint64_t ex = (uint64_t)hi << 32 | lo;
	if (ex > INT64_MAX)
		in_fail(r, "model: head \"%s\": example count out of range", name);
	m->heads[col].examples = (long long)ex;
	return r->failed ? -1 : 0;
}

/* get_inbox - the next inbox's name, the inbox found or added; NULL when refused */
static struct model_inbox *get_inbox(struct in *r, struct model *m)
{
	char name[MODEL_MAX_NAME + 1];
	if (get_name(r, name, sizeof(name), "an inbox's") < 0)
		return NULL;
	struct model_inbox *ib = model_inbox_find(m, name);
	if (ib == NULL && (ib = model_inbox_add(m, name)) == NULL)
		in_fail(r, "model: out of memory or more than %d inboxes", MODEL_MAX_INBOXES);
	return ib;
}

/* get_inbox_count - the count of inboxes that follows, within the cap */
static uint32_t get_inbox_count(struct in *r)
{
	uint32_t n = get_u32(r);
	if (!r->failed && n > MODEL_MAX_INBOXES)
		in_fail(r, "model: %u inboxes, more than %d", n, MODEL_MAX_INBOXES);
	return r->failed ? 0 : n;
}

/* load_v2 - the heads and parts of the current format into m; 0 or -1 */
static int load_v2(struct in *r, struct model *m, uint32_t heads)
{
	for (uint32_t i = 0; i < heads; i++)
		if (get_head(r, m) < 0)
			return -1;
	if (get_part(r, m, &m->global) < 0)
		return -1;
	uint32_t n = get_inbox_count(r);
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		size_t had = m->n_inboxes;
		struct model_inbox *ib = get_inbox(r, m);
		if (ib != NULL && m->n_inboxes == had)
			in_fail(r, "model: inbox \"%s\" twice", ib->name);
		if (ib == NULL || get_part(r, m, &ib->part) < 0)
			return -1;
	}
	return r->failed ? -1 : 0;
}

/* get_part_v1 - a part of format 1 into column col of p; 0 or -1 */
static int get_part_v1(struct in *r, struct model *m, struct model_part *p, size_t col)
{
	p->bias[col] = get_cell(r);
	uint32_t n = get_rows(r, 12), prev = 0;
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		long s = get_row(r, m, p, i, &prev);
		struct model_cell c = get_cell(r);
		if (s >= 0) {
			p->row[(size_t)s * m->stride + 1 + col].w = c.w;
			p->g2[(size_t)s * m->cols + col] = c.g2;
		}
	}
	return r->failed ? -1 : 0;
}

/* load_v1 - convert format 1, a head after another each with its own
 * inboxes, into m; 0 or -1 */
static int load_v1(struct in *r, struct model *m, uint32_t heads)
{
	for (uint32_t k = 0; k < heads; k++) {
		if (get_head(r, m) < 0 || get_part_v1(r, m, &m->global, k) < 0)
			return -1;
		uint32_t n = get_inbox_count(r);
		for (uint32_t i = 0; i < n && !r->failed; i++) {
			struct model_inbox *ib = get_inbox(r, m);
			if (ib != NULL && ib->mark == k + 1)
				in_fail(r, "model: inbox \"%s\" twice", ib->name);
			if (ib == NULL || r->failed)
				return -1;
			ib->mark = k + 1;
			if (get_part_v1(r, m, &ib->part, k) < 0)
				return -1;
		}
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
	if (version != MODEL_VERSION && version != MODEL_V1) {
		snprintf(err, errlen, "model: format version %u, this program reads %u and %u", version,
		         MODEL_V1, MODEL_VERSION);
		return NULL;
	}
	if (n > MODEL_MAX_HEADS) {
		snprintf(err, errlen, "model: %u heads, more than %d", n, MODEL_MAX_HEADS);
		return NULL;
	}
	struct model *m = model_new();
	if (m == NULL || model_columns(m, n) < 0) {
		model_free(&m);
		snprintf(err, errlen, "model: out of memory");
		return NULL;
	}
	if (version == MODEL_V1)
		load_v1(&r, m, n);
	else
		load_v2(&r, m, n);
	if (!r.failed && r.left != 0)
		in_fail(&r, "model: %zu bytes after the last head", r.left);
	if (r.failed) {
		model_free(&m);
		return NULL;
	}
	return m;
}
