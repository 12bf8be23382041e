/* custact.c - POST SN/o/ID/ACTION and SN/p/ID/ACTION: notes, tasks,
 * labels and the lead status of an organisation or contact.
 *
 * Order of checks as on the conversation page: the path (malformed id:
 * 404), session and CSRF token of the form "customer-ACTION" (403), the
 * role (auditors never act: 403), the form's fields (400), then one
 * transaction: the customer's row is locked first (missing: 404; merged
 * into another: 409), the change is made and one audit row
 * "KIND.ACTION" on "KIND:ID" records the changed fields before and after.
 *
 * The lead reservation (web.lead_reservation_roles): a note by a user of
 * one of those roles reserves an unreserved customer for that user, and
 * is refused with 409 "held by NAME" when another user holds it. The row
 * lock makes two first notes at once reserve for exactly one of them.
 */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "convpage.h"
#include "customer.h"
#include "db.h"
#include "respond.h"

#define SQL_LOCK(T)                                                                                          \
	"SELECT x.lead_status, x.first_contact_at, x.reserved_by, coalesce(u.display_name, ''), "            \
	"x.merged_into"                                                                                      \
	" FROM " T                                                                                           \
	" x LEFT JOIN mailroom.users u ON u.id = x.reserved_by WHERE x.id = $1::bigint FOR UPDATE OF x"
enum { L_LEAD, L_FIRST, L_RESERVED, L_HOLDER, L_MERGED };

#define SQL_TEMPLATE                                                                                         \
	"SELECT body, coalesce(lead_status, '') FROM mailroom.note_templates WHERE id = $1::bigint AND "     \
	"active"
#define SQL_NOTE(COL)                                                                                        \
	"INSERT INTO mailroom.notes (" COL ", kind, body, author, template_id)"                              \
	" VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint) RETURNING id"
/* first contact, reservation ($2: the user, or NULL for none) and the
 * template's lead status ($3, or NULL) in one statement; SET reads the
 * old values */
#define SQL_NOTE_MARK(T)                                                                                     \
	"UPDATE " T " SET first_contact_at = coalesce(first_contact_at, now()),"                             \
	" reserved_at = CASE WHEN reserved_by IS NULL AND $2::bigint IS NOT NULL THEN now() ELSE "           \
	"reserved_at END,"                                                                                   \
	" reserved_by = coalesce(reserved_by, $2::bigint), lead_status = coalesce($3, lead_status)"          \
	" WHERE id = $1::bigint RETURNING first_contact_at, reserved_by, lead_status"
#define SQL_TEMPLATE_LABELS(LT, COL)                                                                         \
	"WITH ins AS (INSERT INTO " LT " (" COL ", label_id, added_by)"                                      \
	" SELECT $1::bigint, l.id, $3::bigint FROM mailroom.labels l JOIN mailroom.note_templates t"         \
	" ON l.id = ANY (t.label_ids) WHERE t.id = $2::bigint ON CONFLICT DO NOTHING RETURNING label_id)"    \
	" SELECT l.id, l.name FROM ins JOIN mailroom.labels l ON l.id = ins.label_id ORDER BY l.name"
#define SQL_USER_OK "SELECT 1 FROM mailroom.users WHERE id = $1::bigint AND active AND role <> 'auditor'"
#define SQL_TASK(COL)                                                                                        \
	"INSERT INTO mailroom.tasks (" COL ", title, due_at, assignee_id, created_by)"                       \
	" VALUES ($1::bigint, $2, $3::timestamp AT TIME ZONE $4, $5::bigint, $6::bigint) RETURNING id, "     \
	"due_at"
#define SQL_LABEL_MAKE                                                                                       \
	"WITH n AS (INSERT INTO mailroom.labels (name, created_by) VALUES ($1, $2::bigint)"                  \
	" ON CONFLICT (name) DO NOTHING RETURNING id)"                                                       \
	" SELECT id FROM n UNION ALL SELECT id FROM mailroom.labels WHERE name = $1"
