/* test-features.c - features_extract(): the same input gives the same
 * vector, the documented hash and folding, per-group L2 length, caps.
 */
#include "msgfeatures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msgflags.h"
#include "tap.h"

/* Every input has the meta group: flg vip list to cc att thr wwl snd ans. */
#define META_FEATURES 10

/* input - a message with nothing but the given subject and text */
static struct feature_input input(const char *subject, const char *text)
{
	struct feature_input in = {.subject = subject,
	                           .text = text,
	                           .thread_messages = -1,
	                           .we_wrote_last = -1,
	                           .sender_messages = -1,
	                           .sender_answered = -1};
	return in;
}

/* same - 1 when a and b hold the same pairs */
static int same(const struct feature_vector *a, const struct feature_vector *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->index[i] != b->index[i] || a->value[i] != b->value[i])
			return 0;
	return 1;
}

/* sumsq - the squared L2 length of v */
static double sumsq(const struct feature_vector *v)
{
	double s = 0;
	for (size_t i = 0; i < v->n; i++)
		s += (double)v->value[i] * v->value[i];
	return s;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* well_formed - indexes unique and in range; values finite and positive */
static int well_formed(const struct feature_vector *v)
{
	static uint32_t sorted[FEATURES_MAX];
	if (v->n > FEATURES_MAX)
		return 0;
	memcpy(sorted, v->index, v->n * sizeof(sorted[0]));
	qsort(sorted, v->n, sizeof(sorted[0]), cmp_u32);
	for (size_t i = 0; i < v->n; i++) {
		if (sorted[i] >= FEATURES_DIM || (i > 0 && sorted[i] == sorted[i - 1]))
			return 0;
		if (!isfinite(v->value[i]) || v->value[i] <= 0)
			return 0;
	}
	return 1;
}

/* has_index - 1 when v has a pair for idx */
static int has_index(const struct feature_vector *v, uint32_t idx)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->index[i] == idx)
			return 1;
	return 0;
}

/* reference_index - the documented hash: FNV-1a 32 of "group\x1fvalue", high bits folded */
static uint32_t reference_index(const char *feature, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)feature[i];
		h *= 16777619u;
	}
	return (h ^ (h >> FEATURES_BITS)) & (FEATURES_DIM - 1);
}

static struct feature_vector a, b;

static void test_determinism(void)
{
	struct feature_input in =
	    input("Ihre Bestellung 4711 ist unterwegs", "Guten Tag,\nIhr Paket kommt morgen.");
	in.from_addr = "versand@shop.example.de";
	in.direction = "inbound";
	in.flags = MSGFLAG_MAILING_LIST | MSGFLAG_AUTO_REPLY;
	in.mail_class = "newsletter";
	in.n_to = 3;
	in.n_attachments = 1;
	features_extract(&in, &a);
	features_extract(&in, &b);
	ok(a.n > 0 && same(&a, &b), "the same input gives the same vector (%zu pairs)", a.n);
	ok(well_formed(&a), "indexes unique and in range; values finite");

	in.flags = MSGFLAG_MAILING_LIST;
	features_extract(&in, &b);
	ok(!same(&a, &b), "another flag gives another vector");
	in.flags = MSGFLAG_MAILING_LIST | MSGFLAG_AUTO_REPLY;
	in.from_addr = "versand@shop.example.com";
	features_extract(&in, &b);
	ok(!same(&a, &b), "another sender domain gives another vector");
}

static void test_hash(void)
{
	struct feature_input in = input("Hello", NULL);
	features_extract(&in, &a);
	ok(has_index(&a, reference_index("s\x1fhello", 7)),
	   "subject word \"hello\" is FNV-1a of \"s\\x1fhello\"");
	ok(!has_index(&a, reference_index("t\x1fhello", 7)), "and not the text's \"hello\"");
	in = input(NULL, "hello");
	features_extract(&in, &b);
	ok(has_index(&b, reference_index("t\x1fhello", 7)),
	   "text word \"hello\" is FNV-1a of \"t\\x1fhello\"");
	in = input("x", NULL);
	in.from_addr = "Anna@Kunde.example";
	in.direction = "outbound";
	features_extract(&in, &a);
	ok(has_index(&a, reference_index("fd\x1fKunde.example", 16)), "the sender's domain, as given");
	ok(has_index(&a, reference_index("dir\x1foutbound", 12)), "the direction");
}

