/* notetpl.c - the note templates (admins and leads; everyone else 403):
 * GET SN/templates/notes (table.note-templates and the form to add one),
 * POST SN/templates/notes (add), GET and POST SN/templates/notes/ID
 * (edit). A template gives a note its text and, when used, applies its
 * labels and lead status to the customer at once (custact.c).
 *
 * Every change is audited as note_template.add / note_template.edit on
 * "note_template:ID" in the transaction that makes it.
 */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "customer.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define TPL_LABELS_MAX 64 /* labels one template may apply */

#define SQL_LIST                                                                                             \
	"SELECT t.id, t.title, coalesce(t.lead_status, ''), t.active, coalesce((SELECT string_agg(l.name, "  \
	"', '"                                                                                               \
	" ORDER BY l.name) FROM mailroom.labels l WHERE l.id = ANY (t.label_ids)), '')"                      \
	" FROM mailroom.note_templates t ORDER BY t.active DESC, t.title LIMIT 1000"
#define SQL_ONE                                                                                              \
	"SELECT id, title, body, coalesce(lead_status, ''), active, label_ids::text"                         \
	" FROM mailroom.note_templates WHERE id = $1::bigint"
#define SQL_ONE_LOCK SQL_ONE " FOR UPDATE"
#define SQL_LABELS   "SELECT id, name FROM mailroom.labels ORDER BY name LIMIT 1000"
#define SQL_LABELS_KNOWN                                                                                     \
	"SELECT count(*) = cardinality($1::bigint[]) FROM mailroom.labels WHERE id = ANY ($1::bigint[])"
#define SQL_TITLE_TAKEN                                                                                      \
	"SELECT 1 FROM mailroom.note_templates WHERE title = $1 AND id IS DISTINCT FROM $2::bigint"
#define SQL_ADD                                                                                              \
	"INSERT INTO mailroom.note_templates (title, body, label_ids, lead_status, active, created_by)"      \
	" VALUES ($1, $2, $3::bigint[], nullif($4, ''), $5::boolean, $6::bigint) RETURNING id, "             \
	"label_ids::text"
#define SQL_UPDATE                                                                                           \
	"UPDATE mailroom.note_templates SET title = $2, body = $3, label_ids = $4::bigint[],"                \
	" lead_status = nullif($5, ''), active = $6::boolean WHERE id = $1::bigint RETURNING "               \
	"label_ids::text"
enum { T_ID, T_TITLE, T_BODY, T_LEAD, T_ACTIVE, T_LABELS };

/* the checked fields of the template form */
struct tpl {
	const char *title, *body, *lead, *active;
	char labels[TPL_LABELS_MAX * 20 + 3]; /* a bigint[] literal */
};

/* may_manage - admins and leads manage templates */
static int may_manage(const struct session *s)
{
	return strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0;
}

/* begin - web_begin (or the POST one with CSRF form note-template) and
 * the role check; 1 to go on, 0 when the answer is sent */
static int begin(struct ctx *c, PGconn **conn, struct session *s)
{
	int post = strcmp(c->req->method, "POST") == 0;
	if (!(post ? web_post_begin(c, "note-template", conn, s) : web_begin(c, conn, s)))
		return 0;
	if (!may_manage(s)) {
		db_close(conn);
		respond_error(c->out, "403 Forbidden");
		return 0;
	}
	return 1;
}

/* tpl_form - the form to add (t NULL) or edit template row 0 of t */
static void tpl_form(FILE *mem, struct ctx *c, const struct session *s, const char *path, const PGresult *t,
                     const PGresult *labels)
{
	const char *lead = t != NULL ? PQgetvalue(t, 0, T_LEAD) : "";
	form_open(mem, c, s, path, "note-template", "id=\"note-template\" class=\"template-form\"");
	fputs("<p><label>Title <input name=\"title\" required maxlength=\"200\" value=\"", mem);
	if (t != NULL)
		esc_attr(mem, PQgetvalue(t, 0, T_TITLE));
	fputs("\"></label></p>\n<p><label>Text <textarea name=\"body\" rows=\"6\" required "
	      "maxlength=\"20000\">",
	      mem);
	if (t != NULL)
		esc_html(mem, PQgetvalue(t, 0, T_BODY));
	fputs("</textarea></label></p>\n<p><label>Lead status <select name=\"lead_status\">"
	      "<option value=\"\">unchanged</option>",
	      mem);
	for (const char *const *v = cust_lead_statuses; *v != NULL; v++)
		fprintf(mem, "<option value=\"%s\"%s>%s</option>", *v,
		        strcmp(*v, lead) == 0 ? " selected" : "", *v);
	fputs("</select></label></p>\n<fieldset class=\"labels\"><legend>Labels</legend>\n", mem);
	for (int i = 0; i < PQntuples(labels); i++) {
		const char *id = PQgetvalue(labels, i, 0);
		fputs("<label><input type=\"checkbox\" name=\"label\" value=\"", mem);
		esc_attr(mem, id);
		fprintf(mem, "\"%s> ",
		        t != NULL && cust_label_listed(PQgetvalue(t, 0, T_LABELS), id) ? " checked" : "");
		esc_html(mem, PQgetvalue(labels, i, 1));
		fputs("</label>\n", mem);
	}
	fprintf(mem,
	        "</fieldset>\n<p><label><input type=\"checkbox\" name=\"active\" value=\"1\"%s> "
	        "Active</label></p>\n"
	        "<p><button type=\"submit\">Save</button></p>\n</form>\n",
	        t == NULL || strcmp(PQgetvalue(t, 0, T_ACTIVE), "t") == 0 ? " checked" : "");
}

