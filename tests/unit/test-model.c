/* test-model.c - the local model: learning moves similar messages, an
 * inbox's part stays in its inbox, save and load keep every prediction,
 * a damaged blob is refused.
 */
#include "model.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* vec - the features of a message with this subject, text and sender */
static void vec(struct feature_vector *v, const char *subject, const char *text, const char *from)
{
	struct feature_input in = {.subject = subject,
	                           .text = text,
	                           .from_addr = from,
	                           .direction = "inbound",
	                           .thread_messages = -1,
	                           .we_wrote_last = -1,
	                           .sender_messages = -1,
	                           .sender_answered = -1};
	features_extract(&in, v);
}

static struct feature_vector spam[4], ham[4], probe_similar, probe_other;

static const char *const spam_subjects[4] = {"Cheap watches, huge discount",
                                             "Huge discount on luxury watches", "Win a free cruise today",
                                             "Limited offer: cheap pills"};
static const char *const ham_subjects[4] = {"Meeting on Tuesday", "Your invoice 2041 for March",
                                            "Re: the delivery of order 5531", "Question about the contract"};

static void setup(void)
{
	for (int i = 0; i < 4; i++) {
		vec(&spam[i], spam_subjects[i], "Click here to buy now, best price guaranteed!",
		    "promo@deals.example");
		vec(&ham[i], ham_subjects[i], "Hello, could you please have a look. Thanks, Anna",
		    "anna@kunde.example");
	}
	vec(&probe_similar, "Quarterly newsletter: product update",
	    "Read our product update and the newsletter", "news@vendor.example");
	vec(&probe_other, "Re: the delivery of order 7788", "Hello, where is my parcel? Thanks, Bernd",
	    "bernd@kunde.example");
}

/* logit - the log-odds of p */
static double logit(double p)
{
	return log(p / (1 - p));
}

/* train - a few rounds over the spam and ham examples in inbox */
static void train(struct model *m, const char *inbox)
{
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 4; i++) {
			model_learn(m, "advertising", inbox, &spam[i], 1, 1.0);
			model_learn(m, "advertising", inbox, &ham[i], 0, 1.0);
		}
}

static void test_learning(void)
{
	struct model *m = model_new();
	ok(model_predict(m, "advertising", NULL, &spam[0]) == 0.5, "a head never trained says 0.5");
	is_int(model_examples(m, "advertising"), 0, "no examples yet");
	train(m, NULL);
	is_int(model_examples(m, "advertising"), 40, "40 examples learnt");
	double ps = model_predict(m, "advertising", NULL, &spam[2]),
	       ph = model_predict(m, "advertising", NULL, &ham[1]);
	ok(ps > 0.8 && ph < 0.2, "it learnt the training examples: spam %.3f, ham %.3f", ps, ph);

	/* An agent marks one newsletter as advertising; a similar one (other
	 * subject, same sender and wording) must move, an unrelated one hardly. */
	struct feature_vector corrected;
	vec(&corrected, "Monthly newsletter: product update", "Read our product update and the newsletter",
	    "news@vendor.example");
	double before = model_predict(m, "advertising", NULL, &probe_similar);
	double other_before = model_predict(m, "advertising", NULL, &probe_other);
	ok(model_learn(m, "advertising", NULL, &corrected, 1, 5.0) == 0, "a correction with weight 5");
	double after = model_predict(m, "advertising", NULL, &probe_similar);
	double other_after = model_predict(m, "advertising", NULL, &probe_other);
	ok(after > before + 0.1, "a similar message's score rose: %.3f -> %.3f", before, after);
	/* compared as log-odds: a probability near 1 can hardly rise further */
	double moved = logit(after) - logit(before),
	       other_moved = fabs(logit(other_after) - logit(other_before));
	ok(other_moved < moved / 2,
	   "an unrelated message moved less: %.3f -> %.3f (log-odds %+.2f against %+.2f)", other_before,
	   other_after, other_moved, moved);
	ok(model_predict(m, "level:urgent", NULL, &spam[0]) == 0.5, "another head is untouched");
	model_free(&m);
	ok(m == NULL, "model_free clears the pointer");

	/* A young model and one "urgent" correction: what the corrected message
	 * shares with every other one (bias, direction, counts) must not make
	 * every message urgent; the correction is about messages like it. */
	ok(ham[0].n_meta > 0 && ham[0].n_meta < ham[0].n, "the meta group is marked: %zu of %zu pairs",
	   ham[0].n_meta, ham[0].n);
	m = model_new();
	ok(model_learn(m, "level:urgent", NULL, &ham[2], 1, 5.0) == 0, "one urgent correction on a new model");
	double same = model_predict(m, "level:urgent", NULL, &ham[2]),
	       unrelated = model_predict(m, "level:urgent", NULL, &spam[2]);
	ok(same > 0.95, "the corrected message is now urgent: %.3f", same);
	ok(unrelated < 0.7, "a message with no word or sender in common stays near even: %.3f", unrelated);
	model_free(&m);
}

