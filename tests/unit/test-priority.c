/* test-priority.c - every priority rule, in German and English, with
 * umlauts, dates relative to the message's time, thresholds, rule actions
 * and the model's bounded nudge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgflags.h"
#include "priority.h"
#include "tap.h"

/* 2026-11-20 10:00 UTC, a Friday */
#define FRIDAY 1795168800

/* has_reason - 1 when r has a reason whose text contains needle */
static int has_reason(const struct priority_result *r, const char *needle)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i].why, needle) != NULL)
			return 1;
	return 0;
}

/* score_of - the result for subject and text of an unclassified message sent on FRIDAY */
static struct priority_result score_of(const char *subject, const char *text)
{
	struct priority_input in = {.subject = subject, .text = text, .sent_at = FRIDAY};
	struct priority_result r;
	char err[256];
	if (priority_score(&in, &r, err, sizeof(err)) < 0)
		printf("# priority_score: %s\n", err);
	return r;
}

/* Words: (subject, text, points wanted relative to the base, reason wanted) */
static const struct {
	const char *subject, *text;
	int points;
	const char *why;
} words[] = {
    {"dringend: Anfrage", NULL, 20, "dringend"},
    {"DRINGEND", NULL, 20, "DRINGEND"},
    {NULL, "Bitte eilig bearbeiten", 20, "eilig"},
    {NULL, "Wir brauchen das sofort.", 20, "sofort"},
    {"Produktionsstillstand in Werk 2", NULL, 20, "Produktionsstillstand"},
    {NULL, "Seit heute Stillstand der Linie", 20, "Stillstand"},
    {NULL, "Serverausfall im Rechenzentrum", 20, "Serverausfall"},
    {"Urgent: invoice", NULL, 20, "Urgent"},
    {NULL, "please fix asap", 20, "asap"},
    {NULL, "our shop is down", 20, "down"},
    {NULL, "major outage since 9am", 20, "outage"},
    {NULL, "2. Mahnung zur Rechnung", 10, "Mahnung"},
    {NULL, "Zahlungsfrist verstrichen", 10, "Zahlungsfrist"},
    {NULL, "Hiermit die KÜNDIGUNG des Vertrags", 10, "KÜNDIGUNG"},
    {NULL, "wir kündigen zum Jahresende", 10, "kündigen"},
    {NULL, "Kuendigung", 10, "Kuendigung"},
    {NULL, "Reklamation Lieferung 4711", 10, "Reklamation"},
    {"Beschwerde", NULL, 10, "Beschwerde"},
    {NULL, "your payment is overdue", 10, "overdue"},
    {NULL, "formal complaint about the service", 10, "complaint"},
    {NULL, "we will cancel the order", 10, "cancel"},
    {NULL, "our legal department", 10, "legal"},
    /* word boundaries: no word inside another */
    {NULL, "download the file", 0, NULL},
    {NULL, "kurzfristig melden wir uns", 0, NULL},
    {NULL, "a legalese text", 0, NULL},
    {NULL, "Ein ganz normaler Gruß", 0, NULL},
    /* each word counts once; all words together at most PRIORITY_WORDS_MAX */
    {"dringend dringend", "dringend", 20, "dringend"},
    {"dringend eilig sofort", "urgent asap", PRIORITY_WORDS_MAX, "dringend"},
};

/* Dates on FRIDAY 2026-11-20: (text, points, reason) */
static const struct {
	const char *text;
	int points;
	const char *why;
} dates[] = {
    {"Bitte bis 21.11. liefern", 15, "in 1 day"},
    {"bis 20.11.2026", 15, "in 0 days"},
    {"Termin 23.11.26", 10, "in 3 days"},
    {"spätestens 26.11.", 5, "in 6 days"},
    {"am 30.11. besprechen", 0, NULL},
    {"Rechnung vom 10.11.", 0, NULL},
    {"Liefertermin 2026-11-22", 10, "in 2 days"},
    {"Version 1.2.3 released", 0, NULL},
    {"bis morgen bitte", 15, "bis morgen"},
    {"by tomorrow please", 15, "by tomorrow"},
    {"bis übermorgen", 10, "in 2 days"},
    {"by Monday", 10, "in 3 days"},
    {"bis Freitag", 15, "in 0 days"},
    {"bis nächsten Mittwoch", 5, "in 5 days"},
    {"Guten Morgen zusammen", 0, NULL},
    {"bis 31.02.", 0, NULL},
};