/* tpl_page - the list (t NULL) or the edit page of template t */
static int tpl_page(struct ctx *c, PGconn *conn, const struct session *s, const PGresult *t, const char *path)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	PGresult *labels = db_query(conn, SQL_LABELS, 0, NULL, err, sizeof(err));
	PGresult *list =
	    t == NULL && labels != NULL ? db_query(conn, SQL_LIST, 0, NULL, err, sizeof(err)) : NULL;
	FILE *mem = NULL;
	if (labels == NULL || (t == NULL && list == NULL) || (mem = open_memstream(&body, &len)) == NULL) {
		PQclear(labels);
		PQclear(list);
		return server_error(c, "note templates",
		                    labels == NULL || list == NULL ? err : "out of memory");
	}
	app_head(mem, c, s, "Note templates");
	fputs("<h1>Note templates</h1>\n", mem);
	if (t == NULL) {
		fputs("<table class=\"note-templates\">\n<thead><tr><th>Title</th><th>Lead "
		      "status</th><th>Labels</th>"
		      "<th>Active</th></tr></thead>\n<tbody>\n",
		      mem);
		for (int i = 0; i < PQntuples(list); i++) {
			fputs("<tr class=\"note-template\"><td><a href=\"", mem);
			esc_attr(mem, c->req->script_name);
			fputs("/templates/notes/", mem);
			esc_attr(mem, PQgetvalue(list, i, 0));
			fputs("\">", mem);
			esc_html(mem, PQgetvalue(list, i, 1));
			fputs("</a></td><td class=\"lead\">", mem);
			esc_html(mem, PQgetvalue(list, i, 2));
			fputs("</td><td class=\"labels\">", mem);
			esc_html(mem, PQgetvalue(list, i, 4));
			fprintf(mem, "</td><td class=\"active\">%s</td></tr>\n",
			        strcmp(PQgetvalue(list, i, 3), "t") == 0 ? "yes" : "no");
		}
		fputs("</tbody>\n</table>\n<h2>New template</h2>\n", mem);
	}
	tpl_form(mem, c, s, path, t, labels);
	app_foot(mem);
	PQclear(labels);
	PQclear(list);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* tpl_read - check the form into t: 0, or 400 */
static int tpl_read(const struct form *f, struct tpl *t)
{
	size_t used = 1, n = 0;
	const char *active = form_get(f, "active");
	t->title = form_get(f, "title");
	t->body = form_get(f, "body");
	t->lead = form_get(f, "lead_status");
	t->active = active != NULL && strcmp(active, "1") == 0 ? "true" : "false";
	if (!text_ok(t->title, 200, 0) || !text_ok(t->body, 20000, 1) || t->lead == NULL ||
	    (t->lead[0] != '\0' && !one_of(t->lead, cust_lead_statuses)) ||
	    (active != NULL && strcmp(active, "1") != 0))
		return 400;
	t->labels[0] = '{';
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->field[i].name, "label") != 0)
			continue;
		if (!id_ok(f->field[i].value) || ++n > TPL_LABELS_MAX)
			return 400;
		used += (size_t)snprintf(t->labels + used, sizeof(t->labels) - used, "%s%s", n > 1 ? "," : "",
		                         f->field[i].value);
	}
	snprintf(t->labels + used, sizeof(t->labels) - used, "}");
	return 0;
}

/* tpl_check - labels known and title free: 0, 400, 409 or -1 */
static int tpl_check(PGconn *conn, const struct tpl *t, const char *id, char *err, size_t errlen)
{
	const char *pl[1] = {t->labels}, *pt[2] = {t->title, id};
	PGresult *r = db_query(conn, SQL_LABELS_KNOWN, 1, pl, err, errlen);
	if (r == NULL)
		return -1;
	int known = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!known)
		return 400;
	if ((r = db_query(conn, SQL_TITLE_TAKEN, 2, pt, err, errlen)) == NULL)
		return -1;
	int taken = PQntuples(r) > 0;
	PQclear(r);
	return taken ? 409 : 0;
}

