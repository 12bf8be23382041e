/* msgfeatures.c - hashed features of a message for the local model.
 *
 * Each feature is a string "GROUP\x1fVALUE" hashed with 32-bit FNV-1a (a
 * fixed function: no seed, no key) and folded into FEATURES_DIM buckets.
 * The group prefix keeps a word of the subject apart from the same word in
 * the text or in the sender's address.
 *
 * Groups:
 *   s   words of the subject          sb  pairs of adjacent subject words
 *   t   words of the opening text     tb  pairs of adjacent text words
 *   p   marks in subject and text: ! $ € £ %, and "caps" for a subject in
 *       capitals (at least 6 ASCII letters, 80 % of them capitals)
 *   the sender: fa address, fl local part, fd domain, fp its last two labels
 *   the rest (meta): dir direction, cls class, flg each MSGFLAG_* bit or
 *       "none", vip and list yes/no, to, cc, att bucketed counts, thr, wwl,
 *       snd, ans thread and sender history, bucketed
 * The sender and the meta group are one group each (their prefixes keep
 * the values apart): a dozen one-value groups of length 1 would outweigh
 * the words, and a correction would move every message alike.
 * A word is a run of ASCII letters and digits or of non-ASCII characters
 * (Unicode punctuation of U+2000..U+206F and U+00A0..U+00BF excepted), lower
 * cased in ASCII and in Latin-1 (Ä Ö Ü É ... as ä ö ü é), 2 to 40 bytes;
 * a run of digits alone is its length class ("#3"), so that order numbers
 * and prices generalise. Only the first FEATURES_SUBJECT_MAX bytes of the
 * subject and FEATURES_TEXT_MAX bytes of the text are read.
 *
 * Within a group, duplicates are counted, then the group is scaled to unit
 * L2 length: a long text weighs as much as a short one, and the dozen
 * values of the meta group together as much as the words. Across groups, pairs that land in
 * the same bucket are summed. The pairs come in the order first found.
 */
#include "msgfeatures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgflags.h"

#define FEATURES_SUBJECT_MAX 300
#define FEATURES_TEXT_MAX    1000 /* 2000 gained 0.001 on the corpus at twice the cost */
#define WORD_MAX             40   /* bytes of one word; longer runs are cut */
#define GROUP_MAX            512  /* features of one group */

/* One group being gathered. */
struct group {
	uint32_t idx[GROUP_MAX];
	size_t n;
};

