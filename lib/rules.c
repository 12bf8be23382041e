/* rules.c - compile admin rules from JSON once, evaluate them per message.
 *
 * rules_compile() checks everything rules.h promises before anything is
 * kept, so a ruleset in memory is always valid: sorted by (position, id),
 * every pattern compiled. rules_apply() only reads it; its match data,
 * match context and JIT stack belong to the call.
 */
#include "rules.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define JIT_STACK_START (32u << 10)
#define JIT_STACK_MAX   (1u << 20)

enum rule_field { FIELD_SENDER, FIELD_RECIPIENTS, FIELD_SUBJECT, FIELD_TEXT, FIELD_HEADER };

/* what a rule's actions set */
#define ACT_CLASS        0x01u
#define ACT_ORGANISATION 0x02u
#define ACT_PRIORITY     0x04u
#define ACT_TEAM         0x08u
#define ACT_USER         0x10u
#define ACT_SKIP_INBOX   0x20u

struct condition {
	enum rule_field field;
	char *header; /* FIELD_HEADER: the field's name */
	pcre2_code *re;
	int negate;
};

struct rule {
	long id, position;
	char *name;
	struct condition *conds;
	size_t n_conds;
	unsigned set; /* ACT_* */
	enum mail_class class;
	long long organisation_id;
	int priority;
	char *team, *user;
	char **labels;
	size_t n_labels;
	int skip_inbox, stop;
};

struct ruleset {
	struct rule *rules;
	size_t n;
};

/* Where compiling is, for messages that name the rule and condition. */
struct compile {
	char *err;
	size_t errlen;
	size_t rule; /* 1-based index in the array; 0 outside any rule */
	long id;     /* the rule's id once read; 0 before */
	size_t cond; /* 1-based; 0 outside any condition */
};

static const struct {
	const char *name;
	int value;
} priority_levels[] = {{"low", 25}, {"normal", 50}, {"high", 75}, {"urgent", 100}};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* fail - write "rule N (id I): condition M: what" into the error buffer; -1 */
__attribute__((format(printf, 2, 3))) static int fail(struct compile *c, const char *fmt, ...)
{
	char where[96] = "", what[512];
	size_t w = 0;
	va_list ap;
	if (c->rule > 0) {
		w += (size_t)snprintf(where, sizeof(where), "rule %zu", c->rule);
		if (c->id > 0)
			w += (size_t)snprintf(where + w, sizeof(where) - w, " (id %ld)", c->id);
		w += (size_t)snprintf(where + w, sizeof(where) - w, ": ");
	}
	if (c->cond > 0 && w < sizeof(where))
		snprintf(where + w, sizeof(where) - w, "condition %zu: ", c->cond);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->errlen > 0)
		snprintf(c->err, c->errlen, "%s%s", where, what);
	return -1;
}

/* known_keys - refuse any key of obj not in keys */
static int known_keys(struct compile *c, json_t *obj, const char *what, const char *const *keys, size_t n)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (i < n && strcmp(key, keys[i]) != 0)
			i++;
		if (i == n) {
			char list[256];
			size_t used = 0;
			for (size_t k = 0; k < n && used < sizeof(list); k++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
				                         k ? ", " : "", keys[k]);
			return fail(c, "unknown %s key \"%.64s\" (known: %s)", what, key, list);
		}
	}
	return 0;
}

/* plain_string - is v a string of min..max bytes without control characters? */
static int plain_string(struct compile *c, json_t *v, const char *what, size_t min, size_t max,
                        const char **out)
{
	if (!json_is_string(v))
		return fail(c, "%s must be a string", what);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len < min || len > max)
		return fail(c, "%s must be %zu to %zu bytes, not %zu", what, min, max, len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(c, "%s holds a control character at byte %zu", what, i);
	*out = s;
	return 0;
}

/* boolean - a JSON true or false into *out */
static int boolean(struct compile *c, json_t *v, const char *what, int *out)
{
	if (!json_is_boolean(v))
		return fail(c, "%s must be true or false", what);
	*out = json_is_true(v);
	return 0;
}

