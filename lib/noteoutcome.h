/* noteoutcome.h - the outcome of a phone or call note: positive, negative,
 * partial or unclassified, with the reason, for the lead's reports.
 *
 * Rules first: German and English phrases ("zugesagt", "kein Interesse",
 * "call back" ...), compiled once with match limits. noteoutcome_decide()
 * is where a model's opinion would join the rules' (it does not yet: the
 * rules decide alone and say so in by_r).
 */
#ifndef MAILROOM_NOTEOUTCOME_H
#define MAILROOM_NOTEOUTCOME_H

#include <stddef.h>

struct noteoutcome {
	const char *outcome; /* "positive", "negative", "partial", "unclassified" */
	const char *by;      /* "rule" (later: "model", "llm") */
	char reason[240];    /* the phrases that decided, for the note's outcome_reason */
};

/* noteoutcome_init - compile the phrase table once; 0 or -1 with err */
int noteoutcome_init(char *err, size_t errlen);
/* noteoutcome_free - release the compiled phrases */
void noteoutcome_free(void);
/* noteoutcome_rules - classify body (UTF-8) by the phrase rules alone; 0 or -1 with err */
int noteoutcome_rules(const char *body, size_t len, struct noteoutcome *r, char *err, size_t errlen);
/* noteoutcome_decide - the outcome to store: the rules' answer, and the
 * place where a model may overrule an "unclassified" later; 0 or -1 */
int noteoutcome_decide(const char *body, size_t len, struct noteoutcome *r, char *err, size_t errlen);

#endif
