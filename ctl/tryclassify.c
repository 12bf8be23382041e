/* tryclassify.c - classify message files as the worker would, and say why.
 *
 * Each file's result is built once as a JSON object; --json prints it as
 * it is (one line per file), the text form is printed from the same
 * object, so both always carry the same facts.
 *
 * `rules test` also compiles every enabled rule on its own: run alone on a
 * message it says whether the rule matches even when an earlier rule's
 * "stop" kept the real evaluation from reaching it. The decision itself is
 * always the full ruleset's, through sorting_classify().
 */
#include "tryclassify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "addrbook.h"
#include "classify.h"
#include "ctlfile.h"
#include "db.h"
#include "mailclass.h"
#include "msgflags.h"
#include "rules.h"
#include "sorting.h"
#include "subject.h"
#include "utf8.h"

#define SQL_SNAPSHOT "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
#define SQL_END      "COMMIT"
#define SQL_ORG      "SELECT name, kind FROM mailroom.organisations WHERE id = $1::bigint"
#define SQL_CONTACT                                                                                          \
	"SELECT concat_ws(' ', salutation, first_name, last_name) FROM mailroom.contacts WHERE id = "        \
	"$1::bigint"

#define SUBJECT_KEY_MAX 512 /* as the worker's threading keeps it */

/* One enabled rule, for `rules test`. */
struct rule_info {
	long id, position;
	const char *name;      /* in the session's rules JSON */
	json_t *actions;       /* borrowed from it */
	struct ruleset *alone; /* the rule compiled by itself */
};

struct session {
	PGconn *conn;
	const struct tryclassify_options *opt;
	struct addrbook *ab;
	struct ruleset *rules;
	json_t *rules_json;
	struct rule_info *info;
	size_t n_info;
	int printed; /* a text result is on out: the next one is set off by an empty line */
};

/* jstr - a JSON string of s, null for NULL; bytes that are not UTF-8 become U+FFFD */
static json_t *jstr(const char *s)
{
	if (s == NULL)
		return json_null();
	json_t *j = json_string(s);
	if (j == NULL) {
		char *clean = utf8_sanitize(s, strlen(s), strlen(s));
		j = clean ? json_string(clean) : json_null();
		free(clean);
	}
	return j;
}

/* --- loading -------------------------------------------------------------------------- */

