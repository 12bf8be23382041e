/* worker-cpu.c - what sorting one message costs mailroom-worker's CPU, without
 * the database.
 *
 * Loads mail files into memory first, then runs on each what the worker's
 * C code does for a message (worker/pipeline.c), through the same functions:
 * sorting_parse() (mimeparse_message() with the worker's caps),
 * sorting_classify() (the header scan for rules, then classify_message(),
 * which runs msgflags_detect() and the rules) and subject_key() for the
 * threading fallback. The database steps (threading queries, storing) are
 * not here; bench/worker.sh measures those. One thread: the rate is per core.
 *
 * Scoring by the local model is timed as a stage of its own beside them:
 * features_extract() of the parsed and classified message, then
 * model_predict_heads() for every head (advertising and the four priority
 * levels) with the inbox's part, then priority_score() (the rules) with
 * the level probabilities, as worker/scoring.c does. The model is trained in the warm-up
 * round on the same messages (labels from a hash of the path, so that
 * every feature gets a weight: the largest model these messages can make)
 * and then only predicts. Its cost is printed as a share of parse +
 * classify + subject key in the same round: the goal is under 10 %.
 *
 * The address book is a small table behind the classify interface (a few
 * contacts and domains, our own domain example.com); the ruleset is eleven
 * rules of the kinds an administrator writes (subject, text, sender,
 * recipient and header patterns). Every message is classified as inbound
 * mail to info@example.com from its From address.
 *
 * usage: worker-cpu [-n MAX] [-r ROUNDS] [PATH...]
 *   PATH    files or folders (walked recursively, sorted by path); default
 *           ../shared/corpus/lists (run from the checkout's top folder)
 *   -n MAX  at most MAX files, the first in path order (default 5000)
 *   -r N    timed rounds after one untimed warm-up round (default 3)
 *
 * Prints the rate of each round, the median, the cost of each stage per
 * message and the spread of the whole per message. For instruction counts,
 * run it under callgrind and collect sort_one() only:
 *   valgrind --tool=callgrind --toggle-collect=sort_one bench/worker-cpu -n 1000 -r 1
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "hdrscan.h"
#include "mailclass.h"
#include "mimeparse.h"
#include "model.h"
#include "msgflags.h"
#include "priority.h"
#include "rules.h"
#include "sorting.h"
#include "subject.h"

#define MAX_FILE_BYTES (64u << 20) /* mimeparse's own default cap */

enum stage { ST_PARSE, ST_CLASSIFY, ST_SUBJECT, ST_SCORE, ST_COUNT };
static const char *const stage_names[ST_COUNT] = {"sorting_parse", "sorting_classify", "subject_key",
                                                  "score (features, 5 heads, priority rules)"};

/* The local model's heads, as the worker asks them. */
static const char *const heads[] = {"advertising", "level:urgent", "level:high", "level:normal", "level:low"};
#define N_HEADS (sizeof(heads) / sizeof(heads[0]))
static struct model *bench_model;
static const char *const rcpts[] = {"info@example.com"}; /* also the inbox of the model's part */
static int bench_learn;                                  /* the warm-up round trains the model */
static int bench_score = 1;   /* 0: leave scoring out (the rounds that compare CPU time) */
static int bench_parts;       /* 1: time the parts of scoring into score_parts */
static double score_parts[3]; /* seconds of CPU: features, heads, priority rules */

struct mail {
	char *path;
	char *data;
	size_t len;
};

static struct {
	char **paths;
	size_t n, cap;
} found;

/* --- the address book: a small table --------------------------------------------- */

static const struct {
	const char *addr;
	struct classify_contact c;
} book_contacts[] = {
    {"anna@kunde.example", {1, 10, CLASSIFY_ORG_CUSTOMER, 0}},
    {"bernd@kunde.example", {2, 10, CLASSIFY_ORG_CUSTOMER, 1}},
    {"rechnung@papierwerk.example", {3, 20, CLASSIFY_ORG_SUPPLIER, 0}},
    {"ralf@linux-mips.org", {4, 30, CLASSIFY_ORG_OTHER, 0}},
    {"max.mustermann@gmail.com", {5, 10, CLASSIFY_ORG_CUSTOMER, 0}},
};

