/* test-rules.c - admin rules: each condition kind, negate, order, stop,
 * first setter wins, labels, every validation error, match limits, case,
 * and one ruleset shared by several threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "rules.h"
#include "tap.h"

/* --- a fake message ------------------------------------------------------------ */

struct fake_header {
	const char *name, *value;
};

struct fake {
	const struct fake_header *headers;
	size_t n;
};

/* fake_values - hdrlookup's values() over a table, names case-insensitive */
static size_t fake_values(void *ctx, const char *name, const char **out, size_t max)
{
	const struct fake *f = ctx;
	size_t found = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcasecmp(f->headers[i].name, name) != 0)
			continue;
		if (found < max)
			out[found] = f->headers[i].value;
		found++;
	}
	return found;
}

static const struct fake_header hdrs[] = {
    {"X-Mailer", "SAP NetWeaver 7.5"},
    {"Received", "from mx1.kunde.example"},
    {"Received", "from relay.partner.example"},
};
static struct fake fake_hdrs = {hdrs, sizeof(hdrs) / sizeof(hdrs[0])};
static const struct hdrlookup lookup = {fake_values, &fake_hdrs};
static const char *const senders[] = {"anna@kunde.example", "bounces+123@mailer.kunde.example"};
static const char *const rcpts[] = {"info@us.example", "cc@us.example", "service@us.example"};

/* input - the standard message with this subject and text */
static struct rules_input input(const char *subject, const char *text)
{
	struct rules_input in = {senders, 2, rcpts, 3, subject, text, &lookup};
	return in;
}

/* compile - rules or a failed test; NULL on failure */
static struct ruleset *compile(const char *json, const char *what)
{
	struct ruleset *rs = NULL;
	char err[512];
	if (rules_compile(json, &rs, err, sizeof(err)) < 0)
		ok(0, "%s: compile: %s", what, err);
	return rs;
}

/* fires - does a one-condition rule fire on the standard message? -1 when it does not compile */
static int fires(const char *condition, const char *subject, const char *text)
{
	char json[2048];
	snprintf(json, sizeof(json),
	         "[{\"id\":1,\"position\":1,\"conditions\":[%s],\"actions\":{\"stop\":true}}]", condition);
	struct ruleset *rs = compile(json, condition);
	struct rules_result res;
	struct rules_input in = input(subject, text);
	if (rs == NULL)
		return -1;
	int rc = rules_apply(rs, &in, &res) == 0 && res.n_fired == 1;
	rules_free(&rs);
	return rc;
}

/* --- conditions -------------------------------------------------------------- */