/* integer - a JSON integer within min..max into *out */
static int integer(struct compile *c, json_t *v, const char *what, long long min, long long max,
                   long long *out)
{
	if (!json_is_integer(v))
		return fail(c, "%s must be an integer", what);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return fail(c, "%s must be %lld to %lld, not %lld", what, min, max, x);
	*out = x;
	return 0;
}

/* copy_string - a malloc'd copy of s; NULL with an error when out of memory */
static char *copy_string(struct compile *c, const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		fail(c, "out of memory");
	return d;
}

/* header_name_ok - a field name as RFC 5322 allows: printable ASCII but ':' */
static int header_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > RULES_HEADER_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == ':')
			return 0;
	return 1;
}

/* compile_pattern - a checked, compiled (and JIT-compiled where possible) pattern */
static int compile_pattern(struct compile *c, json_t *v, int case_sensitive, pcre2_code **out)
{
	if (!json_is_string(v))
		return fail(c, "pattern must be a string");
	size_t len = json_string_length(v);
	if (len > RULES_PATTERN_MAX)
		return fail(c, "pattern is %zu bytes, more than %u", len, RULES_PATTERN_MAX);
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
	if (!case_sensitive)
		opts |= PCRE2_CASELESS;
	int code;
	PCRE2_SIZE offset;
	*out = pcre2_compile((PCRE2_SPTR)json_string_value(v), len, opts, &code, &offset, NULL);
	if (*out == NULL) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		return fail(c, "pattern: %s at offset %zu", (const char *)msg, (size_t)offset);
	}
	(void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* without JIT the interpreter runs it */
	return 0;
}

/* parse_field - "sender", "recipients", "subject", "text" or "header:Name" */
static int parse_field(struct compile *c, json_t *v, struct condition *cond)
{
	static const struct {
		const char *name;
		enum rule_field field;
	} fields[] = {{"sender", FIELD_SENDER},
	              {"recipients", FIELD_RECIPIENTS},
	              {"subject", FIELD_SUBJECT},
	              {"text", FIELD_TEXT}};
	if (!json_is_string(v))
		return fail(c, "field must be a string");
	const char *s = json_string_value(v);
	for (size_t i = 0; i < N_OF(fields); i++) {
		if (strcmp(s, fields[i].name) == 0) {
			cond->field = fields[i].field;
			return 0;
		}
	}
	if (strncmp(s, "header:", 7) == 0) {
		if (!header_name_ok(s + 7))
			return fail(c,
			            "\"%.140s\" does not name a header field (printable ASCII but ':', 1 to "
			            "%u bytes)",
			            s, RULES_HEADER_NAME_MAX);
		cond->field = FIELD_HEADER;
		return (cond->header = copy_string(c, s + 7)) != NULL ? 0 : -1;
	}
	return fail(c, "unknown field \"%.64s\" (known: sender, recipients, subject, text, header:<Name>)",
	            s);
}

/* parse_condition - one object of "conditions" into cond */
static int parse_condition(struct compile *c, json_t *obj, struct condition *cond)
{
	static const char *const keys[] = {"field", "pattern", "negate", "case_sensitive"};
	int case_sensitive = 0;
	if (!json_is_object(obj))
		return fail(c, "must be an object");
	if (known_keys(c, obj, "condition", keys, N_OF(keys)) < 0)
		return -1;
	json_t *field = json_object_get(obj, "field"), *pattern = json_object_get(obj, "pattern");
	json_t *negate = json_object_get(obj, "negate"), *cs = json_object_get(obj, "case_sensitive");
	if (field == NULL)
		return fail(c, "no field");
	if (pattern == NULL)
		return fail(c, "no pattern");
	if (parse_field(c, field, cond) < 0 || (negate && boolean(c, negate, "negate", &cond->negate) < 0) ||
	    (cs && boolean(c, cs, "case_sensitive", &case_sensitive) < 0))
		return -1;
	return compile_pattern(c, pattern, case_sensitive, &cond->re);
}