/* fnv1a - 32-bit FNV-1a over p[0..len), continuing from h */
static uint32_t fnv1a(uint32_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

/* feature_index - the bucket of "prefix\x1fvalue[0..len)" */
static uint32_t feature_index(const char *prefix, const char *value, size_t len)
{
	uint32_t h = fnv1a(2166136261u, prefix, strlen(prefix));
	h = fnv1a(h, "\x1f", 1);
	h = fnv1a(h, value, len);
	/* fold the high bits in: FNV's low bits alone mix less well */
	return (h ^ (h >> FEATURES_BITS)) & (FEATURES_DIM - 1);
}

/* group_add - one feature into g; dropped when the group is full */
static void group_add(struct group *g, const char *prefix, const char *value, size_t len)
{
	if (g->n < GROUP_MAX)
		g->idx[g->n++] = feature_index(prefix, value, len);
}

/* A table that finds where in the vector an index already is, in O(1):
 * sorting each group and the vector cost more than the rest of the work.
 * An entry counts only when its generation is the current one, so that
 * starting over is one increment, not a memset. */
#define DEDUP_SLOTS 8192 /* a power of two, over twice FEATURES_MAX */
static _Thread_local struct {
	uint32_t key[DEDUP_SLOTS], pos[DEDUP_SLOTS], gen[DEDUP_SLOTS];
	uint32_t cur;
} dedup;

/* dedup_reset - forget every entry */
static void dedup_reset(void)
{
	if (++dedup.cur == 0) {
		memset(dedup.gen, 0, sizeof(dedup.gen));
		dedup.cur = 1;
	}
}

/* dedup_slot - the slot of idx: dedup.gen[slot] == dedup.cur when it is there */
static size_t dedup_slot(uint32_t idx)
{
	size_t i = (idx * 2654435761u) >> (32 - 13);
	while (dedup.gen[i] == dedup.cur && dedup.key[i] != idx)
		i = (i + 1) & (DEDUP_SLOTS - 1);
	return i;
}

/* group_flush - g's counted, L2-normalised pairs appended to v (in the
 * order first seen); g emptied */
static void group_flush(struct group *g, struct feature_vector *v)
{
	if (g->n == 0)
		return;
	size_t start = v->n;
	dedup_reset();
	for (size_t i = 0; i < g->n; i++) {
		size_t s = dedup_slot(g->idx[i]);
		if (dedup.gen[s] == dedup.cur) {
			v->value[dedup.pos[s]] += 1.0f;
		} else if (v->n < FEATURES_MAX) {
			dedup.gen[s] = dedup.cur;
			dedup.key[s] = g->idx[i];
			dedup.pos[s] = (uint32_t)v->n;
			v->index[v->n] = g->idx[i];
			v->value[v->n] = 1.0f;
			v->n++;
		}
	}
	double sumsq = 0;
	for (size_t k = start; k < v->n; k++)
		sumsq += (double)v->value[k] * v->value[k];
	double norm = sqrt(sumsq);
	for (size_t k = start; k < v->n; k++)
		v->value[k] = (float)(v->value[k] / norm);
	g->n = 0;
}

/* utf8_whole - the length of w[0..len) without a character cut at its end
 * (by WORD_MAX or by the text cap) */
static size_t utf8_whole(const char *w, size_t len)
{
	size_t start = len;
	while (start > 0 && ((unsigned char)w[start - 1] & 0xc0) == 0x80 && len - start < 3)
		start--;
	if (start == len)
		return len > 0 && (unsigned char)w[len - 1] >= 0xc0 ? len - 1 : len; /* a lone lead byte */
	if (start == 0 || ((unsigned char)w[start - 1] & 0xc0) != 0xc0)
		return len; /* ends in ASCII (or is not UTF-8: left as it is) */
	unsigned char lead = (unsigned char)w[start - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return len - (start - 1) == need ? len : start - 1;
}

/* punct_len - the byte length of a Unicode punctuation character at s that
 * ends a word, 0 when s is none */
static size_t punct_len(const unsigned char *s, size_t left)
{
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0xa0 && s[1] <= 0xbf)
		return 2; /* U+00A0..U+00BF: no-break space, quotes, signs */
	if (left >= 3 && s[0] == 0xe2 && (s[1] == 0x80 || s[1] == 0x81))
		return 3; /* U+2000..U+207F: spaces, dashes, quotes, bullets */
	return 0;
}

/* mark_of - a mark feature's name for s, with its byte length; NULL when none */
static const char *mark_of(const unsigned char *s, size_t left, size_t *len)
{
	*len = 1;
	switch (s[0]) {
	case '!':
		return "!";
	case '$':
		return "$";
	case '%':
		return "%";
	default:
		break;
	}
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x82 && s[2] == 0xac) {
		*len = 3;
		return "eur";
	}
	if (left >= 2 && s[0] == 0xc2 && s[1] == 0xa3) {
		*len = 2;
		return "gbp";
	}
	return NULL;
}

/* Words of one text, handed to a callback. */
typedef void (*word_fn)(void *ctx, const char *w, size_t len);

/* emit_word - a finished word: digit runs become their length class */
static void emit_word(char *w, size_t len, int digits_only, word_fn fn, void *ctx)
{
	if (len < 2 && !digits_only)
		return;
	if (digits_only) {
		char shape[8];
		int n = snprintf(shape, sizeof(shape), "#%zu", len > 9 ? (size_t)9 : len);
		fn(ctx, shape, (size_t)n);
		return;
	}
	fn(ctx, w, len);
}

/* split_words - the words of s[0..max) (to its NUL), lower cased, to fn;
 * marks go to mark_fn */
