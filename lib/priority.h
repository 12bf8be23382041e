/* priority.h - how urgent one message is: a score 0..100, a level and the
 * reasons, from rules first and then the local model's opinion.
 *
 * Rules (points on a base of PRIORITY_BASE, each with a reason):
 *   VIP organisation or contact             +20
 *   class customer +15, supplier +10, internal 0, unclassified 0,
 *         newsletter -25, advertising -30
 *   bounce, auto-reply or out-of-office     -30 (once)
 *   mailing list (not already newsletter)   -10
 *   a reply to our own question             +15 (the caller knows the thread)
 *   urgency words (dringend, eilig, sofort, Notfall, Stillstand, Ausfall,
 *     urgent, asap, emergency, outage, down ...)      +20 each
 *   escalation words (Frist, Mahnung, Kündigung, Reklamation, Beschwerde,
 *     overdue, deadline, complaint, cancel, legal ...) +10 each
 *     (words together count at most +40)
 *   a date in the text: today or tomorrow +15, within 3 days +10, within 7
 *     days +5 (the nearest one counts; "bis 24.11.", "24.11.2026",
 *     "2026-11-24", "heute", "bis morgen", "tomorrow", "by Friday", "bis
 *     Freitag"), resolved against the message's time in UTC
 *   waited (conversations): over 1 day +5, over 3 days +10, over 7 days +15
 * Words match whole words, case-folded with Unicode (KÜNDIGUNG, kündigung
 * and kuendigung alike); German nouns also as the end of a compound
 * (Produktionsstillstand, Serverausfall, Zahlungsfrist).
 *
 * A rule action that sets the priority (rules.h set_priority) wins: the
 * score is the rule's, the reason names the rule, the model is not asked
 * and the confidence is 1.
 *
 * The model: the caller passes the probabilities of the heads
 * "level:urgent", "level:high", "level:normal", "level:low". Their expected
 * score (urgent 90, high 68, normal 45, low 15, weighted by the normalised
 * probabilities) pulls the rules' score half-way towards it, scaled by the
 * model's certainty (how far its favourite level stands above an even
 * split: 0 for four equal probabilities, 1 for a sure one), by at most
 * PRIORITY_MODEL_MAX points either way; the reason names the model version.
 *
 * Levels: score >= PRIORITY_URGENT_MIN urgent, >= PRIORITY_HIGH_MIN high,
 * >= PRIORITY_NORMAL_MIN normal, else low.
 *
 * Confidence 0..1: how much evidence the rules had (number of rule reasons)
 * and how far the score is from the nearest level threshold; with a model,
 * averaged with the model's probability of the chosen level, and cut when
 * the model's favourite level is another one. Low means: ask someone else.
 *
 * Threads: the patterns are compiled once (priority_init, or the first
 * priority_score); after that any number of threads may score at once.
 */
#ifndef MAILROOM_PRIORITY_H
#define MAILROOM_PRIORITY_H

#include <stddef.h>
#include <time.h>

#include "mailclass.h"

#define PRIORITY_BASE        40
#define PRIORITY_URGENT_MIN  80
#define PRIORITY_HIGH_MIN    60
#define PRIORITY_NORMAL_MIN  30
#define PRIORITY_MODEL_MAX   15
#define PRIORITY_WORDS_MAX   40   /* points all urgency and escalation words give together */
#define PRIORITY_TEXT_BYTES  2048 /* of the new text looked at: its opening */
#define PRIORITY_REASONS_MAX 16
#define PRIORITY_WHY_MAX     160

enum priority_level { PRIORITY_LOW = 0, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_URGENT };
#define PRIORITY_LEVELS 4

struct priority_input {
	const char *subject; /* decoded; NULL: none */
	const char *text;    /* new text without quotes and signature; NULL: none */
	enum mail_class class;
	unsigned flags; /* MSGFLAG_* */
	int vip;
	int replies_to_our_question; /* the message before in its conversation was ours and asked */
	time_t sent_at;              /* the message's time, for dates in the text; 0: unknown (no dates) */
	long long waited_seconds;    /* how long its conversation has waited on us; <= 0: not at all */
	int rule_priority;           /* 0..100, used when rule_id != 0 */
	long rule_id;                /* the rule that set the priority; 0: none */
	/* model: probabilities of level:urgent, level:high, level:normal,
	 * level:low (indexed by enum priority_level); NULL: no model */
	const double *model_levels;
	long long model_version;
};

struct priority_reason {
	const char *by; /* "rule" or "model" (static strings) */
	int points;
	char why[PRIORITY_WHY_MAX];
};

struct priority_result {
	int score; /* 0..100 */
	enum priority_level level;
	double confidence; /* 0..1 */
	int rules_score;   /* before the model */
	struct priority_reason reasons[PRIORITY_REASONS_MAX];
	size_t n_reasons;
};

/* priority_init - compile the patterns once; 0, or -1 with err set */
int priority_init(char *err, size_t errlen);
/* priority_score - score in into out; 0, or -1 with err set when the
 * patterns could not be compiled or a match failed for want of memory */
int priority_score(const struct priority_input *in, struct priority_result *out, char *err, size_t errlen);
/* priority_level_of - the level of a score */
enum priority_level priority_level_of(int score);
/* priority_level_name - "urgent", "high", "normal" or "low" */
const char *priority_level_name(enum priority_level l);
/* priority_level_parse - the level called name; 0, or -1 when none is */
int priority_level_parse(const char *name, enum priority_level *out);
/* priority_level_score - the score that stands for a level (urgent 90, high 68, normal 45, low 15) */
int priority_level_score(enum priority_level l);
/* priority_reasons_json - the reasons as a JSON array of {"by","points","why"};
 * malloc'd, NULL when out of memory */
char *priority_reasons_json(const struct priority_result *r);
/* priority_asks - 1 when text (new text, no quotes) asks something: a
 * question mark outside a URL */
int priority_asks(const char *text);

#endif