/* parse_labels - "add_label": one string or an array of them */
static int parse_labels(struct compile *c, json_t *v, struct rule *r)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	if (!json_is_array(v) && !json_is_string(v))
		return fail(c, "add_label must be a string or an array of strings");
	if (n == 0 || n > RULES_LABELS_PER_RULE)
		return fail(c, "add_label must hold 1 to %u labels, not %zu", RULES_LABELS_PER_RULE, n);
	if ((r->labels = calloc(n, sizeof(*r->labels))) == NULL)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s;
		if (plain_string(c, json_is_array(v) ? json_array_get(v, i) : v, "a label", 1,
		                 RULES_STRING_MAX, &s) < 0 ||
		    (r->labels[i] = copy_string(c, s)) == NULL)
			return -1;
		r->n_labels++;
	}
	return 0;
}

/* parse_priority - 0..100 or a level's name */
static int parse_priority(struct compile *c, json_t *v, struct rule *r)
{
	long long x;
	if (json_is_string(v)) {
		for (size_t i = 0; i < N_OF(priority_levels); i++) {
			if (strcmp(json_string_value(v), priority_levels[i].name) == 0) {
				r->priority = priority_levels[i].value;
				return 0;
			}
		}
		return fail(c, "unknown priority \"%.64s\" (0 to 100, or low, normal, high, urgent)",
		            json_string_value(v));
	}
	if (!json_is_integer(v))
		return fail(c, "set_priority must be 0 to 100 or low, normal, high, urgent");
	if (integer(c, v, "set_priority", 0, 100, &x) < 0)
		return -1;
	r->priority = (int)x;
	return 0;
}

/* parse_actions - the "actions" object into r */
static int parse_actions(struct compile *c, json_t *obj, struct rule *r)
{
	static const char *const keys[] = {"set_class", "set_organisation", "set_priority", "add_label",
	                                   "set_team",  "set_user",         "skip_inbox",   "stop"};
	const char *s;
	long long x;
	json_t *v;
	if (!json_is_object(obj))
		return fail(c, "actions must be an object");
	if (known_keys(c, obj, "action", keys, N_OF(keys)) < 0)
		return -1;
	if (json_object_size(obj) == 0)
		return fail(c, "no actions");
	if ((v = json_object_get(obj, "set_class")) != NULL) {
		if (!json_is_string(v))
			return fail(c, "set_class must be a string");
		if (mailclass_parse(json_string_value(v), &r->class) < 0)
			return fail(
			    c,
			    "unknown class \"%.64s\" (known: customer, supplier, internal, newsletter, "
			    "advertising, unclassified)",
			    json_string_value(v));
		r->set |= ACT_CLASS;
	}
	if ((v = json_object_get(obj, "set_organisation")) != NULL) {
		if (integer(c, v, "set_organisation", 1, LLONG_MAX, &x) < 0)
			return -1;
		r->organisation_id = x;
		r->set |= ACT_ORGANISATION;
	}
	if ((v = json_object_get(obj, "set_priority")) != NULL) {
		if (parse_priority(c, v, r) < 0)
			return -1;
		r->set |= ACT_PRIORITY;
	}
	if ((v = json_object_get(obj, "add_label")) != NULL && parse_labels(c, v, r) < 0)
		return -1;
	if ((v = json_object_get(obj, "set_team")) != NULL) {
		if (plain_string(c, v, "set_team", 1, RULES_STRING_MAX, &s) < 0 ||
		    (r->team = copy_string(c, s)) == NULL)
			return -1;
		r->set |= ACT_TEAM;
	}
	if ((v = json_object_get(obj, "set_user")) != NULL) {
		if (plain_string(c, v, "set_user", 1, RULES_STRING_MAX, &s) < 0 ||
		    (r->user = copy_string(c, s)) == NULL)
			return -1;
		r->set |= ACT_USER;
	}
	if ((v = json_object_get(obj, "skip_inbox")) != NULL) {
		if (boolean(c, v, "skip_inbox", &r->skip_inbox) < 0)
			return -1;
		r->set |= ACT_SKIP_INBOX;
	}
	if ((v = json_object_get(obj, "stop")) != NULL && boolean(c, v, "stop", &r->stop) < 0)
		return -1;
	return 0;
}