/* load_rule_info - every enabled rule compiled on its own, in evaluation order */
static int load_rule_info(struct session *s, char *err, size_t errlen)
{
	char *text = sorting_rules_json(s->conn, err, errlen);
	json_error_t jerr;
	if (text == NULL)
		return -1;
	s->rules_json = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_array(s->rules_json)) {
		snprintf(err, errlen, "the rules from the database are not a JSON array");
		return -1;
	}
	size_t n = json_array_size(s->rules_json);
	s->info = calloc(n ? n : 1, sizeof(*s->info));
	if (s->info == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(s->rules_json, i), *one = json_array();
		struct rule_info *ri = &s->info[s->n_info++];
		ri->id = (long)json_integer_value(json_object_get(r, "id"));
		ri->position = (long)json_integer_value(json_object_get(r, "position"));
		ri->name = json_string_value(json_object_get(r, "name"));
		ri->actions = json_object_get(r, "actions");
		json_array_append(one, r);
		char *alone = json_dumps(one, JSON_COMPACT);
		json_decref(one);
		int rc = alone ? rules_compile(alone, &ri->alone, err, errlen) : -1;
		free(alone);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* session_load - the address book and the rules, in one snapshot */
static int session_load(struct session *s, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	char rerr[1024];
	if (db_command(s->conn, SQL_SNAPSHOT, 0, NULL, err, errlen) < 0)
		return -1;
	int rc = -1;
	if ((s->ab = addrbook_load(s->conn, conf, err, errlen)) == NULL)
		goto end;
	if (sorting_load_rules(s->conn, &s->rules, rerr, sizeof(rerr)) < 0) {
		snprintf(err, errlen,
		         "the enabled rules do not compile (the worker keeps the rules it had): %s", rerr);
		goto end;
	}
	if (s->opt->mode == TRYCLASSIFY_RULES && load_rule_info(s, err, errlen) < 0)
		goto end;
	rc = 0;
end:
	if (db_command(s->conn, SQL_END, 0, NULL, rerr, sizeof(rerr)) < 0 && rc == 0) {
		snprintf(err, errlen, "%s", rerr);
		rc = -1;
	}
	return rc;
}

static void session_free(struct session *s)
{
	for (size_t i = 0; i < s->n_info; i++)
		rules_free(&s->info[i].alone);
	free(s->info);
	json_decref(s->rules_json);
	rules_free(&s->rules);
	addrbook_free(&s->ab);
}

/* --- one message into JSON ----------------------------------------------------------------- */

/* rule_ref - {"id", "name"} of a rule of the ruleset, null for 0 */
static json_t *rule_ref(const struct session *s, long id)
{
	if (id == 0)
		return json_null();
	const char *name = rules_rule_name(s->rules, id);
	return json_pack("{s:I, s:o}", "id", (json_int_t)id, "name", jstr(name));
}

/* org_ref - {"id", "name", "kind"} from the database; name null when there is no such organisation */
static json_t *org_ref(const struct session *s, long long id, char *err, size_t errlen)
{
	char idtext[24];
	if (id == 0)
		return json_null();
	snprintf(idtext, sizeof(idtext), "%lld", id);
	const char *p[1] = {idtext};
	PGresult *res = db_query(s->conn, SQL_ORG, 1, p, err, errlen);
	if (res == NULL)
		return NULL;
	int found = PQntuples(res) == 1;
	json_t *j = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)id, "name",
	                      jstr(found ? PQgetvalue(res, 0, 0) : NULL), "kind",
	                      jstr(found ? PQgetvalue(res, 0, 1) : NULL));
	PQclear(res);
	return j;
}

/* contact_ref - {"id", "name"} from the database */
static json_t *contact_ref(const struct session *s, long long id, char *err, size_t errlen)
{
	char idtext[24];
	if (id == 0)
		return json_null();
	snprintf(idtext, sizeof(idtext), "%lld", id);
	const char *p[1] = {idtext};
	PGresult *res = db_query(s->conn, SQL_CONTACT, 1, p, err, errlen);
	if (res == NULL)
		return NULL;
	const char *name = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
	json_t *j = json_pack("{s:I, s:o}", "id", (json_int_t)id, "name", jstr(name && *name ? name : NULL));
	PQclear(res);
	return j;
}

/* string_array - a JSON array of strings */
static json_t *string_array(const char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(items[i]));
	return a;
}

/* flags_array - the flags' names */
static json_t *flags_array(unsigned flags)
{
	char buf[128];
	json_t *a = json_array();
	msgflags_format(flags, buf, sizeof(buf));
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	return a;
}

/* rules_part - for `rules test`: each rule that matches, and which rule set which attribute */
static json_t *rules_part(struct session *s, const char *raw, size_t len, const struct mp_message *m,
                          const struct sorting_envelope *env, const struct classification *c, char *err,
                          size_t errlen)
{
	struct classify_addrbook ops = addrbook_ops(s->ab);
	struct classification *alone = malloc(sizeof(*alone));
	json_t *matched = json_array();
	const struct rules_result *rr = &c->rules;
	int reached = 1; /* before the rule that stopped the evaluation, or there is none */
	if (alone == NULL) {
		snprintf(err, errlen, "out of memory");
		json_decref(matched);
		return NULL;
	}
	for (size_t i = 0; i < s->n_info; i++) {
		const struct rule_info *ri = &s->info[i];
		if (sorting_classify(raw, len, m, env, &ops, ri->alone, alone, err, errlen) < 0) {
			free(alone);
			json_decref(matched);
			return NULL;
		}
		int fired = 0;
		for (size_t k = 0; k < rr->n_fired; k++)
			fired |= rr->fired[k] == ri->id;
		if (alone->rules.n_fired > 0 || fired)
			json_array_append_new(
			    matched, json_pack("{s:I, s:o, s:I, s:O, s:b, s:o}", "id", (json_int_t)ri->id,
			                       "name", jstr(ri->name), "position", (json_int_t)ri->position,
			                       "actions", ri->actions ? ri->actions : json_null(), "fired",
			                       fired, "not_evaluated", reached ? json_false() : json_true()));
		if (rr->stopped_by == ri->id)
			reached = 0;
	}
	free(alone);
	json_t *labels = json_array();
	for (size_t i = 0; i < rr->n_labels; i++)
		json_array_append_new(labels, json_pack("{s:o, s:o}", "label", jstr(rr->labels[i]), "rule",
		                                        rule_ref(s, rr->label_rules[i])));
	json_t *set_by = json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "class", rule_ref(s, rr->class_rule), "organisation",
	    rule_ref(s, rr->organisation_rule), "priority", rule_ref(s, rr->priority_rule), "team",
	    rule_ref(s, rr->team_rule), "user", rule_ref(s, rr->user_rule), "skip_inbox",
	    rule_ref(s, rr->skip_inbox_rule), "labels", labels);
	return json_pack("{s:I, s:o, s:o, s:o}", "enabled_rules", (json_int_t)s->n_info, "matched", matched,
	                 "stopped_by", rule_ref(s, rr->stopped_by), "set_by", set_by);
}

