/* rulesadmin.c - list, add, enable and disable admin rules. */
#include "rulesadmin.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ctlfile.h"
#include "db.h"
#include "rules.h"
#include "sorting.h"
#include "utf8.h"

#define SQL_BEGIN    "BEGIN"
#define SQL_COMMIT   "COMMIT"
#define SQL_ROLLBACK "ROLLBACK"
#define SQL_LIST                                                                                             \
	"SELECT id, position, enabled, name, definition::text FROM mailroom.rules ORDER BY position, id"
/* Every change is written to the audit trail in the same transaction. */
#define SQL_ADD                                                                                              \
	"WITH r AS (INSERT INTO mailroom.rules (name, position, definition)"                                 \
	"  VALUES ($1, $2::integer, $3::jsonb) RETURNING id, name, position, definition)"                  \
	" SELECT r.id, mailroom.audit_append('mailroomctl:' || session_user, 'rule.add', 'rule:' || r.id,"  \
	"  NULL, jsonb_build_object('name', r.name, 'position', r.position, 'definition', r.definition))"  \
	" FROM r"
#define SQL_SET_ENABLED                                                                                      \
	"WITH u AS (UPDATE mailroom.rules SET enabled = $2::boolean, updated_at = now()"                     \
	"  WHERE id = $1::bigint AND enabled <> $2::boolean RETURNING id, name)"                             \
	" SELECT u.name, mailroom.audit_append('mailroomctl:' || session_user,"                              \
	"  CASE WHEN $2::boolean THEN 'rule.enable' ELSE 'rule.disable' END, 'rule:' || u.id,"              \
	"  jsonb_build_object('enabled', NOT $2::boolean), jsonb_build_object('enabled', $2::boolean))"     \
	" FROM u"
#define SQL_RULE "SELECT name, enabled FROM mailroom.rules WHERE id = $1::bigint"

/* The placeholder id a definition is compiled under before it has its own. */
#define TRIAL_PREFIX "rule 1 (id 1): "

int rulesadmin_list(PGconn *conn, FILE *out, FILE *errout)
{
	char err[1024];
	PGresult *res = db_query(conn, SQL_LIST, 0, NULL, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: rules list: %s\n", err);
		return -1;
	}
	if (PQntuples(res) == 0)
		fprintf(out, "no rules\n");
	else
		fprintf(out, "%6s %9s  %-8s  %s\n", "id", "position", "state", "name");
	for (int r = 0; r < PQntuples(res); r++) {
		fprintf(out, "%6s %9s  %-8s  %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
		        PQgetvalue(res, r, 2)[0] == 't' ? "enabled" : "disabled", PQgetvalue(res, r, 3));
		fprintf(out, "%18s%s\n", "", PQgetvalue(res, r, 4));
	}
	PQclear(res);
	return ferror(out) ? -1 : 0;
}

/* read_definition - the rule's definition from a file: a JSON object without id, position or name */
static json_t *read_definition(const char *path, char *err, size_t errlen)
{
	static const char *const reserved[] = {"id", "position", "name"};
	char *text = NULL;
	size_t len = 0;
	json_error_t jerr;

	if (ctlfile_read(path, RULES_JSON_MAX, &text, &len, err, errlen) < 0)
		return NULL;
	json_t *def = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (def == NULL) {
		snprintf(err, errlen, "%s: JSON at line %d column %d: %s", path, jerr.line, jerr.column,
		         jerr.text);
		return NULL;
	}
	if (!json_is_object(def)) {
		snprintf(err, errlen,
		         "%s: the rule must be a JSON object {\"conditions\": [...], \"actions\": {...}}",
		         path);
		json_decref(def);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (json_object_get(def, reserved[i]) != NULL) {
			snprintf(err, errlen,
			         "%s: \"%s\" is not part of a rule's definition: give --name and"
			         " --position (the id is assigned)",
			         path, reserved[i]);
			json_decref(def);
			return NULL;
		}
	return def;
}

/* check_name - a rule's name: 1..RULES_NAME_MAX bytes of UTF-8 without controls */
static int check_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	if (len == 0 || len > RULES_NAME_MAX || !utf8_valid(name, len)) {
		snprintf(err, errlen, "--name must be 1 to %d bytes of UTF-8", RULES_NAME_MAX);
		return -1;
	}
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "--name must not hold control characters");
			return -1;
		}
	return 0;
}