/* parse_rule - one object of the array into r */
static int parse_rule(struct compile *c, json_t *obj, struct rule *r)
{
	static const char *const keys[] = {"id", "position", "name", "conditions", "actions"};
	long long x;
	const char *s = "";
	if (!json_is_object(obj))
		return fail(c, "must be an object");
	json_t *id = json_object_get(obj, "id");
	if (id == NULL)
		return fail(c, "no id");
	if (integer(c, id, "id", 1, LONG_MAX, &x) < 0)
		return -1;
	r->id = c->id = (long)x;
	if (known_keys(c, obj, "rule", keys, N_OF(keys)) < 0)
		return -1;
	json_t *pos = json_object_get(obj, "position"), *name = json_object_get(obj, "name");
	json_t *conds = json_object_get(obj, "conditions"), *actions = json_object_get(obj, "actions");
	if (pos == NULL)
		return fail(c, "no position");
	if (integer(c, pos, "position", LONG_MIN, LONG_MAX, &x) < 0)
		return -1;
	r->position = (long)x;
	if (name != NULL && plain_string(c, name, "name", 0, RULES_NAME_MAX, &s) < 0)
		return -1;
	if ((r->name = copy_string(c, s)) == NULL)
		return -1;
	if (conds == NULL)
		return fail(c, "no conditions (an empty array matches every message)");
	if (!json_is_array(conds))
		return fail(c, "conditions must be an array");
	size_t n = json_array_size(conds);
	if (n > RULES_CONDITIONS_MAX)
		return fail(c, "%zu conditions, more than %u", n, RULES_CONDITIONS_MAX);
	if (n > 0 && (r->conds = calloc(n, sizeof(*r->conds))) == NULL)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		c->cond = i + 1;
		r->n_conds++;
		if (parse_condition(c, json_array_get(conds, i), &r->conds[i]) < 0)
			return -1;
	}
	c->cond = 0;
	if (actions == NULL)
		return fail(c, "no actions");
	return parse_actions(c, actions, r);
}