/* describe - the whole result for one parsed message */
static json_t *describe(struct session *s, const char *path, const char *raw, size_t len,
                        const struct mp_message *m, const struct sorting_envelope *env, char *err,
                        size_t errlen)
{
	struct classify_addrbook ops = addrbook_ops(s->ab);
	struct classification *c = malloc(sizeof(*c)); /* large: the rules' result holds every fired id */
	json_t *org = NULL, *contact = NULL, *rules = NULL, *j = NULL;
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sorting_classify(raw, len, m, env, &ops, s->rules, c, err, errlen) < 0)
		goto out;
	if ((org = org_ref(s, c->organisation_id, err, errlen)) == NULL ||
	    (contact = contact_ref(s, c->contact_id, err, errlen)) == NULL)
		goto out;
	if (s->opt->mode == TRYCLASSIFY_RULES &&
	    (rules = rules_part(s, raw, len, m, env, c, err, errlen)) == NULL)
		goto out;

	char key[SUBJECT_KEY_MAX];
	subject_key(m->subject, key, sizeof(key));
	json_t *fired = json_array(), *warnings = json_array();
	for (size_t i = 0; i < c->rules.n_fired; i++)
		json_array_append_new(fired, rule_ref(s, c->rules.fired[i]));
	for (size_t i = 0; i < m->n_warnings; i++)
		json_array_append_new(warnings, jstr(m->warnings[i]));
	for (size_t i = 0; i < c->rules.n_warnings; i++)
		json_array_append_new(warnings, jstr(c->rules.warnings[i]));
	if (c->rules.warnings_dropped > 0) {
		char more[80];
		snprintf(more, sizeof(more), "%zu more rule warnings left out", c->rules.warnings_dropped);
		json_array_append_new(warnings, json_string(more));
	}
	json_t *thread = json_pack("{s:o, s:o, s:o, s:o, s:o}", "message_id", jstr(m->message_id),
	                           "in_reply_to", jstr(m->in_reply_to), "references",
	                           string_array((const char *const *)m->references, m->n_references),
	                           "subject", jstr(m->subject), "subject_key", jstr(key));
	json_t *envelope = json_pack("{s:o, s:o, s:s}", "from", jstr(env->from), "to",
	                             string_array(env->rcpts, env->n_rcpts), "direction",
	                             env->direction ? env->direction : "inbound");
	j = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b,"
	              " s:o, s:o, s:o}",
	              "file", jstr(path), "class", mailclass_name(c->class), "decided_by",
	              classify_decider_name(c->decided_by), "reason", jstr(c->reason), "flags",
	              flags_array(c->flags), "flags_why", jstr(c->flags_why), "organisation", org, "contact",
	              contact, "vip", c->vip, "counterpart", jstr(c->counterpart[0] ? c->counterpart : NULL),
	              "rule", rule_ref(s, c->rule_id), "rules_fired", fired, "labels",
	              string_array(c->rules.labels, c->rules.n_labels), "priority",
	              c->rules.priority_rule ? json_integer(c->rules.priority) : json_null(), "team",
	              jstr(c->rules.team), "user", jstr(c->rules.user), "skip_inbox", c->rules.skip_inbox,
	              "thread", thread, "envelope", envelope, "warnings", warnings);
	org = contact = NULL; /* stolen by json_pack */
	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
	} else if (rules != NULL) {
		json_object_set_new(j, "rules", rules);
		rules = NULL;
	}