/* test_words - each word, its points and its reason */
static void test_words(void)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct priority_result r = score_of(words[i].subject, words[i].text);
		const char *label = words[i].subject ? words[i].subject : words[i].text;
		is_int(r.score - PRIORITY_BASE, words[i].points, "words: \"%s\" points", label);
		if (words[i].why != NULL)
			ok(has_reason(&r, words[i].why), "words: \"%s\" reason names %s", label,
			   words[i].why);
	}
}

/* test_dates - dates resolved against the message's time */
static void test_dates(void)
{
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		struct priority_result r = score_of(NULL, dates[i].text);
		is_int(r.score - PRIORITY_BASE, dates[i].points, "dates: \"%s\" points", dates[i].text);
		if (dates[i].why != NULL)
			ok(has_reason(&r, dates[i].why), "dates: \"%s\" reason has %s", dates[i].text,
			   dates[i].why);
	}
	/* a date without a year early in January, written in late December */
	struct priority_input in = {.text = "bis 2.1.", .sent_at = 1798632000 /* 2026-12-30 12:00 */};
	struct priority_result r;
	char err[256];
	priority_score(&in, &r, err, sizeof(err));
	ok(has_reason(&r, "in 3 days"), "dates: 2.1. written on 30.12. is next year's");
	in.sent_at = 0;
	priority_score(&in, &r, err, sizeof(err));
	is_int(r.n_reasons, 0, "dates: no message time, no date reason");
}

/* test_class - class, VIP, flags, question, waiting */
static void test_class(void)
{
	static const struct {
		enum mail_class class;
		unsigned flags;
		int vip, asked;
		long long waited;
		int score;
		enum priority_level level;
	} cases[] = {
	    {MAILCLASS_UNCLASSIFIED, 0, 0, 0, 0, 40, PRIORITY_NORMAL},
	    {MAILCLASS_CUSTOMER, 0, 0, 0, 0, 55, PRIORITY_NORMAL},
	    {MAILCLASS_CUSTOMER, 0, 1, 0, 0, 75, PRIORITY_HIGH},
	    {MAILCLASS_CUSTOMER, 0, 1, 1, 0, 90, PRIORITY_URGENT},
	    {MAILCLASS_SUPPLIER, 0, 0, 0, 0, 50, PRIORITY_NORMAL},
	    {MAILCLASS_INTERNAL, 0, 0, 0, 0, 40, PRIORITY_NORMAL},
	    {MAILCLASS_NEWSLETTER, MSGFLAG_MAILING_LIST, 0, 0, 0, 15, PRIORITY_LOW},
	    {MAILCLASS_ADVERTISING, 0, 0, 0, 0, 10, PRIORITY_LOW},
	    {MAILCLASS_UNCLASSIFIED, MSGFLAG_MAILING_LIST, 0, 0, 0, 30, PRIORITY_NORMAL},
	    {MAILCLASS_CUSTOMER, MSGFLAG_BOUNCE, 0, 0, 0, 25, PRIORITY_LOW},
	    {MAILCLASS_CUSTOMER, MSGFLAG_AUTO_REPLY | MSGFLAG_OUT_OF_OFFICE, 0, 0, 0, 25, PRIORITY_LOW},
	    {MAILCLASS_UNCLASSIFIED, 0, 0, 1, 0, 55, PRIORITY_NORMAL},
	    {MAILCLASS_UNCLASSIFIED, 0, 0, 0, 2 * 86400, 45, PRIORITY_NORMAL},
	    {MAILCLASS_UNCLASSIFIED, 0, 0, 0, 4 * 86400, 50, PRIORITY_NORMAL},
	    {MAILCLASS_CUSTOMER, 0, 0, 0, 8 * 86400, 70, PRIORITY_HIGH},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct priority_input in = {.class = cases[i].class,
		                            .flags = cases[i].flags,
		                            .vip = cases[i].vip,
		                            .replies_to_our_question = cases[i].asked,
		                            .waited_seconds = cases[i].waited};
		struct priority_result r;
		char err[256];
		priority_score(&in, &r, err, sizeof(err));
		is_int(r.score, cases[i].score, "class case %zu: score", i);
		is_str(priority_level_name(r.level), priority_level_name(cases[i].level),
		       "class case %zu: level", i);
	}
	/* the acceptance example: a customer's "dringend: Produktionsstillstand" */
	struct priority_input in = {.subject = "dringend: Produktionsstillstand",
	                            .class = MAILCLASS_CUSTOMER};
	struct priority_result r;
	char err[256];
	priority_score(&in, &r, err, sizeof(err));
	is_str(priority_level_name(r.level), "urgent", "customer dringend Produktionsstillstand is urgent");
	ok(has_reason(&r, "class customer") && has_reason(&r, "Produktionsstillstand"), "with its reasons");
	char *json = priority_reasons_json(&r);
	ok(json != NULL && strstr(json, "{\"by\":\"rule\",\"points\":15,\"why\":\"class customer\"}") != NULL,
	   "reasons as JSON: %s", json ? json : "(null)");
	free(json);
}