static void test_conditions(void)
{
	static const struct {
		const char *cond, *subject;
		int want;
		const char *name;
	} cases[] = {
	    {"{\"field\":\"sender\",\"pattern\":\"@kunde\\\\.example$\"}", "x", 1,
	     "sender: the From address"},
	    {"{\"field\":\"sender\",\"pattern\":\"^bounces\\\\+\"}", "x", 1, "sender: the envelope sender"},
	    {"{\"field\":\"sender\",\"pattern\":\"@us\\\\.example$\"}", "x", 0, "sender: not a recipient"},
	    {"{\"field\":\"recipients\",\"pattern\":\"^service@\"}", "x", 1,
	     "recipients: an envelope recipient"},
	    {"{\"field\":\"recipients\",\"pattern\":\"^cc@\"}", "x", 1, "recipients: Cc"},
	    {"{\"field\":\"recipients\",\"pattern\":\"^anna@\"}", "x", 0, "recipients: not the sender"},
	    {"{\"field\":\"subject\",\"pattern\":\"rechnung\"}", "Ihre Rechnung 4711", 1, "subject"},
	    {"{\"field\":\"subject\",\"pattern\":\"^$\"}", NULL, 1, "subject: absent is empty"},
	    {"{\"field\":\"subject\",\"pattern\":\"angebot\"}", "Ihre Rechnung", 0, "subject: no match"},
	    {"{\"field\":\"header:X-Mailer\",\"pattern\":\"^SAP\"}", "x", 1, "header:X-Mailer"},
	    {"{\"field\":\"header:x-mailer\",\"pattern\":\"^SAP\"}", "x", 1, "header: the name in any case"},
	    {"{\"field\":\"header:Received\",\"pattern\":\"partner\"}", "x", 1, "header: its second value"},
	    {"{\"field\":\"header:X-Absent\",\"pattern\":\"\"}", "x", 0,
	     "header: an absent field has no value"},
	    {"{\"field\":\"header:X-Absent\",\"pattern\":\".\",\"negate\":true}", "x", 1,
	     "negate: an absent field matches nothing"},
	    {"{\"field\":\"subject\",\"pattern\":\"rechnung\",\"negate\":true}", "Ihre Rechnung", 0,
	     "negate: a match fails"},
	    {"{\"field\":\"subject\",\"pattern\":\"angebot\",\"negate\":false}", "Ihr Angebot", 1,
	     "negate false"},
	    {"{\"field\":\"subject\",\"pattern\":\"RECHNUNG\"}", "rechnung", 1,
	     "case-insensitive by default"},
	    {"{\"field\":\"subject\",\"pattern\":\"RECHNUNG\",\"case_sensitive\":true}", "rechnung", 0,
	     "case_sensitive: no match in other case"},
	    {"{\"field\":\"subject\",\"pattern\":\"Rechnung\",\"case_sensitive\":true}", "Ihre Rechnung", 1,
	     "case_sensitive: same case matches"},
	    {"{\"field\":\"subject\",\"pattern\":\"\xc3\x9c"
	     "berweisung\"}",
	     "\xc3\xbc"
	     "berweisung erhalten",
	     1, "case-insensitive beyond ASCII"},
	    {"{\"field\":\"subject\",\"pattern\":\"(?-i)Rechnung\"}", "rechnung", 0, "(?-i) in the pattern"},
	    {"{\"field\":\"subject\",\"pattern\":\"\\\\bgr\\\\w+e\\\\b\"}",
	     "Viele Gr\xc3\xbc\xc3\x9f"
	     "e",
	     1, "\\w knows umlauts"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(fires(cases[i].cond, cases[i].subject, ""), cases[i].want, "%s", cases[i].name);

	/* text: only the first RULES_TEXT_BYTES */
	char text[2048];
	memset(text, '.', sizeof(text));
	memcpy(text + 1000, "MARKER1", 7);
	memcpy(text + 1100, "MARKER2", 7);
	text[sizeof(text) - 1] = '\0';
	is_int(fires("{\"field\":\"text\",\"pattern\":\"marker1\"}", "x", text), 1,
	       "text: within 1024 bytes");
	is_int(fires("{\"field\":\"text\",\"pattern\":\"marker2\"}", "x", text), 0,
	       "text: past 1024 bytes unseen");
	is_int(fires("{\"field\":\"text\",\"pattern\":\"\\\\.$\"}", "x", text), 1, "text: ends at the cut");
	/* a two-byte character across byte 1024 is left out whole */
	memset(text, '.', sizeof(text));
	memcpy(text + 1023, "\xc3\xa4", 2);
	text[sizeof(text) - 1] = '\0';
	is_int(fires("{\"field\":\"text\",\"pattern\":\"\xc3\xa4\"}", "x", text), 0,
	       "text: a character split by the cut is left out");
	is_int(fires("{\"field\":\"text\",\"pattern\":\"^$\"}", "x", NULL), 1, "text: absent is empty");

	/* all conditions must hold */
	is_int(
	    fires(
	        "{\"field\":\"subject\",\"pattern\":\"rechnung\"},{\"field\":\"header:X-Mailer\",\"pattern\":"
	        "\"SAP\"}",
	        "Rechnung", NULL),
	    1, "two conditions, both hold");
	is_int(
	    fires(
	        "{\"field\":\"subject\",\"pattern\":\"rechnung\"},{\"field\":\"header:X-Mailer\",\"pattern\":"
	        "\"Outlook\"}",
	        "Rechnung", NULL),
	    0, "two conditions, one fails");
	is_int(fires("", "x", NULL), 1, "no conditions: every message");

	/* without a header lookup header conditions see nothing */
	struct ruleset *rs = compile(
	    "[{\"id\":1,\"position\":1,\"conditions\":[{\"field\":\"header:X-Mailer\",\"pattern\":\"\"}],"
	    "\"actions\":{\"stop\":true}}]",
	    "no lookup");
	struct rules_input in = input("x", "");
	struct rules_result res;
	in.headers = NULL;
	if (rs != NULL && rules_apply(rs, &in, &res) == 0)
		is_int(res.n_fired, 0, "no header lookup: a header condition does not hold");
	rules_free(&rs);
}

/* --- order, stop, first setter, labels -------------------------------------------- */

static const char order_json[] =
    "["
    "{\"id\":5,\"position\":30,\"name\":\"late\",\"conditions\":[],"
    "  \"actions\":{\"set_class\":\"advertising\",\"set_team\":\"sales\",\"add_label\":\"late\"}},"
    "{\"id\":9,\"position\":10,\"name\":\"tie, higher id\",\"conditions\":[],"
    "  \"actions\":{\"set_class\":\"customer\",\"set_priority\":\"high\",\"add_label\":[\"b\",\"a\"]}},"
    "{\"id\":2,\"position\":10,\"name\":\"tie, lower "
    "id\",\"conditions\":[{\"field\":\"subject\",\"pattern\":\"x\"}],"
    "  \"actions\":{\"set_class\":\"supplier\",\"set_organisation\":12,\"add_label\":[\"a\",\"c\"],"
    "    \"skip_inbox\":false,\"set_user\":\"anna\"}},"
    "{\"id\":7,\"position\":20,\"name\":\"stopper\",\"conditions\":[{\"field\":\"subject\",\"pattern\":"
    "\"stop\"}],"
    "  \"actions\":{\"stop\":true,\"set_priority\":5,\"skip_inbox\":true,\"set_team\":\"ops\"}},"
    "{\"id\":3,\"position\":-5,\"name\":\"never\",\"conditions\":[{\"field\":\"subject\",\"pattern\":"
    "\"nomatch\"}],"
    "  \"actions\":{\"set_class\":\"internal\"}}"
    "]";

static void test_order(void)
{
	struct ruleset *rs = compile(order_json, "order");
	struct rules_result r;
	if (rs == NULL)
		return;
	is_int(rules_count(rs), 5, "five rules");
	is_str(rules_rule_name(rs, 7), "stopper", "a rule's name by id");
	ok(rules_rule_name(rs, 99) == NULL, "no name for an unknown id");

	struct rules_input in = input("x", "");
	is_int(rules_apply(rs, &in, &r), 0, "apply");
	is_int(r.n_fired, 3, "three rules fire");
	is_int(r.fired[0], 2, "ties by id: 2 first");
	is_int(r.fired[1], 9, "then 9");
	is_int(r.fired[2], 5, "then position 30");
	is_int(r.class, MAILCLASS_SUPPLIER, "the first class setter wins");
	is_int(r.class_rule, 2, "and is named");
	is_int(r.organisation_id, 12, "organisation");
	is_int(r.organisation_rule, 2, "organisation's rule");
	is_int(r.priority, 75, "priority \"high\" is 75");
	is_int(r.priority_rule, 9, "priority's rule");
	is_str(r.team, "sales", "team from the only rule that sets one");
	is_int(r.team_rule, 5, "team's rule");
	is_str(r.user, "anna", "user");
	is_int(r.skip_inbox_rule, 2, "skip_inbox false counts as set");
	is_int(r.skip_inbox, 0, "skip_inbox false");
	is_int(r.n_labels, 4, "labels accumulate, each once");
	const char *want_labels[] = {"a", "c", "b", "late"};
	const long want_label_rules[] = {2, 2, 9, 5};
	for (size_t i = 0; i < 4 && i < r.n_labels; i++) {
		is_str(r.labels[i], want_labels[i], "label %zu", i);
		is_int(r.label_rules[i], want_label_rules[i], "label %zu's rule", i);
	}
	is_int(r.stopped_by, 0, "nothing stopped");

	in = input("please stop", "");
	is_int(rules_apply(rs, &in, &r), 0, "apply with stop");
	is_int(r.n_fired, 2, "stop: 9 and 7 fire (2 wants an x); 5 does not");
	is_int(r.fired[1], 7, "the stopper fired last");
	is_int(r.stopped_by, 7, "stopped by 7");
	is_int(r.class, MAILCLASS_CUSTOMER, "no x in the subject: 9 sets the class");
	is_int(r.priority, 75, "an earlier setter beats the stopper");
	is_int(r.skip_inbox, 1, "the stopper's skip_inbox applies");
	is_str(r.team, "ops", "the stopper's team applies");
	is_int(r.n_labels, 2, "no label of the rule after stop");
	rules_free(&rs);
	ok(rs == NULL, "rules_free clears the pointer");
	rules_free(&rs);

	static const struct {
		const char *level;
		int want;
	} levels[] = {{"\"low\"", 25}, {"\"normal\"", 50}, {"\"urgent\"", 100}, {"0", 0}, {"100", 100}};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		char json[256];
		snprintf(json, sizeof(json),
		         "[{\"id\":1,\"position\":1,\"conditions\":[],"
		         "\"actions\":{\"set_priority\":%s}}]",
		         levels[i].level);
		struct ruleset *p = compile(json, levels[i].level);
		if (p != NULL && rules_apply(p, &in, &r) == 0)
			is_int(r.priority, levels[i].want, "priority %s", levels[i].level);
		rules_free(&p);
	}

	is_int(rules_apply(NULL, &in, &r), 0, "no ruleset");
	is_int(r.n_fired + r.class_rule + (long)r.class, 0, "no ruleset: nothing decided");
	rs = compile("[]", "empty");
	is_int(rules_count(rs), 0, "an empty array is a ruleset without rules");
	rules_free(&rs);
}

/* test_label_cap - more labels than a result holds */
static void test_label_cap(void)
{
	char json[16384];
	size_t used = (size_t)snprintf(json, sizeof(json), "[");
	for (int r = 0; r < 3; r++) {
		used += (size_t)snprintf(
		    json + used, sizeof(json) - used,
		    "%s{\"id\":%d,\"position\":%d,\"conditions\":[],\"actions\":{\"add_label\":[",
		    r ? "," : "", r + 1, r);
		for (int l = 0; l < 15; l++)
			used += (size_t)snprintf(json + used, sizeof(json) - used, "%s\"r%dl%d\"",
			                         l ? "," : "", r, l);
		used += (size_t)snprintf(json + used, sizeof(json) - used, "]}}");
	}
	snprintf(json + used, sizeof(json) - used, "]");
	struct ruleset *rs = compile(json, "label cap");
	struct rules_result r;
	struct rules_input in = input("x", "");
	if (rs == NULL || rules_apply(rs, &in, &r) < 0)
		return;
	is_int(r.n_labels, RULES_RESULT_LABELS, "labels capped");
	is_int(r.n_warnings, RULES_RESULT_WARNINGS, "warnings capped");
	is_int(r.warnings_dropped, 45 - RULES_RESULT_LABELS - RULES_RESULT_WARNINGS, "the rest counted");
	ok(strstr(r.warnings[0], "labels") != NULL, "a warning says why: %s", r.warnings[0]);
	rules_free(&rs);
}

/* --- limits ------------------------------------------------------------------------ */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_limits(void)
{
	char subject[64];
	memset(subject, 'a', 30);
	memcpy(subject + 30, "b", 2);
	struct ruleset *rs =
	    compile("[{\"id\":4,\"position\":1,\"name\":\"evil\",\"conditions\":"
	            "[{\"field\":\"subject\",\"pattern\":\"(a+)+$\"}],\"actions\":{\"add_label\":\"x\"}},"
	            "{\"id\":6,\"position\":2,\"name\":\"evil negated\",\"conditions\":"
	            "[{\"field\":\"subject\",\"pattern\":\"(a|aa)+$\",\"negate\":true}],"
	            "\"actions\":{\"add_label\":\"y\"}},"
	            "{\"id\":8,\"position\":3,\"conditions\":[{\"field\":\"subject\",\"pattern\":\"b$\"}],"
	            "\"actions\":{\"add_label\":\"z\"}}]",
	            "catastrophic");
	struct rules_result r;
	struct rules_input in = input(subject, "");
	if (rs == NULL)
		return;
	double t0 = now();
	is_int(rules_apply(rs, &in, &r), 0, "a catastrophic pattern returns");
	double secs = now() - t0;
	ok(secs < 1.0, "within the limits: %.4f s", secs);
	is_int(r.n_fired, 1, "neither limited rule fires, the next one does");
	is_int(r.fired[0], 8, "the rule after them fires");
	is_int(r.n_warnings, 2, "one warning per limited condition");
	ok(strstr(r.warnings[0], "rule 4") && strstr(r.warnings[0], "match limit"), "warning: %s",
	   r.warnings[0]);
	ok(strstr(r.warnings[1], "rule 6") != NULL, "negated: the limit is no match either: %s",
	   r.warnings[1]);

	memcpy(subject + 30, "a", 2); /* now it matches quickly */
	in = input(subject, "");
	is_int(rules_apply(rs, &in, &r), 0, "apply");
	is_int(r.n_fired, 1, "a matching subject: the first rule fires, the negated one not");
	is_int(r.n_warnings, 0, "no warning without a limit hit");
	rules_free(&rs);

	/* a pattern cannot raise the limits set for it */
	memcpy(subject + 30, "b", 2);
	rs = compile(
	    "[{\"id\":1,\"position\":1,\"conditions\":[{\"field\":\"subject\",\"pattern\":"
	    "\"(*LIMIT_MATCH=999999999)(*LIMIT_DEPTH=999999999)(a+)+$\"}],\"actions\":{\"stop\":true}}]",
	    "raise limits");
	in = input(subject, "");
	if (rs != NULL && rules_apply(rs, &in, &r) == 0) {
		is_int(r.n_fired, 0, "(*LIMIT_MATCH=...) in the pattern does not raise the limit");
		is_int(r.n_warnings, 1, "and the limit hit is reported");
	}
	rules_free(&rs);

	/* bytes that are not UTF-8 (a caller other than mimeparse) are matched, not refused */
	rs = compile("[{\"id\":1,\"position\":1,\"conditions\":[{\"field\":\"subject\",\"pattern\":"
	             "\"rechnung\"}],\"actions\":{\"stop\":true}}]",
	             "invalid utf-8");
	in = input("\xff\xfe Rechnung \xc3", "");
	if (rs != NULL && rules_apply(rs, &in, &r) == 0) {
		is_int(r.n_fired, 1, "invalid UTF-8 around a match: still a match");
		is_int(r.n_warnings, 0, "invalid UTF-8: no warning");
	}
	rules_free(&rs);
}

/* --- validation ------------------------------------------------------------------------ */

#define RULE(body)      "[{\"id\":1,\"position\":1," body "}]"
#define WITH_CONDS(c)   RULE("\"conditions\":[" c "],\"actions\":{\"stop\":true}")
#define WITH_ACTIONS(a) RULE("\"conditions\":[],\"actions\":" a)

static void test_errors(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
	    {"", "JSON at line 1"},
	    {"[] x", "JSON at line 1"},
	    {"{}", "the rules must be a JSON array"},
	    {"[1]", "rule 1: must be an object"},
	    {"[{\"position\":1,\"conditions\":[],\"actions\":{\"stop\":true}}]", "rule 1: no id"},
	    {RULE("\"id\":2"), "duplicate object key"},
	    {"[{\"id\":0,\"position\":1,\"conditions\":[],\"actions\":{\"stop\":true}}]",
	     "rule 1: id must be 1 to"},
	    {"[{\"id\":\"7\",\"position\":1,\"conditions\":[],\"actions\":{\"stop\":true}}]",
	     "rule 1: id must be an integer"},
	    {RULE("\"prio\":3,\"conditions\":[],\"actions\":{\"stop\":true}"),
	     "rule 1 (id 1): unknown rule key \"prio\" (known: id, position, name, conditions, actions)"},
	    {"[{\"id\":1,\"conditions\":[],\"actions\":{\"stop\":true}}]", "rule 1 (id 1): no position"},
	    {"[{\"id\":1,\"position\":1.5,\"conditions\":[],\"actions\":{\"stop\":true}}]",
	     "position must be an integer"},
	    {RULE("\"name\":5,\"conditions\":[],\"actions\":{\"stop\":true}"), "name must be a string"},
	    {RULE("\"name\":\"a\\u0001b\",\"conditions\":[],\"actions\":{\"stop\":true}"),
	     "name holds a control character at byte 1"},
	    {RULE("\"actions\":{\"stop\":true}"), "no conditions (an empty array matches every message)"},
	    {RULE("\"conditions\":{},\"actions\":{\"stop\":true}"), "conditions must be an array"},
	    {WITH_CONDS("7"), "rule 1 (id 1): condition 1: must be an object"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"a\",\"flags\":\"i\"}"),
	     "condition 1: unknown condition key \"flags\""},
	    {WITH_CONDS("{\"pattern\":\"a\"}"), "condition 1: no field"},
	    {WITH_CONDS("{\"field\":\"subject\"}"), "condition 1: no pattern"},
	    {WITH_CONDS("{\"field\":5,\"pattern\":\"a\"}"), "field must be a string"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"a\"},{\"field\":\"from\",\"pattern\":\"a\"}"),
	     "condition 2: unknown field \"from\" (known: sender, recipients, subject, text, header:<Name>)"},
	    {WITH_CONDS("{\"field\":\"header:\",\"pattern\":\"a\"}"),
	     "\"header:\" does not name a header field"},
	    {WITH_CONDS("{\"field\":\"header:X Y\",\"pattern\":\"a\"}"), "does not name a header field"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":5}"), "pattern must be a string"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"(abc\"}"),
	     "condition 1: pattern: missing closing parenthesis at offset 4"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"a{2,1}\"}"), "pattern: numbers out of order"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"a\",\"negate\":\"yes\"}"),
	     "negate must be true or false"},
	    {WITH_CONDS("{\"field\":\"subject\",\"pattern\":\"a\",\"case_sensitive\":1}"),
	     "case_sensitive must be true or false"},
	    {RULE("\"conditions\":[]"), "rule 1 (id 1): no actions"},
	    {WITH_ACTIONS("[]"), "actions must be an object"},
	    {WITH_ACTIONS("{}"), "rule 1 (id 1): no actions"},
	    {WITH_ACTIONS("{\"set_colour\":\"red\"}"),
	     "unknown action key \"set_colour\" (known: set_class,"},
	    {WITH_ACTIONS("{\"set_class\":\"vip\"}"), "unknown class \"vip\" (known: customer,"},
	    {WITH_ACTIONS("{\"set_class\":1}"), "set_class must be a string"},
	    {WITH_ACTIONS("{\"set_organisation\":0}"), "set_organisation must be 1 to"},
	    {WITH_ACTIONS("{\"set_organisation\":\"12\"}"), "set_organisation must be an integer"},
	    {WITH_ACTIONS("{\"set_priority\":101}"), "set_priority must be 0 to 100, not 101"},
	    {WITH_ACTIONS("{\"set_priority\":-1}"), "set_priority must be 0 to 100, not -1"},
	    {WITH_ACTIONS("{\"set_priority\":\"asap\"}"), "unknown priority \"asap\""},
	    {WITH_ACTIONS("{\"set_priority\":true}"),
	     "set_priority must be 0 to 100 or low, normal, high, urgent"},
	    {WITH_ACTIONS("{\"add_label\":[]}"), "add_label must hold 1 to 20 labels, not 0"},
	    {WITH_ACTIONS("{\"add_label\":{}}"), "add_label must be a string or an array of strings"},
	    {WITH_ACTIONS("{\"add_label\":[\"a\",1]}"), "a label must be a string"},
	    {WITH_ACTIONS("{\"add_label\":\"\"}"), "a label must be 1 to 128 bytes, not 0"},
	    {WITH_ACTIONS("{\"add_label\":\"a\\nb\"}"), "a label holds a control character"},
	    {WITH_ACTIONS("{\"set_team\":\"\"}"), "set_team must be 1 to 128 bytes, not 0"},
	    {WITH_ACTIONS("{\"set_user\":5}"), "set_user must be a string"},
	    {WITH_ACTIONS("{\"skip_inbox\":\"yes\"}"), "skip_inbox must be true or false"},
	    {WITH_ACTIONS("{\"stop\":1}"), "stop must be true or false"},
	    {"[{\"id\":3,\"position\":1,\"conditions\":[],\"actions\":{\"stop\":true}},"
	     "{\"id\":9,\"position\":2,\"conditions\":[],\"actions\":{\"stop\":\"no\"}}]",
	     "rule 2 (id 9): stop must be true or false"},
	    {"[{\"id\":3,\"position\":1,\"conditions\":[],\"actions\":{\"stop\":true}},"
	     "{\"id\":3,\"position\":2,\"conditions\":[],\"actions\":{\"stop\":true}}]",
	     "rule id 3 is used twice"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sentinel;
		struct ruleset *rs = (struct ruleset *)(void *)&sentinel; /* must be cleared on failure */
		char err[512] = "";
		int rc = rules_compile(cases[i].json, &rs, err, sizeof(err));
		ok(rc == -1 && rs == NULL, "refused: %.70s", cases[i].json);
		if (!ok(strstr(err, cases[i].want) != NULL, "message: %s", err))
			printf("#   got \"%s\", want it to hold \"%s\"\n", err, cases[i].want);
		if (rs != (struct ruleset *)(void *)&sentinel)
			rules_free(&rs);
	}
}

