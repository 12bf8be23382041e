/* evalscore.c - progressive replay of labelled examples, and the scores. */
#include "evalscore.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define HEAD_MAX 160

void eval_set_free(struct eval_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->ex[i].subject);
		free(set->ex[i].text);
		free(set->ex[i].from_addr);
		free(set->ex[i].source);
	}
	free(set->ex);
	for (size_t i = 0; i < set->n_labels; i++)
		free(set->labels[i]);
	memset(set, 0, sizeof(*set));
}

/* A count per sender address seen so far: open addressing over a copy of each address. */
struct senders {
	char **addr;
	int *count;
	size_t cap, n;
};

static size_t addr_hash(const char *s)
{
	size_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* senders_bump - the count of addr before this message, then one more; -1 when out of memory */
static int senders_bump(struct senders *s, const char *addr)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct senders ns = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(int)), cap, s->n};
		if (ns.addr == NULL || ns.count == NULL) {
			free(ns.addr);
			free(ns.count);
			return -1;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->addr[i] == NULL)
				continue;
			size_t j = addr_hash(s->addr[i]) & (cap - 1);
			while (ns.addr[j] != NULL)
				j = (j + 1) & (cap - 1);
			ns.addr[j] = s->addr[i];
			ns.count[j] = s->count[i];
		}
		free(s->addr);
		free(s->count);
		*s = ns;
	}
	size_t i = addr_hash(addr) & (s->cap - 1);
	while (s->addr[i] != NULL && strcmp(s->addr[i], addr) != 0)
		i = (i + 1) & (s->cap - 1);
	if (s->addr[i] == NULL) {
		if ((s->addr[i] = strdup(addr)) == NULL)
			return -1;
		s->n++;
	}
	return s->count[i]++;
}

static void senders_free(struct senders *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->addr[i]);
	free(s->addr);
	free(s->count);
}

/* features_of - the feature vector of example e */
static void features_of(const struct eval_example *e, int sender_messages, struct feature_vector *v)
{
	struct feature_input in = {
	    .subject = e->subject,
	    .text = e->text,
	    .from_addr = e->from_addr,
	    .direction = "inbound",
	    .flags = e->flags,
	    .n_to = e->n_to,
	    .n_cc = e->n_cc,
	    .n_attachments = e->n_attachments,
	    .has_list_headers = e->has_list_headers,
	    .thread_messages = e->thread_messages,
	    .we_wrote_last = -1,
	    .sender_messages = sender_messages,
	    .sender_answered = -1,
	};
	features_extract(&in, v);
}

int eval_replay(const struct eval_set *set, const char *prefix, struct eval_result *r, char *err,
                size_t errlen)
{
	static struct feature_vector v;
	char heads[EVAL_MAX_LABELS][HEAD_MAX];
	const char *names[EVAL_MAX_LABELS];
	double p[EVAL_MAX_LABELS];
	struct senders senders = {0};
	struct model *m = model_new();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (m == NULL)
		goto done;
	for (size_t k = 0; k < set->n_labels; k++) {
		names[k] = heads[k];
		snprintf(heads[k], sizeof(heads[k]), "%s:%s", prefix, set->labels[k]);
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct eval_example *e = &set->ex[i];
		int sender_messages = -1;
		if (e->from_addr != NULL && (sender_messages = senders_bump(&senders, e->from_addr)) < 0)
			goto done;
		features_of(e, sender_messages, &v);
		size_t best = 0;
		double best_p = -1;
		model_predict_heads(m, names, set->n_labels, NULL, &v, p);
		for (size_t k = 0; k < set->n_labels; k++) {
			if (p[k] > best_p) {
				best_p = p[k];
				best = k;
			}
		}
		int hit = best == (size_t)e->label;
		r->n++;
		r->correct += hit;
		if (i >= set->n / 2) {
			r->late_n++;
			r->late_correct += hit;
		}
		r->label[e->label].support++;
		r->label[best].predicted++;
		r->label[best].correct += hit;
		for (size_t k = 0; k < set->n_labels; k++)
			if (model_learn(m, heads[k], NULL, &v, (size_t)e->label == k, 1.0) < 0)
				goto done;
	}
	for (size_t k = 1; k < set->n_labels; k++)
		if (r->label[k].support > r->label[r->majority].support)
			r->majority = k;
	rc = 0;
done:
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	senders_free(&senders);
	model_free(&m);
	return rc;
}