#define SQL_LABEL_ADD(LT, COL)                                                                               \
	"INSERT INTO " LT " (" COL ", label_id, added_by) VALUES ($1::bigint, $2::bigint, $3::bigint)"       \
	" ON CONFLICT DO NOTHING RETURNING label_id"
#define SQL_LABEL_NAME "SELECT name FROM mailroom.labels WHERE id = $1::bigint"
#define SQL_LABEL_DEL(LT, COL)                                                                               \
	"DELETE FROM " LT " WHERE " COL " = $1::bigint AND label_id = $2::bigint RETURNING label_id"
#define SQL_LEAD(T) "UPDATE " T " SET lead_status = $2 WHERE id = $1::bigint"

#define ORG     "mailroom.organisations"
#define CONTACT "mailroom.contacts"
#define ORG_LT  "mailroom.organisation_labels"
#define CON_LT  "mailroom.contact_labels"

/* each statement per kind: [CUST_ORG], [CUST_CONTACT] */
static const char *const sql_lock[2] = {SQL_LOCK(ORG), SQL_LOCK(CONTACT)};
static const char *const sql_note[2] = {SQL_NOTE("organisation_id"), SQL_NOTE("contact_id")};
static const char *const sql_note_mark[2] = {SQL_NOTE_MARK(ORG), SQL_NOTE_MARK(CONTACT)};
static const char *const sql_template_labels[2] = {SQL_TEMPLATE_LABELS(ORG_LT, "organisation_id"),
                                                   SQL_TEMPLATE_LABELS(CON_LT, "contact_id")};
static const char *const sql_task[2] = {SQL_TASK("organisation_id"), SQL_TASK("contact_id")};
static const char *const sql_label_add[2] = {SQL_LABEL_ADD(ORG_LT, "organisation_id"),
                                             SQL_LABEL_ADD(CON_LT, "contact_id")};
static const char *const sql_label_del[2] = {SQL_LABEL_DEL(ORG_LT, "organisation_id"),
                                             SQL_LABEL_DEL(CON_LT, "contact_id")};
static const char *const sql_lead[2] = {SQL_LEAD(ORG), SQL_LEAD(CONTACT)};

static const char *const note_kinds[] = {"note", "phone", "call", NULL};

/* one change of one customer */
struct cact {
	struct ctx *c;
	PGconn *conn;
	const struct session *s;
	const struct cust_kind *k;
	const char *id;
	PGresult *row;          /* the locked row (SQL_LOCK) */
	json_t *before, *after; /* the changed fields */
	const char *v[3];       /* the checked form values */
	char held[256];         /* 409 of a note: who holds the customer */
	char err[1024];
};

typedef int (*cact_prepare_fn)(const struct form *f, struct cact *a);
typedef int (*cact_apply_fn)(struct cact *a);

/* col - a column of the locked row, NULL when NULL */
static const char *col(const struct cact *a, int i)
{
	return PQgetisnull(a->row, 0, i) ? NULL : PQgetvalue(a->row, 0, i);
}

/* jstr - a JSON string or null */
static json_t *jstr(const char *v)
{
	return v != NULL ? json_string(v) : json_null();
}

