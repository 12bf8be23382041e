/* priority.c - a message's priority from rules and the model's opinion.
 *
 * The patterns are compiled once into statics and only read afterwards;
 * every call has its own match data. A match that fails (limit, invalid
 * UTF-8) counts as no match: priority never stops a message.
 */
#include "priority.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msgflags.h"

#define MATCH_LIMIT    100000
#define DEPTH_LIMIT    1000
#define WORDS_SEEN_MAX 8
#define DATE_HORIZON   7 /* days ahead a date in the text still counts */

/* Urgency: the sender says it cannot wait. */
#define RE_URGENT                                                                                            \
	"\\b(?:dringend\\w*|eilig\\w*|sofort\\w*|notfall|urgent\\w*|asap|emergency|outage\\w*|down|"         \
	"critical|kritisch\\w*|immediately|unverzüglich)\\b|"                                               \
	"(?:stillstand|ausfall|ausfälle|störung)\\b"
/* Escalation: money, contracts, complaints, lawyers, deadlines. */
#define RE_ESCALATION                                                                                        \
	"\\b(?:k(?:ü|ue)ndig\\w*|reklam\\w*|beschwer\\w*|overdue|deadline\\w*|complain\\w*|"                \
	"cancel\\w*|legal|lawyer|anwalt|inkasso|escalat\\w*|eskalation|frist)\\b|"                           \
	"(?:frist|mahnung|k(?:ü|ue)ndigung|reklamation|beschwerde)\\b"
/* Dates: 24.11. / 24.11.2026 / 24.11.26, and ISO 2026-11-24. */
#define RE_DMY "(?<![\\d.])(\\d{1,2})\\.\\s?(\\d{1,2})\\.(?:\\s?(\\d{4}|\\d{2})(?![\\d.]))?"
#define RE_ISO "\\b(\\d{4})-(\\d{2})-(\\d{2})\\b"
/* Relative days and weekdays, only after a word that makes them a deadline. */
#define RE_DUE_PREFIX                                                                                        \
	"\\b(?:bis|spätestens|until|till|by|before|vor)\\s+(?:zum\\s+|am\\s+|next\\s+|nächsten\\s+|"       \
	"kommenden\\s+|this\\s+)?"
#define RE_RELATIVE                                                                                          \
	RE_DUE_PREFIX "(heute|today|tonight|end of (?:the )?day|eod|morgen|tomorrow|übermorgen)\\b"
#define RE_WEEKDAY                                                                                           \
	RE_DUE_PREFIX "(sonntag|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"                        \
	              "sunday|monday|tuesday|wednesday|thursday|friday|saturday)\\b"

enum { P_URGENT, P_ESCALATION, P_DMY, P_ISO, P_RELATIVE, P_WEEKDAY, P_COUNT };
static const char *const sources[P_COUNT] = {RE_URGENT, RE_ESCALATION, RE_DMY,
                                             RE_ISO,    RE_RELATIVE,   RE_WEEKDAY};

static pcre2_code *patterns[P_COUNT];
static pcre2_match_context *mcontext;
static char init_error[256];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static const char *const level_names[PRIORITY_LEVELS] = {"low", "normal", "high", "urgent"};
static const int level_scores[PRIORITY_LEVELS] = {15, 45, 68, 90};

/* compile_all - the pthread_once body: every pattern, or init_error */
static void compile_all(void)
{
	for (int i = 0; i < P_COUNT; i++) {
		int code;
		PCRE2_SIZE off;
		patterns[i] = pcre2_compile((PCRE2_SPTR)sources[i], PCRE2_ZERO_TERMINATED,
		                            PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &code, &off, NULL);
		if (patterns[i] == NULL) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof(msg));
			snprintf(init_error, sizeof(init_error), "priority pattern %d at %zu: %s", i,
			         (size_t)off, (const char *)msg);
			return;
		}
		(void)pcre2_jit_compile(patterns[i], PCRE2_JIT_COMPLETE);
	}
	mcontext = pcre2_match_context_create(NULL);
	if (mcontext == NULL) {
		snprintf(init_error, sizeof(init_error), "out of memory");
		return;
	}
	pcre2_set_match_limit(mcontext, MATCH_LIMIT);
	pcre2_set_depth_limit(mcontext, DEPTH_LIMIT);
}

int priority_init(char *err, size_t errlen)
{
	pthread_once(&init_once, compile_all);
	if (init_error[0]) {
		snprintf(err, errlen, "%s", init_error);
		return -1;
	}
	return 0;
}