static void split_words(const char *s, size_t max, word_fn fn, word_fn mark_fn, void *ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	char w[WORD_MAX + 4];
	size_t wl = 0, len = strnlen(s, max);
	int digits_only = 1;

	for (size_t i = 0; i <= len;) {
		size_t left = len - i, plen = 0, mlen = 0;
		unsigned char c = i < len ? p[i] : 0;
		int in_word =
		    c != 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		               (c >= 0x80 && (plen = punct_len(p + i, left)) == 0));
		if (in_word) {
			if (c < 0x80 && (c < '0' || c > '9'))
				digits_only = 0;
			if (c >= 0x80)
				digits_only = 0;
			unsigned char lc = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
			/* Latin-1 capitals U+00C0..U+00DE (not U+00D7): C3 80..9E -> C3 A0..BE */
			if (wl > 0 && (unsigned char)w[wl - 1] == 0xc3 && c >= 0x80 && c <= 0x9e && c != 0x97)
				lc = (unsigned char)(c + 0x20);
			if (wl < WORD_MAX)
				w[wl++] = (char)lc;
			i++;
			continue;
		}
		if (wl > 0)
			emit_word(w, utf8_whole(w, wl), digits_only, fn, ctx);
		wl = 0;
		digits_only = 1;
		if (i == len)
			break;
		const char *mark = mark_of(p + i, left, &mlen);
		if (mark != NULL && mark_fn != NULL)
			mark_fn(ctx, mark, strlen(mark));
		i += plen ? plen : mark ? mlen : 1;
	}
}

/* shouted - 1 when s[0..max) has at least 6 ASCII letters, 80 % of them capitals */
static int shouted(const char *s, size_t max)
{
	size_t upper = 0, letters = 0;
	for (size_t i = 0; i < max && s[i] != '\0'; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			upper++, letters++;
		else if (s[i] >= 'a' && s[i] <= 'z')
			letters++;
	}
	return letters >= 6 && upper * 5 >= letters * 4;
}

/* What the word callbacks add to. */
struct word_ctx {
	struct group *g, *pairs, *marks;
	const char *prefix, *pair_prefix;
	char prev[WORD_MAX + 8];
	size_t prev_len;
};

/* add_word - a word to its group, and with the word before it to the pairs */
static void add_word(void *vctx, const char *w, size_t len)
{
	struct word_ctx *c = vctx;
	group_add(c->g, c->prefix, w, len);
	if (c->pairs == NULL)
		return;
	if (c->prev_len > 0) {
		char pair[2 * WORD_MAX + 16];
		memcpy(pair, c->prev, c->prev_len);
		pair[c->prev_len] = ' ';
		memcpy(pair + c->prev_len + 1, w, len);
		group_add(c->pairs, c->pair_prefix, pair, c->prev_len + 1 + len);
	}
	memcpy(c->prev, w, len);
	c->prev_len = len;
}

/* add_mark - a mark to the marks group */
static void add_mark(void *vctx, const char *w, size_t len)
{
	struct word_ctx *c = vctx;
	group_add(c->marks, "p", w, len);
}

/* add_count - a count's bucket to g: 0, 1, 2, 3-4, 5-8, ... as "0".."8";
 * -1 (unknown) as "u" */
static void add_count(struct group *g, const char *prefix, long long n)
{
	char b[8];
	int k = 0;
	if (n < 0) {
		group_add(g, prefix, "u", 1);
		return;
	}
	while (n > 0 && k < 8) {
		k++;
		n = k == 1 ? n - 1 : n / 2;
	}
	int len = snprintf(b, sizeof(b), "%d", k);
	group_add(g, prefix, b, (size_t)len);
}

/* add_sender - address, local part, domain and its last two labels to g */
static void add_sender(struct group *g, const char *addr)
{
	size_t alen = strnlen(addr, 320);
	const char *at = memchr(addr, '@', alen);
	group_add(g, "fa", addr, alen);
	if (at == NULL)
		return;
	group_add(g, "fl", addr, (size_t)(at - addr));
	const char *dom = at + 1;
	size_t dlen = alen - (size_t)(dom - addr);
	group_add(g, "fd", dom, dlen);
	/* the registrable part, roughly: the last two labels */
	const char *last = NULL, *before = NULL;
	for (const char *q = dom; q < dom + dlen; q++)
		if (*q == '.') {
			before = last;
			last = q;
		}
	const char *reg = before != NULL ? before + 1 : dom;
	group_add(g, "fp", reg, dlen - (size_t)(reg - dom));
}