/* jid - an id as a JSON number, or null */
static json_t *jid(const char *v)
{
	return v != NULL && v[0] != '\0' ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

/* changed - before[key] and after[key] when the value changed */
static void changed(struct cact *a, const char *key, json_t *before, json_t *after)
{
	if (json_equal(before, after)) {
		json_decref(before);
		json_decref(after);
		return;
	}
	json_object_set_new(a->before, key, before);
	json_object_set_new(a->after, key, after);
}

/* query - one statement of a change; NULL on error (err filled) */
static PGresult *query(struct cact *a, const char *sql, int n, const char *const *p)
{
	return db_query(a->conn, sql, n, p, a->err, sizeof(a->err));
}

/* nonempty - a form value, NULL when absent or empty */
static const char *nonempty(const struct form *f, const char *name)
{
	const char *v = form_get(f, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* cprep_note - kind, body (may be empty with a template), template */
static int cprep_note(const struct form *f, struct cact *a)
{
	const char *body = form_get(f, "body");
	a->v[0] = form_get(f, "kind");
	a->v[2] = nonempty(f, "template");
	a->v[1] = body != NULL && body[0] != '\0' ? body : NULL;
	if (!one_of(a->v[0], note_kinds) || (a->v[2] != NULL && !id_ok(a->v[2])))
		return 400;
	if (a->v[1] == NULL ? a->v[2] == NULL : !text_ok(a->v[1], 20000, 1))
		return 400;
	return ACT_OK;
}

static int capply_note(struct cact *a)
{
	const char *me = a->s->user_id, *reserved = col(a, L_RESERVED), *body = a->v[1], *lead = NULL;
	int reserving = conf_list_has(&a->c->conf->web_lead_reservation_roles, a->s->role);
	char *tbody = NULL, tlead[16] = "";
	if (reserving && reserved != NULL && strcmp(reserved, me) != 0) {
		snprintf(a->held, sizeof(a->held), "held by %s", PQgetvalue(a->row, 0, L_HOLDER));
		return 409;
	}
	if (a->v[2] != NULL) {
		const char *pt[1] = {a->v[2]};
		PGresult *t = query(a, SQL_TEMPLATE, 1, pt);
		if (t == NULL)
			return ACT_ERROR;
		if (PQntuples(t) != 1) {
			PQclear(t);
			return 400;
		}
		tbody = strdup(PQgetvalue(t, 0, 0));
		snprintf(tlead, sizeof(tlead), "%s", PQgetvalue(t, 0, 1));
		PQclear(t);
		if (tbody == NULL) {
			snprintf(a->err, sizeof(a->err), "out of memory");
			return ACT_ERROR;
		}
		if (body == NULL)
			body = tbody;
		if (tlead[0] != '\0')
			lead = tlead;
	}
	const char *pn[5] = {a->id, a->v[0], body, me, a->v[2]};
	PGresult *r = query(a, sql_note[a->k->kind], 5, pn);
	if (r != NULL)
		json_object_set_new(a->after, "note",
		                    json_pack("{s:o, s:s, s:s, s:o}", "id", jid(PQgetvalue(r, 0, 0)), "kind",
		                              a->v[0], "body", body, "template_id", jid(a->v[2])));
	free(tbody);
	if (r == NULL)
		return ACT_ERROR;
	PQclear(r);
	const char *pm[3] = {a->id, reserving ? me : NULL, lead};
	if ((r = query(a, sql_note_mark[a->k->kind], 3, pm)) == NULL)
		return ACT_ERROR;
	changed(a, "first_contact_at", jstr(col(a, L_FIRST)), jstr(PQgetvalue(r, 0, 0)));
	changed(a, "reserved_by", jid(reserved), jid(PQgetvalue(r, 0, 1)));
	changed(a, "lead_status", jstr(col(a, L_LEAD)), jstr(PQgetvalue(r, 0, 2)));
	PQclear(r);
	if (a->v[2] == NULL)
		return ACT_OK;
	const char *pl[3] = {a->id, a->v[2], me};
	if ((r = query(a, sql_template_labels[a->k->kind], 3, pl)) == NULL)
		return ACT_ERROR;
	if (PQntuples(r) > 0) {
		json_t *added = json_array();
		for (int i = 0; i < PQntuples(r); i++)
			json_array_append_new(added, json_pack("{s:o, s:s}", "id", jid(PQgetvalue(r, i, 0)),
			                                       "name", PQgetvalue(r, i, 1)));
		json_object_set_new(a->after, "labels_added", added);
	}
	PQclear(r);
	return ACT_OK;
}

/* cprep_task - title, due (optional), user (optional) */
static int cprep_task(const struct form *f, struct cact *a)
{
	a->v[0] = form_get(f, "title");
	a->v[1] = nonempty(f, "due");
	a->v[2] = nonempty(f, "user");
	if (!text_ok(a->v[0], 300, 0) || (a->v[2] != NULL && !id_ok(a->v[2])))
		return 400;
	return ACT_OK;
}

static int capply_task(struct cact *a)
{
	char due[17];
	if (a->v[1] != NULL && !cust_due_ok(a->v[1], due))
		return 400;
	if (a->v[2] != NULL) {
		const char *pu[1] = {a->v[2]};
		PGresult *u = query(a, SQL_USER_OK, 1, pu);
		if (u == NULL)
			return ACT_ERROR;
		int found = PQntuples(u) == 1;
		PQclear(u);
		if (!found)
			return 400;
	}
	const char *p[6] = {a->id,         a->v[0], a->v[1] != NULL ? due : NULL,
	                    conv_tz(a->c), a->v[2], a->s->user_id};
	PGresult *r = query(a, sql_task[a->k->kind], 6, p);
	if (r == NULL)
		return ACT_ERROR;
	json_object_set_new(
	    a->after, "task",
	    json_pack("{s:o, s:s, s:o, s:o}", "id", jid(PQgetvalue(r, 0, 0)), "title", a->v[0], "due_at",
	              jstr(PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1)), "assignee_id", jid(a->v[2])));
	PQclear(r);
	return ACT_OK;
}

static int cprep_label(const struct form *f, struct cact *a)
{
	a->v[0] = form_get(f, "label");
	return text_ok(a->v[0], 64, 0) ? ACT_OK : 400;
}

/* first - the first column of the first row of a statement into out ("" none) */
static int first(struct cact *a, const char *sql, int n, const char *const *p, char *out, size_t len)
{
	PGresult *r = query(a, sql, n, p);
	if (r == NULL)
		return ACT_ERROR;
	snprintf(out, len, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return ACT_OK;
}

static int capply_label(struct cact *a)
{
	char label[24], added[24];
	const char *pm[2] = {a->v[0], a->s->user_id};
	if (first(a, SQL_LABEL_MAKE, 2, pm, label, sizeof(label)) < 0)
		return ACT_ERROR;
	if (label[0] == '\0')
		return 409;
	const char *pa[3] = {a->id, label, a->s->user_id};
	if (first(a, sql_label_add[a->k->kind], 3, pa, added, sizeof(added)) < 0)
		return ACT_ERROR;
	if (added[0] != '\0')
		json_object_set_new(a->after, "label",
		                    json_pack("{s:s, s:o}", "name", a->v[0], "id", jid(label)));
	return ACT_OK;
}

static int cprep_unlabel(const struct form *f, struct cact *a)
{
	a->v[0] = form_get(f, "label");
	return id_ok(a->v[0]) ? ACT_OK : 400;
}

static int capply_unlabel(struct cact *a)
{
	char name[256], gone[24];
	const char *pl[1] = {a->v[0]}, *pd[2] = {a->id, a->v[0]};
	if (first(a, SQL_LABEL_NAME, 1, pl, name, sizeof(name)) < 0)
		return ACT_ERROR;
	if (name[0] == '\0')
		return 400;
	if (first(a, sql_label_del[a->k->kind], 2, pd, gone, sizeof(gone)) < 0)
		return ACT_ERROR;
	if (gone[0] != '\0')
		json_object_set_new(a->before, "label",
		                    json_pack("{s:s, s:o}", "name", name, "id", jid(gone)));
	return ACT_OK;
}

static int cprep_lead(const struct form *f, struct cact *a)
{
	a->v[0] = form_get(f, "lead_status");
	return one_of(a->v[0], cust_lead_statuses) ? ACT_OK : 400;
}

static int capply_lead(struct cact *a)
{
	if (strcmp(a->v[0], PQgetvalue(a->row, 0, L_LEAD)) == 0)
		return ACT_OK;
	const char *p[2] = {a->id, a->v[0]};
	if (db_command(a->conn, sql_lead[a->k->kind], 2, p, a->err, sizeof(a->err)) < 0)
		return ACT_ERROR;
	changed(a, "lead_status", json_string(PQgetvalue(a->row, 0, L_LEAD)), json_string(a->v[0]));
	return ACT_OK;
}

/* audit - the audit row of a change, unless nothing changed */
static int audit(struct cact *a, const char *name)
{
	char action[64], object[48];
	if (json_equal(a->before, a->after))
		return ACT_OK;
	snprintf(action, sizeof(action), "%s.%s", a->k->object, name);
	snprintf(object, sizeof(object), "%s:%s", a->k->object, a->id);
	char *b =
	    json_object_size(a->before) > 0 ? json_dumps(a->before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *f = json_object_size(a->after) > 0 ? json_dumps(a->after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = web_audit(a->conn, a->s, action, object, b, f, a->err, sizeof(a->err));
	free(b);
	free(f);
	return r < 0 ? ACT_ERROR : ACT_OK;
}

/* run - BEGIN, lock, apply, audit, COMMIT (ROLLBACK on anything else) */
static int run(struct cact *a, const char *name, cact_apply_fn apply)
{
	const char *p[1] = {a->id};
	char ignored[256];
	if (db_command(a->conn, "BEGIN", 0, NULL, a->err, sizeof(a->err)) < 0)
		return ACT_ERROR;
	a->before = json_object();
	a->after = json_object();
	a->row = query(a, sql_lock[a->k->kind], 1, p);
	int rc = a->row == NULL ? ACT_ERROR : PQntuples(a->row) == 0 ? 404 : ACT_OK;
	if (rc == ACT_OK && !PQgetisnull(a->row, 0, L_MERGED))
		rc = 409;
	if (rc == ACT_OK)
		rc = apply(a);
	if (rc == ACT_OK)
		rc = audit(a, name);
	if (rc == ACT_OK && db_command(a->conn, "COMMIT", 0, NULL, a->err, sizeof(a->err)) < 0)
		rc = ACT_ERROR;
	if (rc != ACT_OK)
		db_command(a->conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	PQclear(a->row);
	json_decref(a->before);
	json_decref(a->after);
	return rc;
}

/* post - one action on one customer, from the path to the answer */
static int post(struct ctx *c, const struct cust_kind *k, const char *arg, const char *name,
                cact_prepare_fn prepare, cact_apply_fn apply)
{
	char form[32], path[48];
	struct session s;
	struct cact a = {.c = c, .s = &s, .k = k, .id = arg};
	if (!cust_id_ok(arg))
		return respond_error(c->out, "404 Not Found");
	snprintf(form, sizeof(form), "customer-%s", name);
	if (!web_post_begin(c, form, &a.conn, &s))
		return 0;
	int rc = strcmp(s.role, "auditor") == 0 ? 403 : prepare(&c->form, &a);
	if (rc == ACT_OK)
		rc = run(&a, name, apply);
	db_close(&a.conn);
	if (rc == 409 && a.held[0] != '\0')
		return cust_message_page(c, "409 Conflict", "held", a.held);
	if (rc != ACT_OK)
		return act_answer(c, rc, form, a.err);
	snprintf(path, sizeof(path), "%s%s", k->path, arg);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

#define ROUTE(fn, kind, name)                                                                                \
	int fn(struct ctx *c, const char *arg)                                                               \
	{                                                                                                    \
		return post(c, &cust_kinds[kind], arg, #name, cprep_##name, capply_##name);                  \
	}
ROUTE(custact_org_note, CUST_ORG, note)
ROUTE(custact_org_task, CUST_ORG, task)
ROUTE(custact_org_label, CUST_ORG, label)
ROUTE(custact_org_unlabel, CUST_ORG, unlabel)
ROUTE(custact_org_lead, CUST_ORG, lead)
ROUTE(custact_contact_note, CUST_CONTACT, note)
ROUTE(custact_contact_task, CUST_CONTACT, task)
ROUTE(custact_contact_label, CUST_CONTACT, label)
ROUTE(custact_contact_unlabel, CUST_CONTACT, unlabel)
ROUTE(custact_contact_lead, CUST_CONTACT, lead)