enum priority_level priority_level_of(int score)
{
	if (score >= PRIORITY_URGENT_MIN)
		return PRIORITY_URGENT;
	if (score >= PRIORITY_HIGH_MIN)
		return PRIORITY_HIGH;
	if (score >= PRIORITY_NORMAL_MIN)
		return PRIORITY_NORMAL;
	return PRIORITY_LOW;
}

const char *priority_level_name(enum priority_level l)
{
	return (unsigned)l < PRIORITY_LEVELS ? level_names[l] : "normal";
}

int priority_level_parse(const char *name, enum priority_level *out)
{
	for (int i = 0; i < PRIORITY_LEVELS; i++)
		if (name != NULL && strcmp(name, level_names[i]) == 0) {
			*out = (enum priority_level)i;
			return 0;
		}
	return -1;
}

int priority_level_score(enum priority_level l)
{
	return (unsigned)l < PRIORITY_LEVELS ? level_scores[l] : level_scores[PRIORITY_NORMAL];
}

int priority_asks(const char *text)
{
	for (const char *q = text ? strchr(text, '?') : NULL; q != NULL; q = strchr(q + 1, '?')) {
		/* "?id=3" in a link asks nothing: a question mark before a space, a line end or the end */
		if (q[1] == '\0' || q[1] == ' ' || q[1] == '\n' || q[1] == '\r' || q[1] == '"' || q[1] == ')')
			return 1;
	}
	return 0;
}