/* test_thresholds - the level of each score around the thresholds */
static void test_thresholds(void)
{
	static const struct {
		int score;
		const char *level;
	} t[] = {{0, "low"},
	         {PRIORITY_NORMAL_MIN - 1, "low"},
	         {PRIORITY_NORMAL_MIN, "normal"},
	         {PRIORITY_HIGH_MIN - 1, "normal"},
	         {PRIORITY_HIGH_MIN, "high"},
	         {PRIORITY_URGENT_MIN - 1, "high"},
	         {PRIORITY_URGENT_MIN, "urgent"},
	         {100, "urgent"}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_str(priority_level_name(priority_level_of(t[i].score)), t[i].level, "threshold: %d",
		       t[i].score);
	enum priority_level l;
	ok(priority_level_parse("high", &l) == 0 && l == PRIORITY_HIGH, "parse high");
	ok(priority_level_parse("HIGH", &l) < 0, "parse is exact");
	ok(priority_asks("Können Sie bis Freitag liefern?") && !priority_asks("siehe https://x.example/?a=1"),
	   "a question, and a link that asks nothing");
}

/* test_rule_and_model - a rule's priority wins; the model nudges, bounded */
static void test_rule_and_model(void)
{
	char err[256];
	struct priority_result r;
	double urgent[4] = {0.01, 0.01, 0.01, 0.99}; /* low, normal, high, urgent */
	struct priority_input in = {.class = MAILCLASS_NEWSLETTER,
	                            .rule_id = 7,
	                            .rule_priority = 75,
	                            .model_levels = urgent,
	                            .model_version = 3};
	priority_score(&in, &r, err, sizeof(err));
	is_int(r.score, 75, "rule: its priority wins");
	ok(r.n_reasons == 1 && strstr(r.reasons[0].why, "rule 7") != NULL, "rule: the reason names it");
	ok(r.confidence == 1.0, "rule: sure");

	in.rule_id = 0;
	in.class = MAILCLASS_UNCLASSIFIED;
	priority_score(&in, &r, err, sizeof(err));
	is_int(r.score, PRIORITY_BASE + PRIORITY_MODEL_MAX, "model: pulls up by at most PRIORITY_MODEL_MAX");
	ok(has_reason(&r, "model version 3"), "model: the reason names the version");
	double conf_agree_low;
	double low[4] = {0.99, 0.01, 0.01, 0.01};
	in.model_levels = low;
	in.class = MAILCLASS_NEWSLETTER;
	priority_score(&in, &r, err, sizeof(err));
	ok(r.score >= 15 && r.score <= 17 && r.level == PRIORITY_LOW,
	   "model: agreeing low keeps newsletter near 15 (%d)", r.score);
	conf_agree_low = r.confidence;
	in.model_levels = urgent;
	priority_score(&in, &r, err, sizeof(err));
	is_int(r.score, 30, "model: disagreeing moves newsletter by 15 only");
	ok(r.confidence < conf_agree_low, "model: disagreement lowers confidence (%.2f < %.2f)", r.confidence,
	   conf_agree_low);
	double even[4] = {0.5, 0.5, 0.5, 0.5}; /* heads never trained */
	in.model_levels = even;
	priority_score(&in, &r, err, sizeof(err));
	is_int(r.score, 15, "model: an unsure model moves nothing");
	in.model_levels = NULL;
	in.class = MAILCLASS_UNCLASSIFIED;
	priority_score(&in, &r, err, sizeof(err));
	double thin = r.confidence;
	in.class = MAILCLASS_CUSTOMER;
	in.vip = 1;
	in.subject = "dringend";
	priority_score(&in, &r, err, sizeof(err));
	ok(r.confidence > thin, "confidence grows with evidence (%.2f > %.2f)", r.confidence, thin);
}

int main(void)
{
	char err[256];
	ok(priority_init(err, sizeof(err)) == 0, "patterns compile");
	test_words();
	test_dates();
	test_class();
	test_thresholds();
	test_rule_and_model();
	return done_testing();
}