/* test_caps - the size caps, with texts built to just pass and just fail */
static void test_caps(void)
{
	size_t big = RULES_JSON_MAX + 64;
	char *json = malloc(big), err[512];
	struct ruleset *rs = NULL;
	if (json == NULL)
		return;
	/* conditions: 20 pass, 21 fail */
	for (int n = 20; n <= 21; n++) {
		size_t used = (size_t)snprintf(json, big, "[{\"id\":1,\"position\":1,\"conditions\":[");
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(json + used, big - used,
			                         "%s{\"field\":\"subject\",\"pattern\":\"a\"}", i ? "," : "");
		snprintf(json + used, big - used, "],\"actions\":{\"stop\":true}}]");
		int rc = rules_compile(json, &rs, err, sizeof(err));
		if (n == 20)
			ok(rc == 0, "20 conditions pass: %s", err);
		else
			is_str(err, "rule 1 (id 1): 21 conditions, more than 20", "21 conditions refused");
		rules_free(&rs);
	}
	/* pattern: 4096 bytes pass, 4097 fail */
	for (size_t n = RULES_PATTERN_MAX; n <= RULES_PATTERN_MAX + 1; n++) {
		size_t used = (size_t)snprintf(json, big,
		                               "[{\"id\":1,\"position\":1,\"conditions\":"
		                               "[{\"field\":\"subject\",\"pattern\":\"");
		memset(json + used, 'a', n);
		snprintf(json + used + n, big - used - n, "\"}],\"actions\":{\"stop\":true}}]");
		int rc = rules_compile(json, &rs, err, sizeof(err));
		if (n == RULES_PATTERN_MAX)
			ok(rc == 0, "a pattern of %zu bytes passes: %s", n, err);
		else
			ok(rc < 0 && strstr(err, "pattern is 4097 bytes, more than 4096"),
			   "%zu bytes refused: %s", n, err);
		rules_free(&rs);
	}
	/* rules: 1000 pass, 1001 fail */
	for (int n = 1000; n <= 1001; n++) {
		size_t used = (size_t)snprintf(json, big, "[");
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(
			    json + used, big - used,
			    "%s{\"id\":%d,\"position\":%d,\"conditions\":[{\"field\":\"subject\","
			    "\"pattern\":\"r%d\\\\b\"}],\"actions\":{\"add_label\":\"l\"}}",
			    i ? "," : "", i + 1, n - i, i);
		snprintf(json + used, big - used, "]");
		int rc = rules_compile(json, &rs, err, sizeof(err));
		if (n == 1000) {
			ok(rc == 0, "1000 rules pass: %s", err);
			struct rules_result r;
			struct rules_input in = input("r999 r0", "");
			if (rc == 0 && rules_apply(rs, &in, &r) == 0) {
				is_int(r.n_fired, 2, "two of 1000 rules fire");
				is_int(r.fired[0], 1000, "the lowest position first");
			}
		} else {
			is_str(err, "1001 rules, more than 1000", "1001 rules refused");
		}
		rules_free(&rs);
	}
	/* labels per rule: 20 pass, 21 fail */
	for (int n = 20; n <= 21; n++) {
		size_t used = (size_t)snprintf(json, big,
		                               "[{\"id\":1,\"position\":1,\"conditions\":[],"
		                               "\"actions\":{\"add_label\":[");
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(json + used, big - used, "%s\"l%d\"", i ? "," : "", i);
		snprintf(json + used, big - used, "]}}]");
		int rc = rules_compile(json, &rs, err, sizeof(err));
		if (n == 20)
			ok(rc == 0, "20 labels pass: %s", err);
		else
			is_str(err, "rule 1 (id 1): add_label must hold 1 to 20 labels, not 21",
			       "21 labels refused");
		rules_free(&rs);
	}
	/* text: over 1 MiB refused before parsing */
	memset(json, ' ', RULES_JSON_MAX + 1);
	json[0] = '[';
	json[RULES_JSON_MAX - 1] = ']';
	json[RULES_JSON_MAX] = '\0';
	ok(rules_compile(json, &rs, err, sizeof(err)) == 0, "exactly 1 MiB passes: %s", err);
	rules_free(&rs);
	json[RULES_JSON_MAX] = ' ';
	json[RULES_JSON_MAX + 1] = '\0';
	is_int(rules_compile(json, &rs, err, sizeof(err)), -1, "1 MiB and a byte refused");
	is_str(err, "rules text over 1048576 bytes", "its message");
	is_int(rules_compile(NULL, &rs, err, sizeof(err)), -1, "no text refused");
	is_str(err, "no rules text", "its message");
	free(json);
}