/* add_reason - one reason with its points; silently the last when full */
static void add_reason(struct priority_result *r, const char *by, int points, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_reason(struct priority_result *r, const char *by, int points, const char *fmt, ...)
{
	if (r->n_reasons == PRIORITY_REASONS_MAX)
		return;
	struct priority_reason *p = &r->reasons[r->n_reasons++];
	p->by = by;
	p->points = points;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* capped_len - at most cap bytes of s, cut back to the start of a UTF-8 character */
static size_t capped_len(const char *s, size_t cap)
{
	size_t n = strlen(s);
	if (n <= cap)
		return n;
	while (cap > 0 && ((unsigned char)s[cap] & 0xC0) == 0x80)
		cap--;
	return cap;
}

/* A match handed to a visitor: the whole match and its groups as strings. */
struct hit {
	const char *s;
	PCRE2_SIZE *ov;
	int groups;
};

/* hit_group - group g of h as an int (-1 when unset) */
static int hit_int(const struct hit *h, int g)
{
	if (g >= h->groups || h->ov[2 * g] == PCRE2_UNSET)
		return -1;
	int v = 0;
	for (PCRE2_SIZE i = h->ov[2 * g]; i < h->ov[2 * g + 1] && i - h->ov[2 * g] < 5; i++)
		v = v * 10 + (h->s[i] - '0');
	return v;
}

/* hit_text - group g of h copied into buf */
static const char *hit_text(const struct hit *h, int g, char *buf, size_t len)
{
	size_t n = 0;
	if (g < h->groups && h->ov[2 * g] != PCRE2_UNSET)
		n = h->ov[2 * g + 1] - h->ov[2 * g];
	if (n >= len)
		n = len - 1;
	while (n > 0 && ((unsigned char)h->s[h->ov[2 * g] + n] & 0xC0) == 0x80)
		n--; /* never half a character */
	memcpy(buf, h->s + (n ? h->ov[2 * g] : 0), n);
	buf[n] = '\0';
	return buf;
}

/* each_match - call visit for every match of pattern p in s (capped); a
 * failing match ends the walk quietly */
static void each_match(int p, const char *s, pcre2_match_data *md, void (*visit)(const struct hit *, void *),
                       void *ctx)
{
	if (s == NULL)
		return;
	size_t len = capped_len(s, PRIORITY_TEXT_BYTES);
	PCRE2_SIZE off = 0;
	while (off < len) {
		int rc = pcre2_match(patterns[p], (PCRE2_SPTR)s, len, off, 0, md, mcontext);
		if (rc <= 0)
			return;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		struct hit h = {s, ov, rc};
		visit(&h, ctx);
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
}

/* Words seen so far: each counts once, all together at most PRIORITY_WORDS_MAX. */
struct words {
	struct priority_result *r;
	int points; /* of the pattern being walked */
	const char *kind;
	int total;
	char seen[WORDS_SEEN_MAX][48];
	size_t n_seen;
};

/* word_start - where the word ending at or running through s[i] starts:
 * back over letters and digits (ASCII, Latin letters, any other character
 * outside the General Punctuation block), at most 40 bytes. Compounds are
 * matched by their end; the whole word is what the reason names. */
static size_t word_start(const char *s, size_t i)
{
	size_t lim = i > 40 ? i - 40 : 0;
	while (i > lim) {
		unsigned char b = (unsigned char)s[i - 1];
		if (b < 0x80) {
			if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
			      b == '_'))
				break;
			i--;
			continue;
		}
		size_t k = i - 1; /* the lead byte of the character before */
		while (k > lim && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		unsigned char lead = (unsigned char)s[k];
		unsigned cp = 0;
		if ((lead & 0xE0) == 0xC0 && i - k == 2)
			cp = (lead & 0x1Fu) << 6 | ((unsigned char)s[k + 1] & 0x3Fu);
		else if ((lead & 0xF0) == 0xE0 && i - k == 3)
			cp = (lead & 0x0Fu) << 12 | ((unsigned char)s[k + 1] & 0x3Fu) << 6 |
			     ((unsigned char)s[k + 2] & 0x3Fu);
		else if ((lead & 0xF8) == 0xF0 && i - k == 4)
			cp = 0x10000; /* any letter beyond the BMP */
		int letter = (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
		             (cp >= 0x370 && (cp < 0x2000 || cp > 0x206F) && cp != 0xFEFF);
		if (!letter)
			break;
		i = k;
	}
	return i;
}

/* visit_word - one urgency or escalation word */
static void visit_word(const struct hit *h, void *ctx)
{
	struct words *w = ctx;
	char word[48];
	size_t start = word_start(h->s, h->ov[0]);
	PCRE2_SIZE ov[2] = {start, h->ov[1]};
	struct hit whole = {h->s, ov, 1};
	hit_text(&whole, 0, word, sizeof(word));
	for (size_t i = 0; i < w->n_seen; i++)
		if (strcasecmp(w->seen[i], word) == 0)
			return;
	if (w->n_seen == WORDS_SEEN_MAX || w->total >= PRIORITY_WORDS_MAX)
		return;
	snprintf(w->seen[w->n_seen++], sizeof(w->seen[0]), "%s", word);
	int pts = w->points;
	if (w->total + pts > PRIORITY_WORDS_MAX)
		pts = PRIORITY_WORDS_MAX - w->total;
	w->total += pts;
	add_reason(w->r, "rule", pts, "%s word \"%s\"", w->kind, word);
}

/* The nearest date ahead found in the text. */
struct dates {
	long long msg_day; /* days since the epoch of the message (UTC) */
	int msg_year, msg_wday;
	long best; /* days ahead; -1: none */
	char what[64];
};

/* consider - a candidate date days ahead, described by what */
static void consider(struct dates *d, long days, const char *what)
{
	if (days < 0 || days > DATE_HORIZON || (d->best >= 0 && days >= d->best))
		return;
	d->best = days;
	snprintf(d->what, sizeof(d->what), "%s", what);
}

/* day_of - days since the epoch of y-m-d, or -1 when there is no such day */
static long long day_of(int y, int m, int dd)
{
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || dd < 1 || dd > 31)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = dd, .tm_hour = 12};
	time_t t = timegm(&tm);
	if (tm.tm_mday != dd || tm.tm_mon != m - 1) /* 31.2. rolled over */
		return -1;
	return (long long)(t / 86400);
}

/* visit_dmy - 24.11. or 24.11.2026 */
static void visit_dmy(const struct hit *h, void *ctx)
{
	struct dates *d = ctx;
	int dd = hit_int(h, 1), m = hit_int(h, 2), y = hit_int(h, 3);
	char what[48];
	if (y >= 0 && y < 100)
		y += 2000;
	long long day = day_of(y < 0 ? d->msg_year : y, m, dd);
	if (y < 0 && day >= 0 && day < d->msg_day - 180) /* "bis 5.1." written in December */
		day = day_of(d->msg_year + 1, m, dd);
	if (day >= 0)
		consider(d, (long)(day - d->msg_day), hit_text(h, 0, what, sizeof(what)));
}

/* visit_iso - 2026-11-24 */
static void visit_iso(const struct hit *h, void *ctx)
{
	struct dates *d = ctx;
	char what[48];
	long long day = day_of(hit_int(h, 1), hit_int(h, 2), hit_int(h, 3));
	if (day >= 0)
		consider(d, (long)(day - d->msg_day), hit_text(h, 0, what, sizeof(what)));
}

/* visit_relative - bis heute / by tomorrow / übermorgen */
static void visit_relative(const struct hit *h, void *ctx)
{
	char word[48], what[64];
	hit_text(h, 1, word, sizeof(word));
	long days = 0;
	if (strcasecmp(word, "morgen") == 0 || strcasecmp(word, "tomorrow") == 0)
		days = 1;
	else if (strncasecmp(word, "\xc3\xbc", 2) == 0 ||
	         strncasecmp(word, "\xc3\x9c", 2) == 0) /* übermorgen */
		days = 2;
	consider(ctx, days, hit_text(h, 0, what, sizeof(what)));
}

/* visit_weekday - by Friday / bis Freitag: the next such day, today included */
static void visit_weekday(const struct hit *h, void *ctx)
{
	static const char *const names[] = {"sonntag",   "montag",   "dienstag", "mittwoch", "donnerstag",
	                                    "freitag",   "samstag",  "sunday",   "monday",   "tuesday",
	                                    "wednesday", "thursday", "friday",   "saturday"};
	struct dates *d = ctx;
	char word[48], what[64];
	hit_text(h, 1, word, sizeof(word));
	for (int i = 0; i < 14; i++)
		if (strcasecmp(word, names[i]) == 0) {
			consider(d, ((i % 7) - d->msg_wday + 7) % 7, hit_text(h, 0, what, sizeof(what)));
			return;
		}
}

/* rule_class - points of the class and the automatic-mail flags */
static void rule_class(const struct priority_input *in, struct priority_result *r)
{
	static const int class_points[MAILCLASS_COUNT] = {0, 15, 10, 0, -25, -30};
	if (in->vip)
		add_reason(r, "rule", 20, "VIP sender");
	if ((unsigned)in->class < MAILCLASS_COUNT && class_points[in->class] != 0)
		add_reason(r, "rule", class_points[in->class], "class %s", mailclass_name(in->class));
	if (in->flags & (MSGFLAG_BOUNCE | MSGFLAG_AUTO_REPLY | MSGFLAG_OUT_OF_OFFICE))
		add_reason(r, "rule", -30, "%s",
		           in->flags & MSGFLAG_BOUNCE          ? "bounce"
		           : in->flags & MSGFLAG_OUT_OF_OFFICE ? "out-of-office reply"
		                                               : "automatic reply");
	else if ((in->flags & MSGFLAG_MAILING_LIST) && in->class != MAILCLASS_NEWSLETTER)
		add_reason(r, "rule", -10, "mailing list");
	if (in->replies_to_our_question)
		add_reason(r, "rule", 15, "reply to our question");
	if (in->waited_seconds > 7 * 86400LL)
		add_reason(r, "rule", 15, "waiting over 7 days");
	else if (in->waited_seconds > 3 * 86400LL)
		add_reason(r, "rule", 10, "waiting over 3 days");
	else if (in->waited_seconds > 86400LL)
		add_reason(r, "rule", 5, "waiting over a day");
}

/* rule_text - words and dates of subject and text */
static void rule_text(const struct priority_input *in, struct priority_result *r, pcre2_match_data *md)
{
	struct words w = {.r = r};
	const char *parts[2] = {in->subject, in->text};
	for (int k = 0; k < 2; k++) {
		w.points = 20;
		w.kind = "urgency";
		each_match(P_URGENT, parts[k], md, visit_word, &w);
		w.points = 10;
		w.kind = "escalation";
		each_match(P_ESCALATION, parts[k], md, visit_word, &w);
	}
	if (in->sent_at <= 0)
		return;
	struct tm tm;
	time_t t = in->sent_at;
	gmtime_r(&t, &tm);
	struct dates d = {(long long)(t / 86400), tm.tm_year + 1900, tm.tm_wday, -1, ""};
	for (int k = 0; k < 2; k++) {
		each_match(P_DMY, parts[k], md, visit_dmy, &d);
		each_match(P_ISO, parts[k], md, visit_iso, &d);
		each_match(P_RELATIVE, parts[k], md, visit_relative, &d);
		each_match(P_WEEKDAY, parts[k], md, visit_weekday, &d);
	}
	if (d.best >= 0)
		add_reason(r, "rule",
		           d.best <= 1   ? 15
		           : d.best <= 3 ? 10
		                         : 5,
		           "date \"%s\" in %ld day%s", d.what, d.best, d.best == 1 ? "" : "s");
}

/* clamp_score - into 0..100 */
static int clamp_score(int s)
{
	return s < 0 ? 0 : s > 100 ? 100 : s;
}

/* apply_model - nudge the rules' score towards the model's expectation */
static void apply_model(const struct priority_input *in, struct priority_result *r, double *p_top,
                        enum priority_level *top)
{
	double sum = 0, e = 0;
	for (int i = 0; i < PRIORITY_LEVELS; i++)
		sum += in->model_levels[i] > 0 ? in->model_levels[i] : 0;
	if (sum <= 0)
		return;
	*p_top = 0;
	for (int i = 0; i < PRIORITY_LEVELS; i++) {
		double p = (in->model_levels[i] > 0 ? in->model_levels[i] : 0) / sum;
		e += p * level_scores[i];
		if (p > *p_top) {
			*p_top = p;
			*top = (enum priority_level)i;
		}
	}
	/* an unsure model (near-equal levels) moves little: scale by how far
	 * its favourite stands above an even split */
	double certainty = (*p_top - 1.0 / PRIORITY_LEVELS) / (1.0 - 1.0 / PRIORITY_LEVELS);
	double nudge = (e - r->score) / 2 * certainty;
	if (nudge > PRIORITY_MODEL_MAX)
		nudge = PRIORITY_MODEL_MAX;
	if (nudge < -PRIORITY_MODEL_MAX)
		nudge = -PRIORITY_MODEL_MAX;
	int pts = (int)(nudge < 0 ? nudge - 0.5 : nudge + 0.5);
	add_reason(r, "model", pts, "model version %lld: likely %s (%.2f)", in->model_version,
	           level_names[*top], *p_top);
	r->score = clamp_score(r->score + pts);
}

int priority_score(const struct priority_input *in, struct priority_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (in->rule_id != 0) {
		r->score = r->rules_score = clamp_score(in->rule_priority);
		r->level = priority_level_of(r->score);
		r->confidence = 1.0;
		add_reason(r, "rule", r->score, "admin rule %ld sets priority %d", in->rule_id, r->score);
		return 0;
	}
	if (priority_init(err, errlen) < 0)
		return -1;
	pcre2_match_data *md = pcre2_match_data_create(10, NULL);
	if (md == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rule_class(in, r);
	rule_text(in, r, md);
	pcre2_match_data_free(md);
	int score = PRIORITY_BASE;
	for (size_t i = 0; i < r->n_reasons; i++)
		score += r->reasons[i].points;
	r->score = r->rules_score = clamp_score(score);
	size_t n_rules = r->n_reasons;

	/* Evidence: more reasons, and a score away from any threshold, are surer. */
	static const int thresholds[] = {PRIORITY_NORMAL_MIN, PRIORITY_HIGH_MIN, PRIORITY_URGENT_MIN};
	int dist = 100;
	for (size_t i = 0; i < 3; i++) {
		int dd = abs(r->score - thresholds[i]);
		if (dd < dist)
			dist = dd;
	}
	double evidence = 0.3 + 0.2 * (double)n_rules;
	if (evidence > 1)
		evidence = 1;
	double conf = evidence * (0.5 + 0.5 * (dist >= 15 ? 1.0 : dist / 15.0));

	double p_top = -1;
	enum priority_level top = PRIORITY_NORMAL;
	if (in->model_levels != NULL)
		apply_model(in, r, &p_top, &top);
	r->level = priority_level_of(r->score);
	if (p_top >= 0) {
		double sum = 0;
		for (int i = 0; i < PRIORITY_LEVELS; i++)
			sum += in->model_levels[i] > 0 ? in->model_levels[i] : 0;
		double p_level = (in->model_levels[r->level] > 0 ? in->model_levels[r->level] : 0) / sum;
		conf = (conf + p_level) / 2;
		if (top != r->level && p_top > 0.5)
			conf *= 0.7;
	}
	r->confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
	return 0;
}

char *priority_reasons_json(const struct priority_result *r)
{
	json_t *a = json_array();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < r->n_reasons; i++) {
		json_t *o = json_pack("{s:s, s:i, s:s}", "by", r->reasons[i].by, "points",
		                      r->reasons[i].points, "why", r->reasons[i].why);
		if (o == NULL || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}