static void test_inboxes(void)
{
	struct model *m = model_new();
	train(m, NULL);
	for (int i = 0; i < 10; i++)
		model_learn(m, "advertising", "sales", &probe_similar, 1, 1.0);
	double g = model_predict(m, "advertising", NULL, &probe_similar);
	double sales = model_predict(m, "advertising", "sales", &probe_similar);
	double support = model_predict(m, "advertising", "support", &probe_similar);
	ok(sales > g, "the inbox part adds to the global part in its inbox: %.3f > %.3f", sales, g);
	ok(support == g, "another inbox sees only the global part: %.6f == %.6f", support, g);

	/* learning in support now moves support, not sales's own part */
	struct model *twin = model_new();
	train(twin, NULL);
	for (int i = 0; i < 10; i++)
		model_learn(twin, "advertising", "sales", &probe_similar, 1, 1.0);
	for (int i = 0; i < 10; i++)
		model_learn(m, "advertising", "support", &probe_similar, 0, 1.0);
	double support2 = model_predict(m, "advertising", "support", &probe_similar);
	double g2 = model_predict(m, "advertising", NULL, &probe_similar);
	ok(support2 < g2, "support's own part pulls down in support: %.3f < %.3f", support2, g2);
	model_free(&m);
	model_free(&twin);
}

/* predictions_equal - every probe scores bit for bit the same in a and b */
static int predictions_equal(const struct model *a, const struct model *b)
{
	const struct feature_vector *probes[] = {&spam[0], &spam[3],       &ham[0],
	                                         &ham[2],  &probe_similar, &probe_other};
	const char *inboxes[] = {NULL, "sales", "support", "unknown"};
	const char *heads[] = {"advertising", "level:high", "none"};
	for (size_t p = 0; p < 6; p++)
		for (size_t i = 0; i < 4; i++)
			for (size_t h = 0; h < 3; h++)
				if (model_predict(a, heads[h], inboxes[i], probes[p]) !=
				    model_predict(b, heads[h], inboxes[i], probes[p]))
					return 0;
	return 1;
}

/* rehash - put a valid checksum on buf after it was edited */
static void rehash(unsigned char *buf, size_t len)
{
	crypto_generichash(buf + len - 32, 32, buf, len - 32, NULL, 0);
}