out:
	json_decref(org);
	json_decref(contact);
	json_decref(rules);
	free(c);
	return j;
}

/* --- text ------------------------------------------------------------------------------------- */

/* str_of - a string member, or NULL */
static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* print_ref - "12 "Name"" of an {"id", "name"} object, or "none" */
static void print_ref(FILE *out, const json_t *ref)
{
	if (!json_is_object(ref)) {
		fputs("none", out);
		return;
	}
	fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(ref, "id")));
	const char *name = str_of(ref, "name");
	if (name != NULL && *name)
		fprintf(out, " \"%s\"", name);
}

/* print_list - the strings of an array joined by sep, or "none" */
static void print_list(FILE *out, const json_t *a, const char *sep)
{
	if (json_array_size(a) == 0)
		fputs("none", out);
	for (size_t i = 0; i < json_array_size(a); i++)
		fprintf(out, "%s%s", i ? sep : "", json_string_value(json_array_get(a, i)));
}

/* print_text_classify - the decision, as `classify` shows it */
static void print_text_classify(FILE *out, const json_t *j)
{
	const json_t *org = json_object_get(j, "organisation"), *thread = json_object_get(j, "thread");
	const json_t *env = json_object_get(j, "envelope");

	fprintf(out, "  class         %s (decided by %s)\n", str_of(j, "class"), str_of(j, "decided_by"));
	fprintf(out, "  reason        %s\n", str_of(j, "reason"));
	fputs("  flags         ", out);
	print_list(out, json_object_get(j, "flags"), ", ");
	if (*str_of(j, "flags_why"))
		fprintf(out, " (%s)", str_of(j, "flags_why"));
	fputs("\n  organisation  ", out);
	print_ref(out, org);
	if (json_is_object(org))
		fprintf(out, " (%s)", str_of(org, "kind") ? str_of(org, "kind") : "not in the database");
	fputs("\n  contact       ", out);
	print_ref(out, json_object_get(j, "contact"));
	fprintf(out, "\n  counterpart   %s\n", str_of(j, "counterpart") ? str_of(j, "counterpart") : "none");
	fprintf(out, "  vip           %s\n", json_is_true(json_object_get(j, "vip")) ? "yes" : "no");
	fputs("  rule          ", out);
	print_ref(out, json_object_get(j, "rule"));
	fputs("\n  rules fired   ", out);
	const json_t *fired = json_object_get(j, "rules_fired");
	if (json_array_size(fired) == 0)
		fputs("none", out);
	for (size_t i = 0; i < json_array_size(fired); i++) {
		fputs(i ? ", " : "", out);
		print_ref(out, json_array_get(fired, i));
	}
	fputs("\n  labels        ", out);
	print_list(out, json_object_get(j, "labels"), ", ");
	if (json_is_integer(json_object_get(j, "priority")))
		fprintf(out, "\n  priority      %" JSON_INTEGER_FORMAT,
		        json_integer_value(json_object_get(j, "priority")));
	if (str_of(j, "team") != NULL)
		fprintf(out, "\n  team          %s", str_of(j, "team"));
	if (str_of(j, "user") != NULL)
		fprintf(out, "\n  user          %s", str_of(j, "user"));
	if (json_is_true(json_object_get(j, "skip_inbox")))
		fputs("\n  skip inbox    yes", out);
	fprintf(out, "\n  message-id    %s\n",
	        str_of(thread, "message_id") ? str_of(thread, "message_id") : "none");
	fprintf(out, "  in-reply-to   %s\n",
	        str_of(thread, "in_reply_to") ? str_of(thread, "in_reply_to") : "none");
	fputs("  references    ", out);
	print_list(out, json_object_get(thread, "references"), " ");
	fprintf(out, "\n  subject key   \"%s\"\n", str_of(thread, "subject_key"));
	fprintf(out, "  envelope      %s from %s to ", str_of(env, "direction"),
	        str_of(env, "from") ? str_of(env, "from") : "unknown");
	print_list(out, json_object_get(env, "to"), ", ");
	fputc('\n', out);
}

