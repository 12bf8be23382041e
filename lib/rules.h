/* rules.h - admin rules: pcre2 conditions on a message, actions on its sorting.
 *
 * A ruleset is a JSON array (the worker keeps it in a jsonb column), e.g.
 *
 *   [{"id": 1, "position": 10, "name": "Invoices",
 *     "conditions": [{"field": "subject", "pattern": "rechnung|invoice"},
 *                    {"field": "header:X-Mailer", "pattern": "^SAP", "negate": true}],
 *     "actions": {"set_class": "supplier", "add_label": ["invoice"], "stop": true}}]
 *
 * Rule keys: "id" (integer >= 1, unique; required), "position" (integer;
 * required), "name" (string, optional), "conditions" (array, required; an
 * empty array matches every message), "actions" (object with at least one
 * action; required). Unknown keys are refused.
 *
 * Condition keys: "field", "pattern" (both required), "negate" and
 * "case_sensitive" (booleans, default false). All conditions of a rule must
 * hold. Fields:
 *   sender       the From address and the envelope sender, each on its own
 *   recipients   the To and Cc addresses and the envelope recipients, each on its own
 *   subject      the decoded subject ("" when absent)
 *   text         the first RULES_TEXT_BYTES bytes of the new text (quotes and
 *                signature left out)
 *   header:Name  every value of that header field (name case-insensitive)
 * A condition holds when the pattern matches at least one value; with
 * negate, when it matches none (so a negated condition on an absent header
 * holds). Patterns are PCRE2 in UTF mode with Unicode properties,
 * case-insensitive unless case_sensitive is true; an unanchored pattern
 * matches anywhere in the value.
 *
 * Actions: "set_class" (a name of mailclass.h), "set_organisation"
 * (integer >= 1), "set_priority" (0..100, or "low" 25, "normal" 50, "high"
 * 75, "urgent" 100), "add_label" (a string or an array of strings),
 * "set_team", "set_user" (strings), "skip_inbox" (boolean), "stop"
 * (boolean: no later rule is evaluated). Strings are 1..RULES_STRING_MAX
 * bytes without control characters.
 *
 * Caps: RULES_JSON_MAX bytes of JSON, RULES_MAX rules, RULES_CONDITIONS_MAX
 * conditions and RULES_LABELS_PER_RULE labels per rule, RULES_PATTERN_MAX
 * bytes per pattern.
 *
 * Evaluation: ascending position, ties by id. For each attribute the first
 * rule that fires and sets it wins; labels accumulate (each once, at most
 * RULES_RESULT_LABELS); a firing rule with stop ends the evaluation.
 *
 * Patterns are compiled once, JIT where available. Every match runs under
 * a match limit, a depth limit and a heap limit (RULES_MATCH_LIMIT,
 * RULES_DEPTH_LIMIT, RULES_HEAP_LIMIT_KIB), so a pattern with catastrophic
 * backtracking cannot hang the caller. A condition whose match hits a limit
 * (or fails otherwise) does not hold, negated or not: a rule never fires on
 * an undecided condition. Each such event is a warning in the result.
 *
 * Threads: a compiled ruleset is immutable. Any number of threads may call
 * rules_apply() on it at once; each call has its own match data.
 */
#ifndef MAILROOM_RULES_H
#define MAILROOM_RULES_H

#include <stddef.h>

#include "hdrlookup.h"
#include "mailclass.h"

#define RULES_JSON_MAX        (1u << 20)
#define RULES_MAX             1000
#define RULES_CONDITIONS_MAX  20
#define RULES_PATTERN_MAX     4096
#define RULES_LABELS_PER_RULE 20
#define RULES_STRING_MAX      128
#define RULES_NAME_MAX        200
#define RULES_HEADER_NAME_MAX 128
#define RULES_TEXT_BYTES      1024
#define RULES_HEADER_VALUES   32 /* values of one header field looked at */
#define RULES_MATCH_LIMIT     100000
#define RULES_DEPTH_LIMIT     1000
#define RULES_HEAP_LIMIT_KIB  16384
#define RULES_RESULT_LABELS   32
#define RULES_RESULT_WARNINGS 8
#define RULES_WARNING_LEN     200

struct ruleset;

/* What a rule looks at. Strings are UTF-8, not owned; NULL means absent. */
struct rules_input {
	const char *const *senders; /* From address, envelope sender (bare addr-specs) */
	size_t n_senders;
	const char *const *recipients; /* To, Cc, envelope recipients */
	size_t n_recipients;
	const char *subject;
	const char *text;                /* the new text; only RULES_TEXT_BYTES are looked at */
	const struct hdrlookup *headers; /* NULL: header conditions see no values */
};

/* What the rules decided. A *_rule field holds the id of the rule that set
 * the attribute, 0 when none did. Strings point into the ruleset and live
 * as long as it does. */
struct rules_result {
	enum mail_class class;
	long class_rule;
	long long organisation_id;
	long organisation_rule;
	int priority; /* 0..100 */
	long priority_rule;
	const char *team;
	long team_rule;
	const char *user;
	long user_rule;
	int skip_inbox;
	long skip_inbox_rule;
	const char *labels[RULES_RESULT_LABELS];
	long label_rules[RULES_RESULT_LABELS];
	size_t n_labels;
	long fired[RULES_MAX]; /* ids of the rules that fired, in evaluation order */
	size_t n_fired;
	long stopped_by; /* the rule whose stop ended the evaluation, 0 when none */
	char warnings[RULES_RESULT_WARNINGS][RULES_WARNING_LEN];
	size_t n_warnings;       /* kept in warnings[] */
	size_t warnings_dropped; /* beyond RULES_RESULT_WARNINGS */
};

/* rules_compile - parse, check and compile a NUL-terminated JSON array of
 * rules. 0 with *out set, or -1 with a message naming the rule, the
 * condition and the problem in err. */
int rules_compile(const char *json_text, struct ruleset **out, char *err, size_t errlen);
/* rules_apply - evaluate rs (NULL: no rules) on in into out; 0, or -1 when
 * out of memory (out then holds what was decided before) */
int rules_apply(const struct ruleset *rs, const struct rules_input *in, struct rules_result *out);
/* rules_count - how many rules rs holds */
size_t rules_count(const struct ruleset *rs);
/* rules_rule_name - the name of the rule with this id ("" when unnamed, NULL when none) */
const char *rules_rule_name(const struct ruleset *rs, long id);
/* rules_free - release a ruleset and clear the caller's pointer */
void rules_free(struct ruleset **rsp);

#endif