static const struct {
	const char *domain;
	struct classify_org o;
} book_domains[] = {
    {"kunde.example", {10, CLASSIFY_ORG_CUSTOMER, 0}},
    {"papierwerk.example", {20, CLASSIFY_ORG_SUPPLIER, 0}},
    {"mips.com", {40, CLASSIFY_ORG_CUSTOMER, 0}},
    {"broadcom.com", {41, CLASSIFY_ORG_SUPPLIER, 0}},
};

/* book_address - classify's lookup_address over book_contacts */
static int book_address(void *ctx, const char *addr, struct classify_contact *out)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(book_contacts) / sizeof(book_contacts[0]); i++) {
		if (strcmp(addr, book_contacts[i].addr) == 0) {
			*out = book_contacts[i].c;
			return 1;
		}
	}
	return 0;
}

/* book_domain - classify's lookup_domain over book_domains */
static int book_domain(void *ctx, const char *domain, struct classify_org *out)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(book_domains) / sizeof(book_domains[0]); i++) {
		if (strcmp(domain, book_domains[i].domain) == 0) {
			*out = book_domains[i].o;
			return 1;
		}
	}
	return 0;
}

/* book_own - example.com is ours */
static int book_own(void *ctx, const char *domain)
{
	(void)ctx;
	return strcmp(domain, "example.com") == 0;
}

/* --- the rules ------------------------------------------------------------------- */

static const char rules_json[] =
    "["
    "{\"id\": 1, \"position\": 10, \"name\": \"Spam flag\","
    " \"conditions\": [{\"field\": \"header:X-Spam-Flag\", \"pattern\": \"^yes\"}],"
    " \"actions\": {\"set_class\": \"advertising\", \"skip_inbox\": true, \"stop\": true}},"
    "{\"id\": 2, \"position\": 20, \"name\": \"Invoices\","
    " \"conditions\": [{\"field\": \"subject\", \"pattern\": "
    "\"\\\\b(rechnung|invoice|faktura|gutschrift)\\\\b\"}],"
    " \"actions\": {\"add_label\": \"invoice\", \"set_team\": \"accounting\"}},"
    "{\"id\": 3, \"position\": 30, \"name\": \"SAP\","
    " \"conditions\": [{\"field\": \"header:X-Mailer\", \"pattern\": \"^SAP\"}],"
    " \"actions\": {\"set_class\": \"supplier\"}},"
    "{\"id\": 4, \"position\": 40, \"name\": \"Urgent\","
    " \"conditions\": [{\"field\": \"subject\", \"pattern\": \"\\\\b(dringend|urgent|asap|eilt)\\\\b\"}],"
    " \"actions\": {\"set_priority\": \"high\", \"add_label\": \"urgent\"}},"
    "{\"id\": 5, \"position\": 50, \"name\": \"Complaints\","
    " \"conditions\": [{\"field\": \"text\", \"pattern\": "
    "\"beschwerde|reklamation|complaint|refund|erstattung\"}],"
    " \"actions\": {\"add_label\": \"complaint\", \"set_priority\": 80}},"
    "{\"id\": 6, \"position\": 60, \"name\": \"Cancellation\","
    " \"conditions\": [{\"field\": \"text\","
    "   \"pattern\": \"k(ü|ue)ndig(e|ung)|cancel (my|the|our) (subscription|contract|order)\"}],"
    " \"actions\": {\"add_label\": \"cancellation\", \"set_team\": \"retention\"}},"
    "{\"id\": 7, \"position\": 70, \"name\": \"Applications\","
    " \"conditions\": [{\"field\": \"subject\", \"pattern\": \"\\\\b(bewerbung|job application)\\\\b\"}],"
    " \"actions\": {\"set_team\": \"hr\", \"add_label\": \"application\", \"skip_inbox\": true}},"
    "{\"id\": 8, \"position\": 80, \"name\": \"Marketing senders\","
    " \"conditions\": [{\"field\": \"sender\", \"pattern\": \"^(news|newsletter|marketing|promo|info)@\"},"
    "                {\"field\": \"header:List-Unsubscribe\", \"pattern\": \".\"}],"
    " \"actions\": {\"set_class\": \"advertising\", \"skip_inbox\": true}},"
    "{\"id\": 9, \"position\": 90, \"name\": \"Support address\","
    " \"conditions\": [{\"field\": \"recipients\", \"pattern\": \"^(service|support)@example\\\\.com$\"}],"
    " \"actions\": {\"set_team\": \"support\"}},"
    "{\"id\": 10, \"position\": 100, \"name\": \"Orders\","
    " \"conditions\": [{\"field\": \"subject\", \"pattern\": \"bestellung|order\\\\s*#?\\\\d{4,}\"}],"
    " \"actions\": {\"add_label\": \"order\"}},"
    "{\"id\": 11, \"position\": 110, \"name\": \"Machine senders\","
    " \"conditions\": [{\"field\": \"sender\", \"pattern\": \"no-?reply|do-?not-?reply\"},"
    "                {\"field\": \"header:Auto-Submitted\", \"pattern\": \"^no$\", \"negate\": true}],"
    " \"actions\": {\"add_label\": \"automated\"}}"
    "]";

