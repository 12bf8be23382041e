/* noteoutcome.c - phrase rules for the outcome of phone and call notes.
 *
 * Each phrase belongs to one side: positive (an order, a yes), negative (a
 * no) or open (they will call back, a decision later). Negated positives
 * ("not interested", "kein Interesse") are negative phrases and a positive
 * phrase does not match where its negation does. Positive and negative
 * together, or positive with an open end, make "partial"; no phrase at all
 * "unclassified".
 */
#include "noteoutcome.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#define NOTEOUTCOME_MATCH_LIMIT 100000

enum side { SIDE_POSITIVE, SIDE_NEGATIVE, SIDE_OPEN, N_SIDES };

struct phrase {
	enum side side;
	const char *name;    /* what the reason says */
	const char *pattern; /* caseless, UTF, word-bounded where it matters */
};

static const struct phrase phrases[] = {
    {SIDE_NEGATIVE, "kein Interesse", "\\bkein(e|en)?\\s+(weiteres\\s+)?interesse\\b"},
    {SIDE_NEGATIVE, "abgesagt", "\\b(abgesagt|absage|lehnt\\w*\\s+ab|abgelehnt|storniert)\\b"},
    {SIDE_NEGATIVE, "not interested", "\\b(not|no\\s+longer)\\s+interested\\b|\\bno\\s+interest\\b"},
    {SIDE_NEGATIVE, "declined", "\\b(declined|turned\\s+(us\\s+)?down|cancel+ed|rejected)\\b"},
    {SIDE_POSITIVE, "zugesagt", "\\b(zugesagt|zusage|einverstanden|angenommen)\\b"},
    {SIDE_POSITIVE, "bestellt", "\\b(bestellt|bestellung\\s+erhalten)\\b"},
    {SIDE_POSITIVE, "Auftrag erteilt", "\\bauftrag\\s+(erteilt|bekommen|erhalten)\\b"},
    {SIDE_POSITIVE, "interessiert", "(?<!nicht\\s)\\binteressiert\\b"},
    {SIDE_POSITIVE, "interested", "(?<!not\\s)(?<!longer\\s)\\binterested\\b"},
    {SIDE_POSITIVE, "ordered", "\\b(ordered|placed\\s+(an|the)\\s+order|agreed|accepted|signed)\\b"},
    {SIDE_OPEN, "meldet sich", "\\bmeldet\\s+sich\\b"},
    {SIDE_OPEN, "Rückruf", "\\br(ü|ue)ckruf\\b|\\bruft\\s+\\w*\\s*zur(ü|ue)ck\\b"},
    {SIDE_OPEN, "call back",
     "\\b(call(ing)?\\s+(us\\s+|me\\s+)?back|get\\s+back\\s+to\\s+us|will\\s+think\\s+about\\s+it)\\b"},
    {SIDE_OPEN, "teilweise", "\\b(teilweise|zum\\s+teil|partially|in\\s+part)\\b"},
};
#define N_PHRASES (sizeof(phrases) / sizeof(phrases[0]))

static pcre2_code *compiled[N_PHRASES];
static pcre2_match_context *mctx;

int noteoutcome_init(char *err, size_t errlen)
{
	if (mctx != NULL)
		return 0;
	for (size_t i = 0; i < N_PHRASES; i++) {
		int code;
		PCRE2_SIZE off;
		compiled[i] = pcre2_compile((PCRE2_SPTR)phrases[i].pattern, PCRE2_ZERO_TERMINATED,
		                            PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
		if (compiled[i] == NULL) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof(msg));
			snprintf(err, errlen, "note phrase '%s' at %zu: %s", phrases[i].name, (size_t)off,
			         (char *)msg);
			noteoutcome_free();
			return -1;
		}
	}
	mctx = pcre2_match_context_create(NULL);
	if (mctx == NULL) {
		snprintf(err, errlen, "out of memory");
		noteoutcome_free();
		return -1;
	}
	pcre2_set_match_limit(mctx, NOTEOUTCOME_MATCH_LIMIT);
	return 0;
}

void noteoutcome_free(void)
{
	for (size_t i = 0; i < N_PHRASES; i++) {
		pcre2_code_free(compiled[i]);
		compiled[i] = NULL;
	}
	pcre2_match_context_free(mctx);
	mctx = NULL;
}

/* add_reason - append "side: name" to the reason text, within its size */
static void add_reason(struct noteoutcome *r, const char *side, const char *name)
{
	size_t used = strlen(r->reason);
	snprintf(r->reason + used, sizeof(r->reason) - used, "%s%s \"%s\"", used ? ", " : "", side, name);
}

int noteoutcome_rules(const char *body, size_t len, struct noteoutcome *r, char *err, size_t errlen)
{
	static const char *const side_names[N_SIDES] = {"positive", "negative", "open"};
	int seen[N_SIDES] = {0, 0, 0};
	pcre2_match_data *md;

	if (mctx == NULL && noteoutcome_init(err, errlen) < 0)
		return -1;
	r->by = "rule";
	r->reason[0] = '\0';
	for (size_t i = 0; i < N_PHRASES; i++) {
		md = pcre2_match_data_create_from_pattern(compiled[i], NULL);
		if (md == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		int rc = pcre2_match(compiled[i], (PCRE2_SPTR)body, len, 0, 0, md, mctx);
		pcre2_match_data_free(md);
		if (rc >= 0) {
			seen[phrases[i].side] = 1;
			add_reason(r, side_names[phrases[i].side], phrases[i].name);
		} else if (rc != PCRE2_ERROR_NOMATCH) {
			/* bad UTF-8 or the match limit: this phrase says nothing */
			continue;
		}
	}
	if (seen[SIDE_POSITIVE] && (seen[SIDE_NEGATIVE] || seen[SIDE_OPEN]))
		r->outcome = "partial";
	else if (seen[SIDE_POSITIVE])
		r->outcome = "positive";
	else if (seen[SIDE_NEGATIVE])
		r->outcome = "negative";
	else if (seen[SIDE_OPEN])
		r->outcome = "partial";
	else
		r->outcome = "unclassified";
	if (r->reason[0] == '\0')
		snprintf(r->reason, sizeof(r->reason), "no outcome phrase");
	return 0;
}

int noteoutcome_decide(const char *body, size_t len, struct noteoutcome *r, char *err, size_t errlen)
{
	if (noteoutcome_rules(body, len, r, err, errlen) < 0)
		return -1;
	/* The local model (lib/model.h) would be asked here when the rules
	 * leave a note unclassified; until it classifies notes, they stay so. */
	return 0;
}
