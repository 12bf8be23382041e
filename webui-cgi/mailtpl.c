/* mailtpl.c - mail templates: list, add, edit (admins and leads), and
 * their expansion into the compose form. A template whose subject or
 * text holds an unknown placeholder is refused with 400, and nothing is
 * stored. Every change is audited as mail_template.create/update with the
 * fields before and after, in the same transaction. */
#include "mailtpl.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "escape.h"
#include "placeholder.h"
#include "respond.h"

#define TPL_NAME_MAX    200
#define TPL_SUBJECT_MAX 998
#define TPL_BODY_MAX    50000

/* SQL, named: every statement that touches mail_templates. */
static const char SQL_LIST[] = "SELECT id, name, coalesce(inbox, ''), active, coalesce(subject, '')"
                               "  FROM mailroom.mail_templates ORDER BY name LIMIT 500";
static const char SQL_ONE[] = "SELECT id, name, coalesce(subject, ''), body, coalesce(inbox, ''), active"
                              "  FROM mailroom.mail_templates WHERE id = $1::bigint";
static const char SQL_LOCK[] = "SELECT id, name, coalesce(subject, ''), body, coalesce(inbox, ''), active"
                               "  FROM mailroom.mail_templates WHERE id = $1::bigint FOR UPDATE";
static const char SQL_INBOXES[] = "SELECT address FROM mailroom.inboxes ORDER BY address LIMIT 200";
static const char SQL_INBOX_EXISTS[] = "SELECT 1 FROM mailroom.inboxes WHERE address = $1";
static const char SQL_NAME_TAKEN[] =
    "SELECT 1 FROM mailroom.mail_templates WHERE name = $1 AND id IS DISTINCT FROM nullif($2, '')::bigint";
static const char SQL_INSERT[] =
    "INSERT INTO mailroom.mail_templates (name, subject, body, inbox, active, created_by)"
    " VALUES ($1, nullif($2, ''), $3, nullif($4, ''), $5::boolean, $6::bigint)"
    " RETURNING id, name, coalesce(subject, ''), body, coalesce(inbox, ''), active";
static const char SQL_UPDATE[] =
    "UPDATE mailroom.mail_templates SET name = $2, subject = nullif($3, ''), body = $4, inbox = nullif($5, "
    "''),"
    "  active = $6::boolean, updated_at = now() WHERE id = $1::bigint"
    " RETURNING id, name, coalesce(subject, ''), body, coalesce(inbox, ''), active";
static const char SQL_USE[] = "SELECT coalesce(subject, ''), body FROM mailroom.mail_templates"
                              " WHERE id = $1::bigint AND active AND (inbox IS NULL OR inbox = lower($2))";

/* the form's fields */
struct tpl_fields {
	const char *name, *subject, *body, *inbox, *active;
};

/* may_manage - admins and leads manage templates */
static int may_manage(const struct session *s)
{
	return strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0;
}

/* row_json - a template row (the columns of SQL_ONE) as JSON text; malloc'd */
static char *row_json(PGresult *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:b}", "id",
	                      (json_int_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10), "name", PQgetvalue(r, 0, 1),
	                      "subject", PQgetvalue(r, 0, 2), "body", PQgetvalue(r, 0, 3), "inbox",
	                      PQgetvalue(r, 0, 4)[0] ? json_string(PQgetvalue(r, 0, 4)) : json_null(),
	                      "active", strcmp(PQgetvalue(r, 0, 5), "t") == 0);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