/* put32 - a little-endian u32 at p */
static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void test_save_load(void)
{
	struct model *m = model_new(), *l;
	char err[256];
	unsigned char *buf, *buf2, *bad;
	size_t len, len2;

	train(m, NULL);
	train(m, "sales");
	model_learn(m, "level:high", "support", &ham[2], 1, 3.0);
	int rc = model_save(m, &buf, &len);
	ok(rc == 0, "saved (%zu bytes)", len);
	l = model_load(buf, len, err, sizeof(err));
	ok(l != NULL, "loaded back%s%s", l ? "" : ": ", l ? "" : err);
	if (l == NULL)
		return;
	ok(predictions_equal(m, l), "every prediction is the same after the round trip");
	is_int(model_examples(l, "advertising"), model_examples(m, "advertising"), "the example count too");
	ok(model_save(l, &buf2, &len2) == 0 && len2 == len && memcmp(buf, buf2, len) == 0,
	   "saving the loaded model gives the same bytes");
	free(buf2);
	/* learning continues the same way on both */
	model_learn(m, "advertising", "sales", &probe_other, 1, 2.0);
	model_learn(l, "advertising", "sales", &probe_other, 1, 2.0);
	ok(predictions_equal(m, l), "and learning goes on the same way");
	model_free(&l);

	struct model *empty = model_new();
	unsigned char *ebuf;
	size_t elen;
	ok(model_save(empty, &ebuf, &elen) == 0 && (l = model_load(ebuf, elen, err, sizeof(err))) != NULL,
	   "an empty model round-trips");
	model_free(&l);
	model_free(&empty);
	free(ebuf);

	/* damage */
	bad = malloc(len);
	int refused = 0, tried = 0;
	for (size_t pos = 0; pos < len; pos += len / 97 + 1) {
		memcpy(bad, buf, len);
		bad[pos] ^= 0x40;
		tried++;
		if ((l = model_load(bad, len, err, sizeof(err))) == NULL)
			refused++;
		model_free(&l);
	}
	is_int(refused, tried, "every flipped byte is refused (%d positions)", tried);
	refused = tried = 0;
	for (size_t cut = 0; cut < len; cut += len / 89 + 1) {
		tried++;
		if ((l = model_load(buf, cut, err, sizeof(err))) == NULL)
			refused++;
		model_free(&l);
	}
	is_int(refused, tried, "every truncation is refused (%d lengths)", tried);
	memcpy(bad, buf, len);
	bad[0] = 'X';
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "magic") != NULL, "wrong magic: %s", err);
	memcpy(bad, buf, len);
	put32(bad + 8, 3);
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "version") != NULL, "unknown version: %s", err);
	memcpy(bad, buf, len);
	put32(bad + 12, 1000000000u);
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "heads") != NULL, "a huge head count, checksum fixed: %s", err);
	/* the heads (name length, name, examples), then the global part: a bias
	 * and its sum per head (8 bytes each), then its row count */
	size_t heads = (size_t)buf[12] | (size_t)buf[13] << 8, at = 16;
	for (size_t h = 0; h < heads; h++)
		at += 2 + ((size_t)buf[at] | (size_t)buf[at + 1] << 8) + 8;
	at += 8 * heads;
	memcpy(bad, buf, len);
	put32(bad + at, 0xfffffff0u);
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "weights") != NULL, "a huge weight count, checksum fixed: %s", err);
	memcpy(bad, buf, len);
	put32(bad + at + 4, FEATURES_DIM); /* the first weight's index */
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "range") != NULL, "an index out of range, checksum fixed: %s", err);
	memcpy(bad, buf, len);
	put32(bad + at + 8, 0x7fc00000u); /* the first row's first weight: NaN */
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "finite") != NULL, "a NaN weight, checksum fixed: %s", err);
	unsigned char *longer = malloc(len + 4);
	memcpy(longer, buf, len - 32);
	memset(longer + len - 32, 0, 4);
	rehash(longer, len + 4);
	l = model_load(longer, len + 4, err, sizeof(err));
	ok(l == NULL && strstr(err, "after the last head") != NULL, "bytes after the last head: %s", err);
	free(longer);
	memcpy(bad, buf, len);
	put32(bad + at + 12, 0xbf800000u); /* the first row's first sum of squares: -1 */
	rehash(bad, len);
	l = model_load(bad, len, err, sizeof(err));
	ok(l == NULL && strstr(err, "range") != NULL, "a negative sum of squares, checksum fixed: %s", err);
	free(bad);
	free(buf);
	model_free(&m);
}

/* test_predict_heads - several heads at once give what one at a time gives,
 * heads never trained included */
static void test_predict_heads(void)
{
	struct model *m = model_new();
	train(m, NULL);
	train(m, "sales");
	model_learn(m, "level:high", "support", &ham[2], 1, 3.0);
	const char *heads[] = {"level:high", "none", "advertising"};
	const char *inboxes[] = {NULL, "sales", "support", "unknown"};
	int same = 1;
	for (size_t i = 0; i < 4; i++) {
		double p[3];
		model_predict_heads(m, heads, 3, inboxes[i], &probe_similar, p);
		for (size_t h = 0; h < 3; h++)
			same &= p[h] == model_predict(m, heads[h], inboxes[i], &probe_similar);
	}
	ok(same, "model_predict_heads equals model_predict for every head and inbox");
	/* more heads than one pass takes */
	char names[40][16];
	const char *many[40];
	double p[40];
	for (int h = 0; h < 40; h++) {
		snprintf(names[h], sizeof(names[h]), "h%d", h);
		many[h] = names[h];
		model_learn(m, many[h], "sales", &spam[h % 4], h % 2, 1.0);
	}
	model_predict_heads(m, many, 40, "sales", &spam[1], p);
	same = 1;
	for (int h = 0; h < 40; h++)
		same &= p[h] == model_predict(m, many[h], "sales", &spam[1]);
	ok(same, "and so for 40 heads, learnt after others (the rows widened)");
	model_free(&m);
}

/* A format-1 blob written by hand, as mailroom stored models before. */
struct v1 {
	unsigned char b[1024];
	size_t n;
};

static void v1_u32(struct v1 *o, uint32_t v)
{
	put32(o->b + o->n, v);
	o->n += 4;
}

static void v1_f32(struct v1 *o, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	v1_u32(o, u);
}

