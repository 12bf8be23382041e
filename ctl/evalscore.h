/* evalscore.h - replay labelled examples through the local model and
 * score it (the half of `mailroomctl eval` that knows no files).
 *
 * Progressive validation: examples are taken in the order given; each is
 * first predicted by the model as it stands, then learnt. Every head is
 * "PREFIX:LABEL"; the predicted label is the head with the highest
 * probability (ties: the first label in the set's order). The baseline
 * always says the label that is most frequent in the whole set.
 */
#ifndef MAILROOM_CTL_EVALSCORE_H
#define MAILROOM_CTL_EVALSCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EVAL_MAX_LABELS 64

/* One example: what features_extract() needs, owned (malloc'd strings). */
struct eval_example {
	char *subject, *text, *from_addr; /* NULL when none */
	char *source;                     /* file path or "FILE:LINE", for messages and ties */
	int64_t date;                     /* Unix seconds, 0 when unknown */
	unsigned flags;
	size_t n_to, n_cc, n_attachments;
	int has_list_headers;
	int thread_messages; /* -1 when unknown */
	int label;           /* index into eval_set.labels */
};

struct eval_set {
	char *labels[EVAL_MAX_LABELS];
	size_t n_labels;
	struct eval_example *ex;
	size_t n, cap;
	size_t skipped; /* inputs left out, each reported when it was read */
};

/* One label's counts after the replay. */
struct eval_label_score {
	size_t support, predicted, correct;
};

struct eval_result {
	size_t n, correct;
	size_t late_n, late_correct; /* the second half of the replay */
	size_t majority;             /* label index of the baseline */
	struct eval_label_score label[EVAL_MAX_LABELS];
};

/* eval_set_free - free every example and label, and zero the set */
void eval_set_free(struct eval_set *set);
/* eval_replay - replay set (in its order) through a new model with heads
 * "prefix:LABEL"; 0, or -1 with err when out of memory. Sender counts
 * (earlier examples from the same from_addr) are computed on the way, as
 * the worker knows them from the database. */
int eval_replay(const struct eval_set *set, const char *prefix, struct eval_result *r, char *err,
                size_t errlen);
/* eval_print - r as text, or as one JSON object with json; order says how
 * the examples were ordered. 0, or -1 when writing failed. */
int eval_print(FILE *out, const struct eval_set *set, const struct eval_result *r, const char *order,
               int json);

#endif