/* --- loading ----------------------------------------------------------------------- */

/* collect - nftw callback: remember each regular file */
static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (type != FTW_F)
		return 0;
	if (found.n == found.cap) {
		size_t cap = found.cap ? 2 * found.cap : 1024;
		char **p = realloc(found.paths, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		found.paths = p;
		found.cap = cap;
	}
	if ((found.paths[found.n] = strdup(path)) == NULL)
		return -1;
	found.n++;
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* read_file - the whole file into a malloc'd buffer; 0, or -1 with errno */
static int read_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int e = fstat(fd, &st) < 0                                        ? errno
	        : st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES ? EFBIG
	                                                                  : 0;
	if (e != 0) {
		close(fd);
		errno = e;
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = malloc(size + 1);
	if (buf == NULL) {
		close(fd);
		return -1;
	}
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

/* --- one message --------------------------------------------------------------------- */

static double now_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct tally {
	double stage[ST_COUNT]; /* seconds */
	size_t failed;
	size_t classes[MAILCLASS_COUNT];
	size_t flagged[4]; /* bounce, auto-reply, out-of-office, list */
	size_t replies;    /* subjects with a reply or forward prefix */
	size_t labelled;   /* messages that got a label from a rule */
	double score;      /* sum of the heads' probabilities: the work is used */
};

/* score - the local model on one message, as the worker would ask it;
 * the sum of the heads' probabilities. In the warm-up round it also learns. */
static double score(const struct mail *mail, const struct mp_message *m, const struct classification *c)
{
	static struct feature_vector v;
	struct feature_input in = {
	    .subject = m->subject,
	    .text = m->text_new,
	    .from_addr = m->from.addr,
	    .direction = "inbound",
	    .flags = c->flags,
	    .mail_class = mailclass_name(c->class),
	    .vip = c->vip,
	    .n_to = m->n_to,
	    .n_cc = m->n_cc,
	    .n_attachments = m->n_attachments,
	    .has_list_headers = m->list_id != NULL || m->list_unsubscribe != NULL,
	    .thread_messages = (int)m->n_references,
	    .we_wrote_last = 0,
	    .sender_messages = 3,
	    .sender_answered = 1,
	};
	double sum = 0, p[N_HEADS], c0 = bench_parts ? now_s(CLOCK_THREAD_CPUTIME_ID) : 0, c1 = 0, c2 = 0;
	features_extract(&in, &v);
	if (bench_parts)
		c1 = now_s(CLOCK_THREAD_CPUTIME_ID);
	model_predict_heads(bench_model, heads, N_HEADS, rcpts[0], &v, p);
	if (bench_parts)
		c2 = now_s(CLOCK_THREAD_CPUTIME_ID);
	for (size_t h = 0; h < N_HEADS; h++)
		sum += p[h];
	/* then the priority rules with the model's level probabilities, as worker/scoring.c */
	const double levels[PRIORITY_LEVELS] = {[PRIORITY_URGENT] = p[1],
	                                        [PRIORITY_HIGH] = p[2],
	                                        [PRIORITY_NORMAL] = p[3],
	                                        [PRIORITY_LOW] = p[4]};
	struct priority_input pi = {.subject = m->subject,
	                            .text = m->text_new,
	                            .class = c->class,
	                            .flags = c->flags,
	                            .vip = c->vip,
	                            .sent_at = m->date,
	                            .model_levels = levels,
	                            .model_version = 1};
	struct priority_result r;
	char err[256];
	if (priority_score(&pi, &r, err, sizeof(err)) == 0)
		sum += r.score;
	if (bench_parts) {
		score_parts[0] += c1 - c0;
		score_parts[1] += c2 - c1;
		score_parts[2] += now_s(CLOCK_THREAD_CPUTIME_ID) - c2;
	}
	if (bench_learn) {
		uint32_t x = 2166136261u;
		for (const char *s = mail->path; *s; s++)
			x = (x ^ (unsigned char)*s) * 16777619u;
		for (size_t h = 0; h < N_HEADS; h++)
			model_learn(bench_model, heads[h], rcpts[0], &v, (int)(x >> h & 1u), 1.0);
	}
	return sum;
}

/* sort_one - what the worker's C code does with one message; its stages'
 * times are added to t, per-message total returned in seconds */
double sort_one(const struct mail *mail, const struct ruleset *rules, const struct classify_addrbook *book,
                struct tally *t) __attribute__((noinline));
double sort_one(const struct mail *mail, const struct ruleset *rules, const struct classify_addrbook *book,
                struct tally *t)
{
	static struct classification c; /* large (the rules' result); one at a time */
	struct mp_message m;
	char why[256], err[256], key[512];
	double t0 = now_s(CLOCK_MONOTONIC), t1, t3, t4;

	if (sorting_parse(mail->data, mail->len, &m, why, sizeof(why)) < 0) {
		t->failed++;
		t->stage[ST_PARSE] += now_s(CLOCK_MONOTONIC) - t0;
		return now_s(CLOCK_MONOTONIC) - t0;
	}
	t1 = now_s(CLOCK_MONOTONIC);
	struct sorting_envelope env = {m.from.addr ? m.from.addr : "", rcpts, 1, "inbound"};
	if (sorting_classify(mail->data, mail->len, &m, &env, book, rules, &c, err, sizeof(err)) == 0) {
		t->classes[c.class < MAILCLASS_COUNT ? c.class : 0]++;
		for (int f = 0; f < 4; f++)
			t->flagged[f] += (c.flags >> f) & 1u;
		t->labelled += c.rules.n_labels > 0;
	} else {
		t->failed++;
	}
	t3 = now_s(CLOCK_MONOTONIC);
	t->replies += subject_key(m.subject, key, sizeof(key)) > 0;
	t4 = now_s(CLOCK_MONOTONIC);
	if (bench_score)
		t->score += score(mail, &m, &c);
	double t5 = now_s(CLOCK_MONOTONIC);
	mimeparse_free(&m);
	double end = now_s(CLOCK_MONOTONIC);
	t->stage[ST_PARSE] += t1 - t0 + (end - t5); /* freeing the parse belongs to it */
	t->stage[ST_CLASSIFY] += t3 - t1;
	t->stage[ST_SUBJECT] += t4 - t3;
	t->stage[ST_SCORE] += t5 - t4;
	return end - t0;
}

/* parts_alone - seconds hdrscan_new() and msgflags_detect() take over
 * every message, each alone (both run inside sorting_classify()) */
static void parts_alone(const struct mail *mails, size_t n, double *scan, double *flags)
{
	*scan = *flags = 0;
	for (size_t i = 0; i < n; i++) {
		struct mp_message m;
		char why[256];
		if (sorting_parse(mails[i].data, mails[i].len, &m, why, sizeof(why)) < 0)
			continue;
		double t0 = now_s(CLOCK_MONOTONIC);
		struct hdrscan *hs = hdrscan_new(mails[i].data, mails[i].len);
		double t1 = now_s(CLOCK_MONOTONIC);
		struct hdrlookup hl = hs ? hdrscan_lookup(hs) : (struct hdrlookup){0};
		msgflags_detect(&m, m.from.addr, hs ? &hl : NULL, why, sizeof(why));
		double t2 = now_s(CLOCK_MONOTONIC);
		*scan += t1 - t0;
		*flags += t2 - t1;
		hdrscan_free(&hs);
		mimeparse_free(&m);
	}
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: worker-cpu [-n MAX] [-r ROUNDS] [PATH...]\n");
	exit(2);
}

/* parse_count - a positive decimal option value, or usage() */
static long parse_count(const char *s, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long max_files = 5000, rounds = 3;
	int ch;
	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		switch (ch) {
		case 'n':
			max_files = parse_count(optarg, 10000000);
			break;
		case 'r':
			rounds = parse_count(optarg, 1000);
			break;
		default:
			usage();
		}
	}
	const char *first = optind < argc ? argv[optind] : "../shared/corpus/lists";
	int npaths = optind < argc ? argc - optind : 1;
	for (int i = 0; i < npaths; i++) {
		const char *path = i == 0 ? first : argv[optind + i];
		if (nftw(path, collect, 32, FTW_PHYS) != 0) {
			fprintf(stderr, "worker-cpu: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	qsort(found.paths, found.n, sizeof(*found.paths), by_path);
	size_t n = found.n < (size_t)max_files ? found.n : (size_t)max_files;
	if (n == 0) {
		fprintf(stderr, "worker-cpu: no files\n");
		return 1;
	}
	struct mail *mails = calloc(n, sizeof(*mails));
	double *per = calloc(n, sizeof(*per)), *rates = calloc((size_t)rounds, sizeof(*rates));
	if (mails == NULL || per == NULL || rates == NULL) {
		fprintf(stderr, "worker-cpu: out of memory\n");
		return 1;
	}
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		mails[i].path = found.paths[i];
		if (read_file(found.paths[i], &mails[i].data, &mails[i].len) < 0) {
			fprintf(stderr, "worker-cpu: %s: %s\n", found.paths[i], strerror(errno));
			return 1;
		}
		bytes += mails[i].len;
	}

	struct ruleset *rules = NULL;
	char err[512];
	if (rules_compile(rules_json, &rules, err, sizeof(err)) < 0) {
		fprintf(stderr, "worker-cpu: rules: %s\n", err);
		return 1;
	}
	struct classify_addrbook book = {book_address, book_domain, NULL, book_own, NULL};
	mimeparse_init();

	printf("worker-cpu: %zu messages, %.1f MB (mean %.1f kB) from %s%s; %zu rules; one thread\n", n,
	       (double)bytes / 1e6, (double)bytes / 1e3 / (double)n, first, npaths > 1 ? " ..." : "",
	       rules_count(rules));

	/* The warm-up round: caches, GMime's and PCRE2's JIT state, and the
	 * sanity figures (what the messages were sorted as). */
	struct tally warm = {0};
	if ((bench_model = model_new()) == NULL)
		return 1;
	bench_learn = 1;
	for (size_t i = 0; i < n; i++)
		sort_one(&mails[i], rules, &book, &warm);
	bench_learn = 0;
	unsigned char *blob;
	size_t blob_len = 0;
	if (model_save(bench_model, &blob, &blob_len) == 0)
		free(blob);
	printf("sorted as:");
	for (int k = 0; k < MAILCLASS_COUNT; k++)
		printf(" %s %zu", mailclass_name((enum mail_class)k), warm.classes[k]);
	printf("; unparseable %zu\n", warm.failed);
	printf("flags: bounce %zu, auto-reply %zu, out-of-office %zu, list %zu; replies by subject %zu; "
	       "labelled by rules %zu\n",
	       warm.flagged[0], warm.flagged[1], warm.flagged[2], warm.flagged[3], warm.replies,
	       warm.labelled);

	struct tally median_tally = {0};
	double best = 0;
	struct tally *tallies = calloc((size_t)rounds, sizeof(*tallies));
	if (tallies == NULL)
		return 1;
	for (long r = 0; r < rounds; r++) {
		double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		for (size_t i = 0; i < n; i++)
			per[i] = sort_one(&mails[i], rules, &book, &tallies[r]);
		double wall = now_s(CLOCK_MONOTONIC) - w0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		rates[r] = (double)n / wall;
		if (rates[r] > best)
			best = rates[r];
		printf("round %ld: %.3f s wall, %.3f s CPU: %.0f msgs/s\n", r + 1, wall, cpu, rates[r]);
	}
	/* Per-message spread of the last round. */
	qsort(per, n, sizeof(*per), by_double);
	double sorted_rates[1000];
	memcpy(sorted_rates, rates, (size_t)rounds * sizeof(*rates));
	qsort(sorted_rates, (size_t)rounds, sizeof(*sorted_rates), by_double);
	double median = sorted_rates[rounds / 2];
	for (long r = 0; r < rounds; r++)
		if (rates[r] == median)
			median_tally = tallies[r];
	printf("median %.0f msgs/s, best %.0f msgs/s (%.0f us per message)\n", median, best, 1e6 / median);
	printf("per message, median round:");
	for (int s = 0; s < ST_COUNT; s++)
		printf(" %s %.1f us%s", stage_names[s], median_tally.stage[s] * 1e6 / (double)n,
		       s + 1 < ST_COUNT ? "," : "\n");
	/* The same share by CPU time, which preemption by other work on the
	 * machine does not inflate: rounds without and with scoring in turn. */
	double *share = calloc((size_t)rounds, sizeof(*share));
	if (share == NULL)
		return 1;
	for (long r = 0; r < rounds; r++) {
		struct tally off = {0}, on = {0};
		double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		bench_score = 0;
		for (size_t i = 0; i < n; i++)
			sort_one(&mails[i], rules, &book, &off);
		double c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		bench_score = 1;
		for (size_t i = 0; i < n; i++)
			sort_one(&mails[i], rules, &book, &on);
		double c2 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		share[r] = (c2 - c1) / (c1 - c0) - 1.0;
		printf("CPU round %ld: without scoring %.1f us, with %.1f us per message: +%.1f %%\n", r + 1,
		       (c1 - c0) * 1e6 / (double)n, (c2 - c1) * 1e6 / (double)n, 100.0 * share[r]);
	}
	qsort(share, (size_t)rounds, sizeof(*share), by_double);
	printf("scoring adds %.1f %% CPU per message (median of %ld pairs of rounds)\n",
	       100.0 * share[rounds / 2], rounds);
	free(share);
	/* One more round with the parts of scoring timed by the thread's CPU
	 * clock (a clock read costs about a microsecond: not in the rounds above) */
	struct tally parts_tally = {0};
	bench_parts = 1;
	for (size_t i = 0; i < n; i++)
		sort_one(&mails[i], rules, &book, &parts_tally);
	bench_parts = 0;
	printf(
	    "inside scoring, CPU time: features_extract %.1f us, %zu heads %.1f us, priority_score %.1f us "
	    "(one round)\n",
	    score_parts[0] * 1e6 / (double)n, N_HEADS, score_parts[1] * 1e6 / (double)n,
	    score_parts[2] * 1e6 / (double)n);
	double scan, flags;
	parts_alone(mails, n, &scan, &flags);
	double base = 0;
	for (int s = 0; s < ST_SCORE; s++)
		base += median_tally.stage[s];
	printf(
	    "scoring: %.1f us per message = %.1f %% of parse + classify + subject key (%.1f us); model %zu "
	    "bytes saved, %zu heads\n",
	    median_tally.stage[ST_SCORE] * 1e6 / (double)n, 100.0 * median_tally.stage[ST_SCORE] / base,
	    base * 1e6 / (double)n, blob_len, N_HEADS);
	printf("inside sorting_classify: hdrscan_new %.1f us, msgflags_detect %.1f us (each timed alone)\n",
	       scan * 1e6 / (double)n, flags * 1e6 / (double)n);
	printf("one message, last round: p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.1f ms\n",
	       per[n / 2] * 1e6, per[n * 9 / 10] * 1e6, per[n * 99 / 100] * 1e6, per[n - 1] * 1e3);

	for (size_t i = 0; i < n; i++) {
		free(mails[i].data);
		free(mails[i].path);
	}
	free(found.paths);
	free(mails);
	free(per);
	free(rates);
	free(tallies);
	rules_free(&rules);
	model_free(&bench_model);
	return 0;
}
