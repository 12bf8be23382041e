/* model-impl.h - the inside of the local model, shared by lib/model.c
 * (tables, predicting, learning) and lib/model-store.c (the serialised
 * form); nothing else includes it.
 *
 * A part (the global one, one per inbox) is one open-addressing hash table
 * from feature index to a row that holds the weights of every head side by
 * side: predicting several heads costs one lookup per feature and part,
 * whatever the number of heads. A row is the key followed by the weights,
 * m->stride 32-bit words (a power of two, so that a row of up to 15 heads
 * sits in one cache line); the sums of squared gradients, which only
 * learning reads, live in a parallel array so that they do not widen the
 * rows that predicting walks.
 */
#ifndef MAILROOM_LIB_MODEL_IMPL_H
#define MAILROOM_LIB_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define MODEL_MAX_HEADS   256
#define MODEL_MAX_INBOXES 4096 /* per model */
#define MODEL_MAX_NAME    200  /* bytes of a head's or an inbox's name */
#define MODEL_EMPTY       UINT32_MAX

/* A word of a row: the key (first word) or a weight. */
union model_word {
	uint32_t key; /* MODEL_EMPTY or a feature index */
	float w;
};

struct model_cell {
	float w, g2;
};

/* A sparse weight table with the bias of every head. */
struct model_part {
	union model_word *row;   /* cap rows of stride words */
	float *g2;               /* cap rows of cols sums of squared gradients */
	size_t cap, n;           /* cap a power of two, 0 when nothing is stored */
	struct model_cell *bias; /* cols cells */
};

struct model_inbox {
	char *name;
	struct model_part part;
	uint32_t mark; /* scratch for loading the old format: last head that named it, plus 1 */
};

struct model_head {
	char *name;
	long long examples;
};

struct model {
	struct model_head *heads; /* a head's position is its column */
	size_t n_heads;
	size_t stride, cols; /* words per row; cols = stride - 1 >= n_heads */
	struct model_part global;
	struct model_inbox **inboxes; /* hash table of cap_inboxes slots */
	size_t n_inboxes, cap_inboxes;
	struct model_inbox **order; /* the inboxes in the order they came, for saving */
};

/* model_columns - make room for at least n heads in every part; 0, or -1
 * when out of memory (then nothing changed) */
int model_columns(struct model *m, size_t n);

/* model_head_find - the column of the head of that name, -1 when none */
long model_head_find(const struct model *m, const char *name);

/* model_head_add - a new head's column; -1 when out of memory or over the caps */
long model_head_add(struct model *m, const char *name);

/* model_inbox_find - the inbox of that name, NULL when none */
struct model_inbox *model_inbox_find(const struct model *m, const char *name);

/* model_inbox_add - a new, empty inbox part; NULL when out of memory or over the cap */
struct model_inbox *model_inbox_add(struct model *m, const char *name);

/* model_row_find - the slot of idx in p, -1 when not stored */
long model_row_find(const struct model *m, const struct model_part *p, uint32_t idx);

/* model_row_get - the slot of idx in p, made (zero) when missing; -1 when out of memory */
long model_row_get(const struct model *m, struct model_part *p, uint32_t idx);

#endif