/* parse_long - a whole decimal number in [min, max] */
static int parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* compile_alone - compile the definition as the only rule; the compiler's message without the placeholder */
static int compile_alone(json_t *def, const char *name, long long position, char *err, size_t errlen)
{
	json_t *rule = json_pack("{s:i, s:I, s:s}", "id", 1, "position", (json_int_t)position, "name", name);
	json_t *one = json_array();
	char cerr[1024];
	int rc = -1;
	if (rule != NULL && one != NULL && json_object_update(rule, def) == 0 &&
	    json_array_append(one, rule) == 0) {
		char *text = json_dumps(one, JSON_COMPACT);
		struct ruleset *rs = NULL;
		if (text == NULL) {
			snprintf(err, errlen, "out of memory");
		} else if (rules_compile(text, &rs, cerr, sizeof(cerr)) < 0) {
			const char *msg = cerr;
			if (strncmp(msg, TRIAL_PREFIX, strlen(TRIAL_PREFIX)) == 0)
				msg += strlen(TRIAL_PREFIX);
			snprintf(err, errlen, "%s", msg);
		} else {
			rc = 0;
		}
		rules_free(&rs);
		free(text);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	json_decref(rule);
	json_decref(one);
	return rc;
}

/* check_enabled_set - the enabled rules, as the worker will read them, still compile */
static int check_enabled_set(PGconn *conn, char *err, size_t errlen)
{
	struct ruleset *rs = NULL;
	char cerr[1024];
	int rc = sorting_load_rules(conn, &rs, cerr, sizeof(cerr));
	if (rc < 0)
		snprintf(err, errlen, "the enabled rules would not compile any more: %s", cerr);
	rules_free(&rs);
	return rc;
}

int rulesadmin_add(PGconn *conn, const char *name, const char *position, const char *path, FILE *out,
                   FILE *errout)
{
	char err[1400], rerr[256];
	long long pos;
	json_t *def = NULL;
	char *def_text = NULL;
	int rc = -1, in_tx = 0;

	if (check_name(name, err, sizeof(err)) < 0)
		goto fail;
	if (parse_long(position, INT_MIN, INT_MAX, &pos) < 0) {
		snprintf(err, sizeof(err), "--position must be a whole number from %d to %d", INT_MIN,
		         INT_MAX);
		goto fail;
	}
	if ((def = read_definition(path, err, sizeof(err))) == NULL)
		goto fail;
	char cerr[1024];
	if (compile_alone(def, name, pos, cerr, sizeof(cerr)) < 0) {
		snprintf(err, sizeof(err), "%s: %s", path, cerr);
		goto fail;
	}
	if ((def_text = json_dumps(def, JSON_COMPACT)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (db_command(conn, SQL_BEGIN, 0, NULL, err, sizeof(err)) < 0)
		goto fail;
	in_tx = 1;
	const char *p[3] = {name, position, def_text};
	PGresult *res = db_query(conn, SQL_ADD, 3, p, err, sizeof(err));
	if (res == NULL)
		goto fail;
	char id[24];
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (check_enabled_set(conn, err, sizeof(err)) < 0 ||
	    db_command(conn, SQL_COMMIT, 0, NULL, err, sizeof(err)) < 0)
		goto fail;
	in_tx = 0;
	fprintf(out, "added rule %s \"%s\" at position %lld\n", id, name, pos);
	rc = 0;
	goto out;
fail:
	fprintf(errout, "mailroomctl: rules add: %s\n", err);
	if (in_tx)
		db_command(conn, SQL_ROLLBACK, 0, NULL, rerr, sizeof(rerr));
out:
	free(def_text);
	json_decref(def);
	return rc;
}

int rulesadmin_set_enabled(PGconn *conn, const char *id, int enabled, FILE *out, FILE *errout)
{
	const char *cmd = enabled ? "rules enable" : "rules disable";
	char err[1400], rerr[256], done[600];
	long long n;
	int rc = -1, in_tx = 0;
	PGresult *res = NULL;

	if (parse_long(id, 1, LLONG_MAX, &n) < 0) {
		fprintf(errout, "mailroomctl: %s: '%s' is not a rule id\n", cmd, id);
		return -1;
	}
	if (db_command(conn, SQL_BEGIN, 0, NULL, err, sizeof(err)) < 0)
		goto fail;
	in_tx = 1;
	const char *p[2] = {id, enabled ? "true" : "false"};
	if ((res = db_query(conn, SQL_SET_ENABLED, 2, p, err, sizeof(err))) == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		/* nothing changed: say why */
		PQclear(res);
		if ((res = db_query(conn, SQL_RULE, 1, p, err, sizeof(err))) == NULL)
			goto fail;
		if (PQntuples(res) == 0) {
			snprintf(err, sizeof(err), "there is no rule %s", id);
			goto fail;
		}
		snprintf(done, sizeof(done), "rule %s \"%s\" is already %s", id, PQgetvalue(res, 0, 0),
		         enabled ? "enabled" : "disabled");
	} else {
		if (enabled && check_enabled_set(conn, err, sizeof(err)) < 0)
			goto fail;
		snprintf(done, sizeof(done), "rule %s \"%s\" %s", id, PQgetvalue(res, 0, 0),
		         enabled ? "enabled" : "disabled");
	}
	if (db_command(conn, SQL_COMMIT, 0, NULL, err, sizeof(err)) < 0)
		goto fail;
	in_tx = 0;
	fprintf(out, "%s\n", done);
	rc = 0;
	goto out;
fail:
	fprintf(errout, "mailroomctl: %s: %s\n", cmd, err);
	if (in_tx)
		db_command(conn, SQL_ROLLBACK, 0, NULL, rerr, sizeof(rerr));
out:
	PQclear(res);
	return rc;
}