/* add_meta - what the message is besides its words, one group */
static void add_meta(struct group *g, const struct feature_input *in)
{
	static const char *const flag_names[] = {"bounce", "auto-reply", "out-of-office", "list"};
	if (in->direction != NULL)
		group_add(g, "dir", in->direction, strlen(in->direction));
	if (in->mail_class != NULL)
		group_add(g, "cls", in->mail_class, strlen(in->mail_class));
	int any = 0;
	for (int b = 0; b < 4; b++)
		if (in->flags & (1u << b)) {
			group_add(g, "flg", flag_names[b], strlen(flag_names[b]));
			any = 1;
		}
	if (!any)
		group_add(g, "flg", "none", 4);
	group_add(g, "vip", in->vip ? "1" : "0", 1);
	group_add(g, "list", in->has_list_headers ? "1" : "0", 1);
	add_count(g, "to", (long long)in->n_to);
	add_count(g, "cc", (long long)in->n_cc);
	add_count(g, "att", (long long)in->n_attachments);
	add_count(g, "thr", in->thread_messages);
	group_add(g, "wwl", in->we_wrote_last < 0 ? "u" : in->we_wrote_last ? "1" : "0", 1);
	add_count(g, "snd", in->sender_messages);
	/* the share of a sender's mail we answered, in quarters */
	if (in->sender_messages > 0 && in->sender_answered >= 0) {
		int q = (int)(4.0 * in->sender_answered / in->sender_messages + 0.5);
		char b[4];
		int len = snprintf(b, sizeof(b), "%d", q > 4 ? 4 : q);
		group_add(g, "ans", b, (size_t)len);
	} else {
		group_add(g, "ans", "u", 1);
	}
}

/* merge_duplicates - sum pairs of the same index from different groups;
 * the pairs from own on (the meta group) that stay are counted in n_meta */
static void merge_duplicates(struct feature_vector *v, size_t own)
{
	size_t out = 0, own_out = 0;
	dedup_reset();
	for (size_t i = 0; i < v->n; i++) {
		if (i == own)
			own_out = out;
		size_t s = dedup_slot(v->index[i]);
		if (dedup.gen[s] == dedup.cur) {
			v->value[dedup.pos[s]] += v->value[i];
			continue;
		}
		dedup.gen[s] = dedup.cur;
		dedup.key[s] = v->index[i];
		dedup.pos[s] = (uint32_t)out;
		v->index[out] = v->index[i];
		v->value[out] = v->value[i];
		out++;
	}
	if (own >= v->n)
		own_out = out;
	v->n = out;
	v->n_meta = out - own_out;
}

void features_extract(const struct feature_input *in, struct feature_vector *v)
{
	static _Thread_local struct group g, pairs, marks;

	v->n = v->n_meta = 0;
	g.n = pairs.n = marks.n = 0;
	struct word_ctx wc = {.g = &g, .pairs = &pairs, .marks = &marks, .prefix = "s", .pair_prefix = "sb"};
	if (in->subject != NULL) {
		split_words(in->subject, FEATURES_SUBJECT_MAX, add_word, add_mark, &wc);
		group_flush(&g, v);
		if (shouted(in->subject, FEATURES_SUBJECT_MAX))
			group_add(&marks, "p", "caps", 4);
		group_flush(&pairs, v);
	}
	if (in->text != NULL) {
		wc.prefix = "t";
		wc.pair_prefix = "tb";
		wc.prev_len = 0;
		wc.pairs = &pairs;
		split_words(in->text, FEATURES_TEXT_MAX, add_word, add_mark, &wc);
		group_flush(&g, v);
		group_flush(&pairs, v);
	}
	group_flush(&marks, v);
	if (in->from_addr != NULL && in->from_addr[0] != '\0') {
		add_sender(&g, in->from_addr);
		group_flush(&g, v);
	}
	size_t own = v->n;
	add_meta(&g, in);
	group_flush(&g, v);
	merge_duplicates(v, own);
}