/* --- threads ------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS  300

struct worker {
	const struct ruleset *rs;
	int wrong;
};

/* worker - apply one ruleset over and over, checking every answer */
static void *worker(void *arg)
{
	struct worker *w = arg;
	char subject[64];
	for (int i = 0; i < ROUNDS; i++) {
		struct rules_result r;
		int evil = i % 3 == 0;
		if (evil) {
			memset(subject, 'a', 30);
			memcpy(subject + 30, "b", 2);
		} else {
			snprintf(subject, sizeof(subject), "Rechnung %d", i);
		}
		struct rules_input in = input(subject, "");
		if (rules_apply(w->rs, &in, &r) != 0 || r.n_fired != (evil ? 0u : 1u) ||
		    r.n_warnings != (evil ? 1u : 0u))
			w->wrong++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct ruleset *rs =
	    compile("[{\"id\":1,\"position\":1,\"conditions\":[{\"field\":\"subject\",\"pattern\":"
	            "\"(a+)+$\"}],\"actions\":{\"add_label\":\"evil\"}},"
	            "{\"id\":2,\"position\":2,\"conditions\":[{\"field\":\"subject\",\"pattern\":"
	            "\"^rechnung \\\\d+$\"}],\"actions\":{\"set_class\":\"supplier\"}}]",
	            "threads");
	pthread_t t[THREADS];
	struct worker w[THREADS];
	int wrong = 0;
	if (rs == NULL)
		return;
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){rs, 0};
		pthread_create(&t[i], NULL, worker, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		wrong += w[i].wrong;
	}
	is_int(wrong, 0, "%d threads x %d calls on one ruleset: every answer right", THREADS, ROUNDS);
	rules_free(&rs);
}

int main(void)
{
	test_conditions();
	test_order();
	test_label_cap();
	test_limits();
	test_errors();
	test_caps();
	test_threads();
	return done_testing();
}