static void test_words(void)
{
	struct feature_input x = input("ÜBER Straße ANGEBOT", "Größe ÄNDERN"),
	                     y = input("über straße angebot", "größe ändern");
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(same(&a, &b), "ASCII and Latin-1 capitals are folded (Ü Ä Ö as ü ä ö)");

	x = input("Order 12345 shipped", NULL);
	y = input("Order 67890 shipped", NULL);
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(same(&a, &b), "digit runs of one length are one feature");
	y = input("Order 678901 shipped", NULL);
	features_extract(&y, &b);
	ok(!same(&a, &b), "but not of another length");

	x = input("hello, world!", NULL);
	y = input("hello \xe2\x80\x94 world \xe2\x80\x9c!", NULL);
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(same(&a, &b), "Unicode dashes and quotes end words like ASCII punctuation");
	y = input("hello world", NULL);
	features_extract(&y, &b);
	ok(!same(&a, &b), "\"!\" is a feature of its own");

	x = input("free money", NULL);
	y = input("money free", NULL);
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(!same(&a, &b), "subject word pairs keep the order");
	x = input(NULL, "free money");
	y = input(NULL, "money free");
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(!same(&a, &b), "so do text word pairs");
}

static void test_norm(void)
{
	struct feature_input in = input("alpha beta", NULL);
	features_extract(&in, &a);
	/* s, sb and the fixed groups, each of length 1 */
	ok(fabs(sumsq(&a) - 3) < 1e-4, "each group (s, sb, meta) has unit length: got %.5f, want 3",
	   sumsq(&a));
	static char text[20000];
	size_t n = 0;
	while (n + 12 < 1900) {
		memcpy(text + n, "word again ", 11);
		n += 11;
	}
	text[n] = '\0';
	in = input(NULL, text);
	features_extract(&in, &a);
	ok(fabs(sumsq(&a) - 3) < 1e-4,
	   "a long repetitive text: t, tb and meta of unit length: got %.5f, want 3", sumsq(&a));
	in = input("FREE OFFER FOR YOU", NULL);
	features_extract(&in, &a);
	in = input("Free Offer For You", NULL);
	features_extract(&in, &b);
	ok(a.n == b.n + 1, "a subject in capitals has the \"caps\" mark: %zu vs %zu pairs", a.n, b.n);
}

static void test_caps(void)
{
	static char big[200000], other[200000];
	size_t n = 0;
	for (unsigned i = 0; n + 16 < sizeof(big) - 1; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "w%xq ", i);
	memcpy(other, big, n + 1);
	other[5000] = 'Z'; /* past the text cap */
	struct feature_input in = input(big, big);
	features_extract(&in, &a);
	ok(well_formed(&a) && a.n <= FEATURES_MAX, "a huge subject and text stay within FEATURES_MAX (%zu)",
	   a.n);
	in = input(NULL, big);
	features_extract(&in, &a);
	in = input(NULL, other);
	features_extract(&in, &b);
	ok(same(&a, &b), "text past the cap is not read");
	other[100] = 'Z';
	features_extract(&in, &b);
	ok(!same(&a, &b), "text within the cap is");

	/* a word of 2-byte characters cut at the text cap: no half character */
	static char umlauts[4000];
	for (size_t i = 0; i + 1 < sizeof(umlauts) - 1; i += 2)
		memcpy(umlauts + i, "\xc3\xa4", 2);
	in = input(NULL, umlauts + 1); /* odd offset: the cap falls inside a character */
	features_extract(&in, &a);
	ok(well_formed(&a), "a cut multi-byte word gives a well-formed vector");

	struct feature_input empty = input(NULL, NULL);
	features_extract(&empty, &a);
	ok(a.n == META_FEATURES && fabs(sumsq(&a) - 1) < 1e-4,
	   "an empty input has the meta group only: got %zu, want %d", a.n, META_FEATURES);
}

static void test_counts(void)
{
	struct feature_input x = input("s", NULL), y = input("s", NULL);
	x.n_to = 5;
	y.n_to = 8;
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(same(&a, &b), "5 and 8 recipients share a bucket");
	y.n_to = 9;
	features_extract(&y, &b);
	ok(!same(&a, &b), "9 does not");
	x = input("s", NULL);
	y = input("s", NULL);
	y.sender_messages = 0;
	features_extract(&x, &a);
	features_extract(&y, &b);
	ok(!same(&a, &b), "an unknown sender history differs from none");
}

int main(void)
{
	test_determinism();
	test_hash();
	test_words();
	test_norm();
	test_caps();
	test_counts();
	return done_testing();
}
