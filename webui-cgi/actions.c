/* actions.c - POST /c/ID/ACTION: the team's actions on one conversation,
 * and the transaction every action runs in (act.h).
 *
 * Order of checks: the path (unknown action or malformed id: 404), the
 * session and the CSRF token of the form named like the action (403), the
 * role (an auditor may read but never act: 403), the form's fields (400),
 * then the change itself in one transaction: the conversation's row is
 * locked first, and a row that row-level security hides is 404, the same
 * answer as a conversation that does not exist.
 */
#include "actions.h"

#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "respond.h"

#define SQL_LOCK                                                                                             \
	"SELECT holder_id, assignee_id, status, title, folder_id, private, owner_id, class,"                 \
	" organisation_id, priority_level FROM mailroom.conversations WHERE id = $1::bigint FOR UPDATE"

/* an action of the conversation page: its name is also its CSRF form name */
struct action {
	const char *name;
	act_prepare_fn prepare;
	act_apply_fn apply;
};

static const struct action actions[] = {
    {"claim", prep_claim, apply_claim},
    {"release", prep_none, apply_release},
    {"handover", prep_user, apply_handover},
    {"assign", prep_user_opt, apply_assign},
    {"status", prep_status, apply_status},
    {"title", prep_title, apply_title},
    {"folder", prep_folder, apply_folder},
    {"private", prep_private, apply_private},
    {"label", prep_label, apply_label},
    {"unlabel", prep_unlabel, apply_unlabel},
    {"note", prep_note, apply_note},
    {"reminder", prep_reminder, apply_reminder},
    {"read", prep_none, apply_read},
    {"unread", prep_none, apply_unread},
    {"classify", prep_classify, apply_classify},
    {"priority", prep_priority, apply_priority},
};

const char *act_col(const struct act *a, const char *name)
{
	int col = PQfnumber(a->row, name);
	if (col < 0 || PQgetisnull(a->row, 0, col))
		return NULL;
	return PQgetvalue(a->row, 0, col);
}

/* json_of - a column's text as JSON: ids as numbers, t/f of a flag as a
 * boolean, the rest as strings; NULL as null */
static json_t *json_of(const char *key, const char *v)
{
	size_t k = strlen(key);
	if (v == NULL)
		return json_null();
	if (k > 3 && strcmp(key + k - 3, "_id") == 0 && id_ok(v))
		return json_integer(strtoll(v, NULL, 10));
	if (strcmp(key, "private") == 0)
		return json_boolean(strcmp(v, "t") == 0 || strcmp(v, "true") == 0);
	return json_string(v);
}

void act_set(struct act *a, const char *key, const char *before, const char *after)
{
	json_object_set_new(a->before, key, json_of(key, before));
	json_object_set_new(a->after, key, json_of(key, after));
}

int act_sql(struct act *a, const char *sql, int n, const char *const *p)
{
	return db_command(a->conn, sql, n, p, a->err, sizeof(a->err)) < 0 ? ACT_ERROR : ACT_OK;
}

int act_exists(struct act *a, const char *sql, int n, const char *const *p)
{
	PGresult *r = db_query(a->conn, sql, n, p, a->err, sizeof(a->err));
	if (r == NULL)
		return ACT_ERROR;
	int found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

int act_may_lead(const struct act *a)
{
	return strcmp(a->s->role, "lead") == 0 || strcmp(a->s->role, "admin") == 0;
}

/* dump - a JSON object as text for the audit trail; NULL when empty */
static char *dump(const json_t *o)
{
	return json_object_size(o) == 0 ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
}

/* audit - the audit row of a finished action, unless nothing changed */
static int audit(struct act *a, const char *name)
{
	char action[64], object[48];
	if (json_equal(a->before, a->after))
		return ACT_OK;
	snprintf(action, sizeof(action), "conversation.%s", name);
	snprintf(object, sizeof(object), "conversation:%s", a->id);
	char *b = dump(a->before), *f = dump(a->after);
	int r = web_audit(a->conn, a->s, action, object, b, f, a->err, sizeof(a->err));
	free(b);
	free(f);
	return r < 0 ? ACT_ERROR : ACT_OK;
}

int act_run(struct act *a, const char *name, act_apply_fn apply, const struct act_args *args)
{
	const char *p[1] = {a->id};
	char ignored[256];
	if (db_command(a->conn, "BEGIN", 0, NULL, a->err, sizeof(a->err)) < 0)
		return ACT_ERROR;
	a->before = json_object();
	a->after = json_object();
	a->row = db_query(a->conn, SQL_LOCK, 1, p, a->err, sizeof(a->err));
	int rc = a->row == NULL ? ACT_ERROR : PQntuples(a->row) == 0 ? 404 : ACT_OK;
	if (rc == ACT_OK && (a->before == NULL || a->after == NULL)) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		rc = ACT_ERROR;
	}
	if (rc == ACT_OK)
		rc = apply(a, args);
	if (rc == ACT_OK)
		rc = audit(a, name);
	if (rc == ACT_OK && db_command(a->conn, "COMMIT", 0, NULL, a->err, sizeof(a->err)) < 0)
		rc = ACT_ERROR;
	if (rc != ACT_OK)
		db_command(a->conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	PQclear(a->row);
	a->row = NULL;
	json_decref(a->before);
	json_decref(a->after);
	a->before = a->after = NULL;
	return rc;
}

/* act_answer - the error page of a status other than ACT_OK */
int act_answer(struct ctx *c, int rc, const char *what, const char *err)
{
	switch (rc) {
	case 400:
		return respond_error(c->out, "400 Bad Request");
	case 403:
		return respond_error(c->out, "403 Forbidden");
	case 404:
		return respond_error(c->out, "404 Not Found");
	case 409:
		return respond_error(c->out, "409 Conflict");
	default:
		return server_error(c, what, err);
	}
}

/* find_action - the action called name, or NULL */
static const struct action *find_action(const char *name)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

int actions_post(struct ctx *c, const char *arg)
{
	char id[20], path[32];
	const char *slash = strchr(arg, '/');
	size_t idlen = slash != NULL ? (size_t)(slash - arg) : 0;
	if (idlen == 0 || idlen >= sizeof(id))
		return respond_error(c->out, "404 Not Found");
	memcpy(id, arg, idlen);
	id[idlen] = '\0';
	const struct action *act = find_action(slash + 1);
	if (!id_ok(id) || act == NULL)
		return respond_error(c->out, "404 Not Found");

	struct session s;
	struct act_args args = {{NULL}};
	struct act a = {.c = c, .s = &s, .id = id};
	if (!web_post_begin(c, act->name, &a.conn, &s))
		return 0;
	int rc = strcmp(s.role, "auditor") == 0 ? 403 : act->prepare(&c->form, &args);
	if (rc == ACT_OK)
		rc = act_run(&a, act->name, act->apply, &args);
	db_close(&a.conn);
	if (rc != ACT_OK)
		return act_answer(c, rc, act->name, a.err);
	snprintf(path, sizeof(path), "/c/%s", id);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}