/* tpl_json - the audited fields of a template */
static char *tpl_json(const char *title, const char *body, const char *labels, const char *lead,
                      const char *active)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:b}", "title", title, "body", body, "label_ids", labels,
	                      "lead_status", lead[0] != '\0' ? json_string(lead) : json_null(), "active",
	                      strcmp(active, "t") == 0 || strcmp(active, "true") == 0);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

/* tpl_save - add (id NULL) or update template id in one transaction with
 * its audit row; 0, an HTTP status, or -1 with err */
static int tpl_save(PGconn *conn, const struct session *s, const struct tpl *t, const char *id, char *err,
                    size_t errlen)
{
	char ignored[256], object[48], *before = NULL, *after = NULL;
	PGresult *old = NULL, *r = NULL;
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	int rc = 0;
	if (id != NULL) {
		const char *po[1] = {id};
		old = db_query(conn, SQL_ONE_LOCK, 1, po, err, errlen);
		rc = old == NULL ? -1 : PQntuples(old) == 0 ? 404 : 0;
	}
	if (rc == 0)
		rc = tpl_check(conn, t, id, err, errlen);
	if (rc == 0) {
		const char *pa[6] = {t->title, t->body, t->labels, t->lead, t->active, s->user_id};
		const char *pu[6] = {id, t->title, t->body, t->labels, t->lead, t->active};
		r = id == NULL ? db_query(conn, SQL_ADD, 6, pa, err, errlen)
		               : db_query(conn, SQL_UPDATE, 6, pu, err, errlen);
		rc = r == NULL ? -1 : 0;
	}
	if (rc == 0) {
		snprintf(object, sizeof(object), "note_template:%s", id != NULL ? id : PQgetvalue(r, 0, 0));
		if (old != NULL)
			before = tpl_json(PQgetvalue(old, 0, T_TITLE), PQgetvalue(old, 0, T_BODY),
			                  PQgetvalue(old, 0, T_LABELS), PQgetvalue(old, 0, T_LEAD),
			                  PQgetvalue(old, 0, T_ACTIVE));
		after = tpl_json(t->title, t->body, PQgetvalue(r, 0, id == NULL ? 1 : 0), t->lead, t->active);
		if (after == NULL || (old != NULL && before == NULL)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else if ((before == NULL || strcmp(before, after) != 0) &&
		           web_audit(conn, s, id == NULL ? "note_template.add" : "note_template.edit", object,
		                     before, after, err, errlen) < 0) {
			rc = -1;
		}
	}
	if (rc == 0 && db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0)
		rc = -1;
	if (rc != 0)
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	free(before);
	free(after);
	PQclear(old);
	PQclear(r);
	return rc;
}

int notetpl_list(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	if (!begin(c, &conn, &s))
		return 0;
	int r = tpl_page(c, conn, &s, NULL, "/templates/notes");
	db_close(&conn);
	return r;
}

int notetpl_edit(struct ctx *c, const char *arg)
{
	char err[1024], path[48];
	struct session s;
	PGconn *conn;
	if (!cust_id_ok(arg))
		return respond_error(c->out, "404 Not Found");
	if (!begin(c, &conn, &s))
		return 0;
	const char *p[1] = {arg};
	PGresult *t = db_query(conn, SQL_ONE, 1, p, err, sizeof(err));
	int r;
	if (t == NULL)
		r = server_error(c, "note template", err);
	else if (PQntuples(t) != 1)
		r = respond_error(c->out, "404 Not Found");
	else {
		snprintf(path, sizeof(path), "/templates/notes/%s", arg);
		r = tpl_page(c, conn, &s, t, path);
	}
	PQclear(t);
	db_close(&conn);
	return r;
}

/* save - POST of the add (id NULL) or edit form */
static int save(struct ctx *c, const char *id)
{
	char err[1024] = "";
	struct session s;
	struct tpl t;
	PGconn *conn;
	if (id != NULL && !cust_id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!begin(c, &conn, &s))
		return 0;
	int rc = tpl_read(&c->form, &t);
	if (rc == 0)
		rc = tpl_save(conn, &s, &t, id, err, sizeof(err));
	db_close(&conn);
	if (rc != 0)
		return act_answer(c, rc, "note template", err);
	return respond_redirect(c->out, c->req->script_name, "/templates/notes", NULL);
}

int notetpl_add(struct ctx *c, const char *arg)
{
	(void)arg;
	return save(c, NULL);
}

int notetpl_update(struct ctx *c, const char *arg)
{
	return save(c, arg);
}