/* rule_order - ascending position, ties by id */
static int rule_order(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* id_order - ascending id */
static int id_order(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* duplicate_id - the first id used twice, 0 when none; -1 when out of memory */
static long duplicate_id(const struct ruleset *rs)
{
	long dup_id = 0;
	if (rs->n < 2)
		return 0;
	long *ids = malloc(rs->n * sizeof(*ids));
	if (ids == NULL)
		return -1;
	for (size_t i = 0; i < rs->n; i++)
		ids[i] = rs->rules[i].id;
	qsort(ids, rs->n, sizeof(*ids), id_order);
	for (size_t i = 1; i < rs->n && dup_id == 0; i++)
		if (ids[i] == ids[i - 1])
			dup_id = ids[i];
	free(ids);
	return dup_id;
}

int rules_compile(const char *json_text, struct ruleset **out, char *err, size_t errlen)
{
	struct compile c = {.err = err, .errlen = errlen};
	json_error_t jerr;
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	size_t len = json_text ? strnlen(json_text, RULES_JSON_MAX + 1) : 0;
	if (json_text == NULL)
		return fail(&c, "no rules text");
	if (len > RULES_JSON_MAX)
		return fail(&c, "rules text over %u bytes", RULES_JSON_MAX);
	json_t *root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(&c, "JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	struct ruleset *rs = calloc(1, sizeof(*rs));
	int rc = -1;
	size_t n = json_is_array(root) ? json_array_size(root) : 0;
	if (rs == NULL)
		fail(&c, "out of memory");
	else if (!json_is_array(root))
		fail(&c, "the rules must be a JSON array");
	else if (n > RULES_MAX)
		fail(&c, "%zu rules, more than %u", n, RULES_MAX);
	else if (n > 0 && (rs->rules = calloc(n, sizeof(*rs->rules))) == NULL)
		fail(&c, "out of memory");
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		c.rule = i + 1;
		c.id = 0;
		rs->n++;
		rc = parse_rule(&c, json_array_get(root, i), &rs->rules[i]);
	}
	json_decref(root);
	c.rule = 0;
	long d = rc == 0 ? duplicate_id(rs) : 0;
	if (d != 0)
		rc = d < 0 ? fail(&c, "out of memory") : fail(&c, "rule id %ld is used twice", d);
	if (rc < 0) {
		rules_free(&rs);
		return -1;
	}
	if (rs->n > 1)
		qsort(rs->rules, rs->n, sizeof(*rs->rules), rule_order);
	*out = rs;
	return 0;
}

/* --- evaluation ---------------------------------------------------------------- */

struct matcher {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	struct rules_result *out;
};

/* warn - one warning into the result, counted when there is no room */
__attribute__((format(printf, 2, 3))) static void warn(struct rules_result *out, const char *fmt, ...)
{
	va_list ap;
	if (out->n_warnings >= RULES_RESULT_WARNINGS) {
		out->warnings_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(out->warnings[out->n_warnings++], RULES_WARNING_LEN, fmt, ap);
	va_end(ap);
}

/* match_one - 1 when re matches s[0..len), 0 when not, -1 when undecided (a limit, an error) */
static int match_one(struct matcher *mt, const struct rule *r, size_t ci, const pcre2_code *re, const char *s,
                     size_t len)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, mt->md, mt->mc);
	if (rc >= 0)
		return 1; /* 0: matched, ovector too small for the groups */
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	PCRE2_UCHAR msg[128];
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", rc);
	warn(mt->out, "rule %ld \"%.60s\" condition %zu: %s: the condition does not hold", r->id, r->name,
	     ci + 1, (const char *)msg);
	return -1;
}

/* text_cut - how many bytes of the text rules look at: at most RULES_TEXT_BYTES, whole characters */
static size_t text_cut(const char *t)
{
	size_t n = strnlen(t, RULES_TEXT_BYTES + 1);
	if (n <= RULES_TEXT_BYTES)
		return n;
	n = RULES_TEXT_BYTES;
	while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* condition_holds - does condition ci of r hold for in? */
static int condition_holds(struct matcher *mt, const struct rule *r, size_t ci, const struct rules_input *in)
{
	const struct condition *c = &r->conds[ci];
	const char *one[1], *hv[RULES_HEADER_VALUES];
	const char *const *vals = one;
	size_t n = 1;
	switch (c->field) {
	case FIELD_SENDER:
		vals = in->senders;
		n = in->senders ? in->n_senders : 0;
		break;
	case FIELD_RECIPIENTS:
		vals = in->recipients;
		n = in->recipients ? in->n_recipients : 0;
		break;
	case FIELD_SUBJECT:
		one[0] = in->subject ? in->subject : "";
		break;
	case FIELD_TEXT:
		one[0] = in->text ? in->text : "";
		break;
	case FIELD_HEADER:
		n = 0;
		if (in->headers != NULL && in->headers->values != NULL)
			n = in->headers->values(in->headers->ctx, c->header, hv, RULES_HEADER_VALUES);
		if (n > RULES_HEADER_VALUES)
			n = RULES_HEADER_VALUES;
		vals = hv;
		break;
	}
	int undecided = 0;
	for (size_t i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		size_t len = c->field == FIELD_TEXT ? text_cut(vals[i]) : strlen(vals[i]);
		int m = match_one(mt, r, ci, c->re, vals[i], len);
		if (m > 0)
			return !c->negate;
		if (m < 0)
			undecided = 1;
	}
	return undecided ? 0 : c->negate;
}

/* add_label - a label once into the result */
static void add_label(struct rules_result *out, const char *label, long id)
{
	for (size_t i = 0; i < out->n_labels; i++)
		if (strcmp(out->labels[i], label) == 0)
			return;
	if (out->n_labels >= RULES_RESULT_LABELS) {
		warn(out, "rule %ld: more than %u labels: \"%.60s\" dropped", id, RULES_RESULT_LABELS, label);
		return;
	}
	out->labels[out->n_labels] = label;
	out->label_rules[out->n_labels++] = id;
}

/* fire - r's actions into the result, where no earlier rule set them */
static void fire(const struct rule *r, struct rules_result *out)
{
	out->fired[out->n_fired++] = r->id;
	if ((r->set & ACT_CLASS) && out->class_rule == 0) {
		out->class = r->class;
		out->class_rule = r->id;
	}
	if ((r->set & ACT_ORGANISATION) && out->organisation_rule == 0) {
		out->organisation_id = r->organisation_id;
		out->organisation_rule = r->id;
	}
	if ((r->set & ACT_PRIORITY) && out->priority_rule == 0) {
		out->priority = r->priority;
		out->priority_rule = r->id;
	}
	if ((r->set & ACT_TEAM) && out->team_rule == 0) {
		out->team = r->team;
		out->team_rule = r->id;
	}
	if ((r->set & ACT_USER) && out->user_rule == 0) {
		out->user = r->user;
		out->user_rule = r->id;
	}
	if ((r->set & ACT_SKIP_INBOX) && out->skip_inbox_rule == 0) {
		out->skip_inbox = r->skip_inbox;
		out->skip_inbox_rule = r->id;
	}
	for (size_t i = 0; i < r->n_labels; i++)
		add_label(out, r->labels[i], r->id);
}

int rules_apply(const struct ruleset *rs, const struct rules_input *in, struct rules_result *out)
{
	memset(out, 0, sizeof(*out));
	out->class = MAILCLASS_UNCLASSIFIED;
	if (rs == NULL || rs->n == 0)
		return 0;
	struct matcher mt = {.out = out};
	mt.md = pcre2_match_data_create(1, NULL);
	mt.mc = pcre2_match_context_create(NULL);
	pcre2_jit_stack *stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
	int rc = 0;
	if (mt.md == NULL || mt.mc == NULL) {
		rc = -1;
	} else {
		pcre2_set_match_limit(mt.mc, RULES_MATCH_LIMIT);
		pcre2_set_depth_limit(mt.mc, RULES_DEPTH_LIMIT);
		pcre2_set_heap_limit(mt.mc, RULES_HEAP_LIMIT_KIB);
		if (stack != NULL) /* without one, JIT uses 32 KiB of the machine stack */
			pcre2_jit_stack_assign(mt.mc, NULL, stack);
	}
	for (size_t i = 0; rc == 0 && i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		size_t ci = 0;
		while (ci < r->n_conds && condition_holds(&mt, r, ci, in))
			ci++;
		if (ci < r->n_conds)
			continue;
		fire(r, out);
		if (r->stop) {
			out->stopped_by = r->id;
			break;
		}
	}
	if (stack != NULL)
		pcre2_jit_stack_free(stack);
	pcre2_match_context_free(mt.mc);
	pcre2_match_data_free(mt.md);
	return rc;
}

size_t rules_count(const struct ruleset *rs)
{
	return rs ? rs->n : 0;
}

const char *rules_rule_name(const struct ruleset *rs, long id)
{
	for (size_t i = 0; rs != NULL && i < rs->n; i++)
		if (rs->rules[i].id == id)
			return rs->rules[i].name;
	return NULL;
}

void rules_free(struct ruleset **rsp)
{
	struct ruleset *rs = *rsp;
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rules[i];
		for (size_t k = 0; k < r->n_conds; k++) {
			free(r->conds[k].header);
			pcre2_code_free(r->conds[k].re);
		}
		for (size_t k = 0; k < r->n_labels; k++)
			free(r->labels[k]);
		free(r->conds);
		free(r->labels);
		free(r->name);
		free(r->team);
		free(r->user);
	}
	free(rs->rules);
	free(rs);
	*rsp = NULL;
}