/* print_set_by - one attribute and the rule that set it */
static void print_set_by(FILE *out, const char *what, const char *value, const json_t *rule)
{
	if (!json_is_object(rule))
		return;
	fprintf(out, "  %-13s %s, set by rule ", what, value);
	print_ref(out, rule);
	fputc('\n', out);
}

/* print_text_rules - the rules that matched and what each set, as `rules test` shows it */
static void print_text_rules(FILE *out, const json_t *j)
{
	const json_t *r = json_object_get(j, "rules"), *set_by = json_object_get(r, "set_by");
	const json_t *stopped_by = json_object_get(r, "stopped_by"), *matched = json_object_get(r, "matched");
	const json_t *labels = json_object_get(set_by, "labels");
	char num[32];

	if (json_array_size(matched) == 0)
		fprintf(out, "  no rule matches (%" JSON_INTEGER_FORMAT " enabled)\n",
		        json_integer_value(json_object_get(r, "enabled_rules")));
	for (size_t i = 0; i < json_array_size(matched); i++) {
		const json_t *v = json_array_get(matched, i);
		char *actions = json_dumps(json_object_get(v, "actions"), JSON_COMPACT);
		fputs("  rule ", out);
		print_ref(out, v);
		fprintf(out, " (position %" JSON_INTEGER_FORMAT "): ",
		        json_integer_value(json_object_get(v, "position")));
		if (json_is_true(json_object_get(v, "not_evaluated"))) {
			fputs("matches, but is not evaluated: rule ", out);
			print_ref(out, stopped_by);
			fputs(" stopped the evaluation", out);
		} else {
			fputs("fired", out);
			if (json_integer_value(json_object_get(stopped_by, "id")) ==
			    json_integer_value(json_object_get(v, "id")))
				fputs(" and stopped the evaluation", out);
		}
		fprintf(out, "\n      actions %s\n", actions ? actions : "?");
		free(actions);
	}
	if (json_is_object(json_object_get(set_by, "class")))
		print_set_by(out, "class", str_of(j, "class"), json_object_get(set_by, "class"));
	else
		fprintf(out, "  class         %s, no rule sets it (decided by %s)\n", str_of(j, "class"),
		        str_of(j, "decided_by"));
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(json_object_get(j, "organisation"), "id")));
	print_set_by(out, "organisation", num, json_object_get(set_by, "organisation"));
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(j, "priority")));
	print_set_by(out, "priority", num, json_object_get(set_by, "priority"));
	print_set_by(out, "team", str_of(j, "team") ? str_of(j, "team") : "",
	             json_object_get(set_by, "team"));
	print_set_by(out, "user", str_of(j, "user") ? str_of(j, "user") : "",
	             json_object_get(set_by, "user"));
	print_set_by(out, "skip inbox", json_is_true(json_object_get(j, "skip_inbox")) ? "yes" : "no",
	             json_object_get(set_by, "skip_inbox"));
	for (size_t i = 0; i < json_array_size(labels); i++)
		print_set_by(out, "label", str_of(json_array_get(labels, i), "label"),
		             json_object_get(json_array_get(labels, i), "rule"));
}

/* print_result - one file's result, as JSON or text */
static int print_result(struct session *s, FILE *out, const json_t *j)
{
	const struct tryclassify_options *opt = s->opt;
	if (opt->json) {
		if (json_dumpf(j, out, JSON_COMPACT) < 0 || fputc('\n', out) == EOF)
			return -1;
		return 0;
	}
	fprintf(out, "%s%s\n", s->printed ? "\n" : "", str_of(j, "file"));
	s->printed = 1;
	if (opt->mode == TRYCLASSIFY_RULES)
		print_text_rules(out, j);
	else
		print_text_classify(out, j);
	const json_t *warnings = json_object_get(j, "warnings");
	for (size_t i = 0; i < json_array_size(warnings); i++)
		fprintf(out, "  warning       %s\n", json_string_value(json_array_get(warnings, i)));
	return ferror(out) ? -1 : 0;
}