/* ratio - a / b, 0 when b is 0 */
static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* f1 - the harmonic mean of precision and recall */
static double f1(double p, double r)
{
	return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

/* print_json - the result as one JSON object */
static int print_json(FILE *out, const struct eval_set *set, const struct eval_result *r, const char *order)
{
	json_t *labels = json_array();
	double macro = 0;
	for (size_t k = 0; k < set->n_labels; k++) {
		const struct eval_label_score *s = &r->label[k];
		double p = ratio(s->correct, s->predicted), rc = ratio(s->correct, s->support);
		macro += f1(p, rc);
		json_array_append_new(labels, json_pack("{s:s, s:f, s:f, s:f, s:I, s:I}", "label",
		                                        set->labels[k], "precision", p, "recall", rc, "f1",
		                                        f1(p, rc), "support", (json_int_t)s->support,
		                                        "predicted", (json_int_t)s->predicted));
	}
	json_t *j = json_pack(
	    "{s:I, s:I, s:s, s:f, s:I, s:f, s:{s:s, s:f}, s:f, s:o}", "examples", (json_int_t)r->n, "skipped",
	    (json_int_t)set->skipped, "order", order, "accuracy", ratio(r->correct, r->n), "correct",
	    (json_int_t)r->correct, "accuracy_second_half", ratio(r->late_correct, r->late_n), "baseline",
	    "label", set->labels[r->majority], "accuracy", ratio(r->label[r->majority].support, r->n),
	    "macro_f1", set->n_labels ? macro / (double)set->n_labels : 0.0, "labels", labels);
	if (j == NULL)
		return -1;
	int rc =
	    json_dumpf(j, out, JSON_COMPACT | JSON_REAL_PRECISION(6)) < 0 || fputc('\n', out) == EOF ? -1 : 0;
	json_decref(j);
	return rc;
}

int eval_print(FILE *out, const struct eval_set *set, const struct eval_result *r, const char *order,
               int json)
{
	if (json)
		return print_json(out, set, r, order);
	fprintf(out, "examples      %zu (", r->n);
	for (size_t k = 0; k < set->n_labels; k++)
		fprintf(out, "%s%s %zu", k ? ", " : "", set->labels[k], r->label[k].support);
	fprintf(out, "), in %s order; %zu skipped\n", order, set->skipped);
	fprintf(out, "accuracy      %.4f  (%zu right; each predicted before it was learnt)\n",
	        ratio(r->correct, r->n), r->correct);
	fprintf(out, "second half   %.4f  (accuracy over the last %zu examples)\n",
	        ratio(r->late_correct, r->late_n), r->late_n);
	fprintf(out, "baseline      %.4f  (always \"%s\", the most frequent label)\n",
	        ratio(r->label[r->majority].support, r->n), set->labels[r->majority]);
	fprintf(out, "\n%-20s %9s %7s %7s %8s\n", "label", "precision", "recall", "F1", "support");
	double macro = 0;
	for (size_t k = 0; k < set->n_labels; k++) {
		const struct eval_label_score *s = &r->label[k];
		double p = ratio(s->correct, s->predicted), rc = ratio(s->correct, s->support);
		macro += f1(p, rc);
		fprintf(out, "%-20.20s %9.4f %7.4f %7.4f %8zu\n", set->labels[k], p, rc, f1(p, rc),
		        s->support);
	}
	fprintf(out, "%-20s %9s %7s %7.4f\n", "macro average", "", "",
	        set->n_labels ? macro / (double)set->n_labels : 0);
	return ferror(out) ? -1 : 0;
}