static void v1_name(struct v1 *o, const char *s)
{
	size_t n = strlen(s);
	o->b[o->n++] = (unsigned char)n;
	o->b[o->n++] = 0;
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

/* v1_part - a part: bias, its sum, then cells (index, weight, sum) */
static void v1_part(struct v1 *o, float bias, size_t n, const uint32_t *idx, const float *w)
{
	v1_f32(o, bias);
	v1_f32(o, 1.0f);
	v1_u32(o, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		v1_u32(o, idx[i]);
		v1_f32(o, w[i]);
		v1_f32(o, 2.0f);
	}
}

/* v1_blob - two heads: advertising (global, inbox sales) and level:high
 * (global, inbox support, and sales twice when dup) */
static void v1_blob(struct v1 *o, int dup)
{
	o->n = 0;
	memcpy(o->b, "MRMODEL1", 8);
	o->n = 8;
	v1_u32(o, 1);
	v1_u32(o, 2);
	v1_name(o, "advertising");
	v1_u32(o, 7);
	v1_u32(o, 0);
	v1_part(o, 0.25f, 2, (const uint32_t[]){5, 9}, (const float[]){1.5f, -2.0f});
	v1_u32(o, 1);
	v1_name(o, "sales");
	v1_part(o, 0.5f, 1, (const uint32_t[]){9}, (const float[]){1.0f});
	v1_name(o, "level:high");
	v1_u32(o, 3);
	v1_u32(o, 0);
	v1_part(o, -1.0f, 0, NULL, NULL);
	v1_u32(o, dup ? 2 : 1);
	v1_name(o, "support");
	v1_part(o, 0.75f, 1, (const uint32_t[]){5}, (const float[]){0.5f});
	if (dup) {
		v1_name(o, "support");
		v1_part(o, 0.75f, 0, NULL, NULL);
	}
	o->n += 32;
	rehash(o->b, o->n);
}

static double sig(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

/* test_v1 - a model of the previous format is converted on loading */
static void test_v1(void)
{
	struct v1 o;
	char err[256];
	struct feature_vector v = {.n = 2, .index = {5, 9}, .value = {1.0f, 0.5f}};
	v1_blob(&o, 0);
	struct model *m = model_load(o.b, o.n, err, sizeof(err));
	ok(m != NULL, "a format-1 model loads%s%s", m ? "" : ": ", m ? "" : err);
	if (m == NULL)
		return;
	struct {
		const char *head, *inbox;
		double z;
	} want[] = {
	    {"advertising", NULL, 0.25 + 1.5 - 2.0 * 0.5},
	    {"advertising", "sales", 0.25 + 0.5 + 1.5 + (-2.0 + 1.0) * 0.5},
	    {"advertising", "support", 0.25 + 1.5 - 2.0 * 0.5},
	    {"level:high", NULL, -1.0},
	    {"level:high", "support", -1.0 + 0.75 + 0.5},
	    {"level:high", "sales", -1.0},
	};
	int good = 1;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		double p = model_predict(m, want[i].head, want[i].inbox, &v);
		if (fabs(p - sig(want[i].z)) > 1e-12) {
			printf("# %s in %s: %.9f, want %.9f\n", want[i].head,
			       want[i].inbox ? want[i].inbox : "-", p, sig(want[i].z));
			good = 0;
		}
	}
	ok(good, "it predicts what its weights say, each head with its own inboxes");
	ok(model_examples(m, "advertising") == 7 && model_examples(m, "level:high") == 3,
	   "the example counts are kept");
	unsigned char *buf;
	size_t len;
	struct model *l = NULL;
	ok(model_save(m, &buf, &len) == 0 && (l = model_load(buf, len, err, sizeof(err))) != NULL &&
	       buf[8] == 2,
	   "saved again in format 2, which loads");
	good = l != NULL;
	for (size_t i = 0; l != NULL && i < sizeof(want) / sizeof(want[0]); i++)
		good &= model_predict(l, want[i].head, want[i].inbox, &v) ==
		        model_predict(m, want[i].head, want[i].inbox, &v);
	ok(good, "with the same predictions");
	free(buf);
	model_free(&l);
	model_free(&m);

	v1_blob(&o, 1);
	m = model_load(o.b, o.n, err, sizeof(err));
	ok(m == NULL && strstr(err, "twice") != NULL, "format 1: an inbox twice in a head: %s", err);
	v1_blob(&o, 0);
	put32(o.b + 16 + 2 + 11 + 8 + 8 + 4 + 12, 3); /* advertising's second index below its first */
	rehash(o.b, o.n);
	m = model_load(o.b, o.n, err, sizeof(err));
	ok(m == NULL && strstr(err, "order") != NULL, "format 1: indexes out of order: %s", err);
	int refused = 0, tried = 0;
	for (size_t cut = 0; cut < o.n; cut++) {
		v1_blob(&o, 0);
		tried++;
		if ((m = model_load(o.b, cut, err, sizeof(err))) == NULL)
			refused++;
		model_free(&m);
	}
	is_int(refused, tried, "format 1: every truncation is refused (%d lengths)", tried);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	setup();
	test_learning();
	test_inboxes();
	test_save_load();
	test_predict_heads();
	test_v1();
	return done_testing();
}