/* --- files -------------------------------------------------------------------------------------- */

/* file_failed - report a file that could not be sorted; with json also as an object on out */
static void file_failed(FILE *out, FILE *errout, const struct tryclassify_options *opt, const char *path,
                        const char *why)
{
	const char *cmd = opt->mode == TRYCLASSIFY_RULES ? "rules test" : "classify";
	fprintf(errout, "mailroomctl: %s: %s\n", cmd, why);
	if (opt->json) {
		json_t *j = json_pack("{s:o, s:o}", "file", jstr(path), "error", jstr(why));
		if (j != NULL) {
			json_dumpf(j, out, JSON_COMPACT);
			fputc('\n', out);
			json_decref(j);
		}
	}
}

/* sort_file - read, parse, classify and print one file; 0, or -1 when it could not be sorted */
static int sort_file(struct session *s, const char *path, FILE *out, FILE *errout)
{
	char err[2560], why[1024], *raw = NULL;
	size_t len = 0;
	struct mp_message m;
	const char **rcpts = NULL;
	int rc = -1;

	if (ctlfile_read(path, TRYCLASSIFY_FILE_MAX, &raw, &len, err, sizeof(err)) < 0) {
		file_failed(out, errout, s->opt, path, err);
		return -1;
	}
	if (sorting_parse(raw, len, &m, why, sizeof(why)) < 0) {
		snprintf(err, sizeof(err), "%s: not a message the worker can parse: %s", path, why);
		file_failed(out, errout, s->opt, path, err);
		free(raw);
		return -1;
	}
	/* The envelope as a mail client saved it: Return-Path is the sender
	 * the last server saw; the header's addresses stand in for the rest. */
	struct sorting_envelope env = {s->opt->from, s->opt->to, s->opt->n_to, s->opt->direction};
	if (env.from == NULL)
		env.from = m.return_path != NULL ? m.return_path : m.from.addr;
	if (env.n_rcpts == 0) {
		rcpts = calloc(m.n_to + m.n_cc + 1, sizeof(*rcpts));
		if (rcpts == NULL) {
			snprintf(err, sizeof(err), "%s: out of memory", path);
			file_failed(out, errout, s->opt, path, err);
			goto done;
		}
		for (size_t i = 0; i < m.n_to; i++)
			if (m.to[i].addr != NULL)
				rcpts[env.n_rcpts++] = m.to[i].addr;
		for (size_t i = 0; i < m.n_cc; i++)
			if (m.cc[i].addr != NULL)
				rcpts[env.n_rcpts++] = m.cc[i].addr;
		env.rcpts = rcpts;
	}
	json_t *j = describe(s, path, raw, len, &m, &env, why, sizeof(why));
	if (j == NULL) {
		snprintf(err, sizeof(err), "%s: %s", path, why);
		file_failed(out, errout, s->opt, path, err);
		goto done;
	}
	rc = print_result(s, out, j);
	json_decref(j);
done:
	free(rcpts);
	mimeparse_free(&m);
	free(raw);
	return rc;
}

int tryclassify_files(PGconn *conn, const struct mailroom_conf *conf, const struct tryclassify_options *opt,
                      char *const *files, size_t n, FILE *out, FILE *errout)
{
	struct session s = {.conn = conn, .opt = opt};
	char err[2048];
	int failed = 0;

	mimeparse_init();
	if (session_load(&s, conf, err, sizeof(err)) < 0) {
		fprintf(errout, "mailroomctl: %s: %s\n",
		        opt->mode == TRYCLASSIFY_RULES ? "rules test" : "classify", err);
		session_free(&s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (sort_file(&s, files[i], out, errout) < 0)
			failed = 1;
		fflush(out);
	}
	session_free(&s);
	return failed;
}