/* the_form - the template form (action path, CSRF name "mailtpl") with values */
static int the_form(FILE *mem, struct ctx *c, PGconn *conn, const struct session *s, const char *path,
                    const char *id_attr, const struct tpl_fields *f, int with_active, char *err,
                    size_t errlen)
{
	PGresult *r = db_query(conn, SQL_INBOXES, 0, NULL, err, errlen);
	if (r == NULL)
		return -1;
	form_open(mem, c, s, path, "mailtpl", id_attr);
	fprintf(mem, "<p><label>Name <input name=\"name\" required maxlength=\"%d\" value=\"", TPL_NAME_MAX);
	esc_attr(mem, f->name != NULL ? f->name : "");
	fprintf(mem, "\"></label></p>\n<p><label>Subject <input name=\"subject\" maxlength=\"%d\" value=\"",
	        TPL_SUBJECT_MAX);
	esc_attr(mem, f->subject != NULL ? f->subject : "");
	fputs("\"></label></p>\n<p><label>Shared inbox <select name=\"inbox\">\n<option value=\"\">(every "
	      "inbox)</option>\n",
	      mem);
	for (int i = 0; i < PQntuples(r); i++) {
		fputs("<option value=\"", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs(f->inbox != NULL && strcmp(f->inbox, PQgetvalue(r, i, 0)) == 0 ? "\" selected>" : "\">",
		      mem);
		esc_html(mem, PQgetvalue(r, i, 0));
		fputs("</option>\n", mem);
	}
	PQclear(r);
	fprintf(mem,
	        "</select></label></p>\n<p><label>Text <textarea name=\"body\" rows=\"14\" required "
	        "maxlength=\"%d\">",
	        TPL_BODY_MAX);
	esc_html(mem, f->body != NULL ? f->body : "");
	fputs("</textarea></label></p>\n", mem);
	if (with_active)
		fprintf(
		    mem,
		    "<p><label><input type=\"checkbox\" name=\"active\" value=\"1\"%s> Active</label></p>\n",
		    f->active != NULL && strcmp(f->active, "1") == 0 ? " checked" : "");
	fputs("<p class=\"hint\">Placeholders: {{salutation}} {{first_name}} {{last_name}} {{organisation}} "
	      "{{agent_name}} {{agent_email}} {{inbox}} {{subject}}</p>\n"
	      "<p><button type=\"submit\">Save</button></p>\n</form>\n",
	      mem);
	return 0;
}

/* error_line - <p class="error"> with the message, when there is one */
static void error_line(FILE *mem, const char *error)
{
	if (error == NULL)
		return;
	fputs("<p class=\"error\" role=\"alert\">", mem);
	esc_html(mem, error);
	fputs("</p>\n", mem);
}

/* list_page - the table of templates and, for admins and leads, the form to add one */
static int list_page(struct ctx *c, PGconn *conn, const struct session *s, const struct tpl_fields *f,
                     const char *status, const char *error)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	PGresult *r = db_query(conn, SQL_LIST, 0, NULL, err, sizeof(err));
	if (r == NULL)
		return server_error(c, "mail templates", err);
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(r);
		return server_error(c, "mail templates", "out of memory");
	}
	app_head(mem, c, s, "Mail templates");
	fputs("<h1>Mail templates</h1>\n", mem);
	error_line(mem, error);
	fputs("<table "
	      "class=\"mail-templates\">\n<tr><th>Name</th><th>Subject</th><th>Inbox</th><th>Active</th></"
	      "tr>\n",
	      mem);
	for (int i = 0; i < PQntuples(r); i++) {
		fputs("<tr class=\"mail-template\"><td><a href=\"", mem);
		esc_attr(mem, c->req->script_name);
		fputs("/templates/mail/", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(r, i, 1));
		fputs("</a></td><td>", mem);
		esc_html(mem, PQgetvalue(r, i, 4));
		fputs("</td><td>", mem);
		esc_html(mem, PQgetvalue(r, i, 2)[0] ? PQgetvalue(r, i, 2) : "(every inbox)");
		fprintf(mem, "</td><td>%s</td></tr>\n", strcmp(PQgetvalue(r, i, 3), "t") == 0 ? "yes" : "no");
	}
	fputs("</table>\n", mem);
	PQclear(r);
	if (may_manage(s)) {
		fputs("<h2>New template</h2>\n", mem);
		if (the_form(mem, c, conn, s, "/templates/mail", "id=\"mailtpl-new\"", f, 0, err,
		             sizeof(err)) < 0) {
			fclose(mem);
			free(body);
			return server_error(c, "mail templates", err);
		}
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

/* edit_page - one template's form (read-only text for agents) */
static int edit_page(struct ctx *c, PGconn *conn, const struct session *s, const char *id,
                     const struct tpl_fields *f, const char *status, const char *error)
{
	char err[1024], path[64], *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "mail template", "out of memory");
	app_head(mem, c, s, "Mail template");
	fputs("<h1>Mail template</h1>\n", mem);
	error_line(mem, error);
	snprintf(path, sizeof(path), "/templates/mail/%s", id);
	if (may_manage(s)) {
		if (the_form(mem, c, conn, s, path, "id=\"mailtpl-edit\"", f, 1, err, sizeof(err)) < 0) {
			fclose(mem);
			free(body);
			return server_error(c, "mail template", err);
		}
	} else {
		fputs("<h2 class=\"name\">", mem);
		esc_html(mem, f->name);
		fputs("</h2>\n<p class=\"subject\">", mem);
		esc_html(mem, f->subject);
		fputs("</p>\n<pre class=\"mail-text\">", mem);
		esc_html(mem, f->body);
		fputs("</pre>\n", mem);
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

int mailtpl_list(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	struct tpl_fields f = {NULL, NULL, NULL, NULL, "1"};
	if (!web_begin(c, &conn, &s))
		return 0;
	int rc = list_page(c, conn, &s, &f, "200 OK", NULL);
	db_close(&conn);
	return rc;
}

/* fields_check - the posted fields: NULL when fine, else what is wrong */
static const char *fields_check(const struct tpl_fields *f, char *msg, size_t msglen)
{
	char bad[80];
	if (!text_ok(f->name, TPL_NAME_MAX, 0))
		return "The name must be 1 to 200 characters on one line.";
	if (f->subject != NULL && f->subject[0] != '\0' && !text_ok(f->subject, TPL_SUBJECT_MAX, 0))
		return "The subject must be at most 998 characters on one line.";
	if (!text_ok(f->body, TPL_BODY_MAX, 1))
		return "The text must be 1 to 50000 characters.";
	if (f->inbox != NULL && strlen(f->inbox) > 320)
		return "Not a shared inbox.";
	if ((f->subject != NULL && placeholder_check(f->subject, bad, sizeof(bad)) < 0) ||
	    placeholder_check(f->body, bad, sizeof(bad)) < 0) {
		snprintf(msg, msglen, "Unknown placeholder %s.", bad);
		return msg;
	}
	return NULL;
}

/* read_fields - the form's values */
static void read_fields(const struct form *form, struct tpl_fields *f)
{
	f->name = form_get(form, "name");
	f->subject = form_get(form, "subject");
	f->body = form_get(form, "body");
	f->inbox = form_get(form, "inbox");
	f->active = form_get(form, "active");
}

/* conflicts - 400/409 reasons that need the database: an unknown inbox, a
 * name another template has; NULL, a message, or "" after a database error */
static const char *conflicts(PGconn *conn, const struct tpl_fields *f, const char *id, int *status, char *err,
                             size_t errlen)
{
	const char *p[2] = {f->inbox, NULL};
	if (f->inbox != NULL && f->inbox[0] != '\0') {
		PGresult *r = db_query(conn, SQL_INBOX_EXISTS, 1, p, err, errlen);
		if (r == NULL)
			return "";
		int n = PQntuples(r);
		PQclear(r);
		if (n == 0) {
			*status = 400;
			return "Not a shared inbox.";
		}
	}
	p[0] = f->name;
	p[1] = id != NULL ? id : "";
	PGresult *r = db_query(conn, SQL_NAME_TAKEN, 2, p, err, errlen);
	if (r == NULL)
		return "";
	int n = PQntuples(r);
	PQclear(r);
	if (n > 0) {
		*status = 409;
		return "Another template has this name.";
	}
	return NULL;
}

/* save - insert (id NULL) or update one template and audit it, in one
 * transaction; 0, 404 (no such template) or -1 with err */
static int save(PGconn *conn, const struct session *s, const char *id, const struct tpl_fields *f, char *err,
                size_t errlen)
{
	char ignored[256], object[64];
	char *before = NULL, *after = NULL;
	const char *active =
	    id == NULL || (f->active != NULL && strcmp(f->active, "1") == 0) ? "true" : "false";
	const char *subject = f->subject != NULL ? f->subject : "", *inbox = f->inbox != NULL ? f->inbox : "";
	PGresult *r = NULL;
	int rc = -1;
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	if (id != NULL) {
		const char *p[1] = {id};
		if ((r = db_query(conn, SQL_LOCK, 1, p, err, errlen)) == NULL)
			goto out;
		if (PQntuples(r) == 0) {
			rc = 404;
			goto out;
		}
		before = row_json(r);
		PQclear(r);
		const char *q[6] = {id, f->name, subject, f->body, inbox, active};
		r = db_query(conn, SQL_UPDATE, 6, q, err, errlen);
	} else {
		const char *q[6] = {f->name, subject, f->body, inbox, active, s->user_id};
		r = db_query(conn, SQL_INSERT, 6, q, err, errlen);
	}
	if (r == NULL || PQntuples(r) != 1)
		goto out;
	after = row_json(r);
	snprintf(object, sizeof(object), "mail_template:%s", PQgetvalue(r, 0, 0));
	if (after == NULL ||
	    web_audit(conn, s, id != NULL ? "mail_template.update" : "mail_template.create", object, before,
	              after, err, errlen) < 0 ||
	    db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	PQclear(r);
	free(before);
	free(after);
	return rc;
}

/* post_common - create (id NULL) or update: role, fields, conflicts, save */
static int post_common(struct ctx *c, const char *id)
{
	PGconn *conn;
	struct session s;
	struct tpl_fields f;
	char msg[160], err[1024];
	int status = 400;
	if (!web_post_begin(c, "mailtpl", &conn, &s))
		return 0;
	if (!may_manage(&s)) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	read_fields(&c->form, &f);
	const char *why = fields_check(&f, msg, sizeof(msg));
	if (why == NULL)
		why = conflicts(conn, &f, id, &status, err, sizeof(err));
	int rc;
	if (why != NULL && why[0] == '\0')
		rc = server_error(c, "mail template", err);
	else if (why != NULL) {
		const char *st = status == 409 ? "409 Conflict" : "400 Bad Request";
		rc = id != NULL ? edit_page(c, conn, &s, id, &f, st, why)
		                : list_page(c, conn, &s, &f, st, why);
	} else {
		int r = save(conn, &s, id, &f, err, sizeof(err));
		if (r < 0)
			rc = server_error(c, "mail template", err);
		else if (r == 404)
			rc = respond_error(c->out, "404 Not Found");
		else
			rc = respond_redirect(c->out, c->req->script_name, "/templates/mail", NULL);
	}
	db_close(&conn);
	return rc;
}

int mailtpl_create(struct ctx *c, const char *arg)
{
	(void)arg;
	return post_common(c, NULL);
}

int mailtpl_update(struct ctx *c, const char *arg)
{
	if (!id_ok(arg) || arg[0] == '0')
		return respond_error(c->out, "404 Not Found");
	return post_common(c, arg);
}

int mailtpl_edit(struct ctx *c, const char *arg)
{
	PGconn *conn;
	struct session s;
	char err[1024];
	if (!id_ok(arg) || arg[0] == '0')
		return respond_error(c->out, "404 Not Found");
	if (!web_begin(c, &conn, &s))
		return 0;
	const char *p[1] = {arg};
	PGresult *r = db_query(conn, SQL_ONE, 1, p, err, sizeof(err));
	int rc;
	if (r == NULL)
		rc = server_error(c, "mail template", err);
	else if (PQntuples(r) != 1)
		rc = respond_error(c->out, "404 Not Found");
	else {
		struct tpl_fields f = {PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
		                       PQgetvalue(r, 0, 4),
		                       strcmp(PQgetvalue(r, 0, 5), "t") == 0 ? "1" : "0"};
		rc = edit_page(c, conn, &s, arg, &f, "200 OK", NULL);
	}
	PQclear(r);
	db_close(&conn);
	return rc;
}

int mailtpl_apply(PGconn *conn, const struct compose_ctx *x, const char *id, const char *from,
                  const char *subject, char **subject_out, char **body_out, char *err, size_t errlen)
{
	const char *p[2] = {id, from != NULL ? from : ""};
	*subject_out = *body_out = NULL;
	PGresult *r = db_query(conn, SQL_USE, 2, p, err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return 0;
	}
	const char *v[PH_COUNT] = {x->salutation, x->first_name,  x->last_name, x->org_name,
	                           x->agent_name, x->agent_email, from,         subject};
	/* a reply or forward keeps its subject; new mail takes the template's */
	int own = x->kind == COMPOSE_NEW || subject == NULL || subject[0] == '\0';
	if (own && PQgetvalue(r, 0, 0)[0] != '\0' &&
	    (*subject_out = placeholder_expand(PQgetvalue(r, 0, 0), v)) != NULL)
		v[PH_SUBJECT] = *subject_out; /* the text speaks of the subject the mail will have */
	*body_out = placeholder_expand(PQgetvalue(r, 0, 1), v);
	int bad = *body_out == NULL || (own && PQgetvalue(r, 0, 0)[0] != '\0' && *subject_out == NULL);
	PQclear(r);
	if (bad) {
		free(*subject_out);
		free(*body_out);
		*subject_out = *body_out = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}
