/* stdattach.c - the standard attachments page: admins and leads upload
 * files (10 MiB at most) under a unique name, offer them for download and
 * switch them off or on again; agents and auditors get 403. Every change is
 * audited in its own transaction. */
#include "stdattach.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "db.h"
#include "escape.h"
#include "files.h"
#include "respond.h"

#define SQL_LIST                                                                                             \
	"SELECT id, name, filename, content_type, size_bytes, active FROM mailroom.standard_attachments"     \
	" ORDER BY active DESC, lower(name), id"
#define SQL_ADD                                                                                              \
	"INSERT INTO mailroom.standard_attachments (name, filename, content_type, size_bytes, sha256, data," \
	" created_by) VALUES ($1, $2, $3, $4::bigint, decode($5, 'hex'), $6::bytea, $7::bigint)"             \
	" ON CONFLICT (name) DO NOTHING RETURNING id"
#define SQL_GET "SELECT filename, data FROM mailroom.standard_attachments WHERE id = $1::bigint"
#define SQL_ACTIVE                                                                                           \
	"UPDATE mailroom.standard_attachments n SET active = $2::boolean FROM "                              \
	"mailroom.standard_attachments o"                                                                    \
	" WHERE n.id = $1::bigint AND o.id = n.id RETURNING o.active, n.name"

/* manager - admins and leads manage standard attachments */
static int manager(const struct session *s)
{
	return strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0;
}

/* refuse - close the connection and send the error page */
static int refuse(struct ctx *c, PGconn **conn, const char *status)
{
	db_close(conn);
	return respond_error(c->out, status);
}

int stdattach_list(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	char err[1024], *body = NULL, path[64];
	size_t len = 0;
	if (!web_begin(c, &conn, &s))
		return 0;
	if (!manager(&s))
		return refuse(c, &conn, "403 Forbidden");
	PGresult *res = db_query(conn, SQL_LIST, 0, NULL, err, sizeof(err));
	if (res == NULL) {
		db_close(&conn);
		return server_error(c, "attachments", err);
	}
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(res);
		db_close(&conn);
		return server_error(c, "attachments", "out of memory");
	}
	app_head(mem, c, &s, "Standard attachments");
	fputs("<main>\n<h1>Standard attachments</h1>\n<table class=\"attachments\">\n<thead><tr><th>Name</th>"
	      "<th>File</th><th>Type</th><th>Bytes</th><th>Active</th><th></th></tr></thead>\n<tbody>\n",
	      mem);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 0);
		int active = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		fprintf(mem, "<tr class=\"attachment%s\" data-id=\"", active ? "" : " inactive");
		esc_attr(mem, id);
		fputs("\"><td class=\"name\">", mem);
		esc_html(mem, PQgetvalue(res, i, 1));
		fputs("</td><td><a href=\"", mem);
		esc_attr(mem, c->req->script_name);
		fputs("/attachments/", mem);
		esc_url(mem, id);
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(res, i, 2));
		fputs("</a></td><td>", mem);
		esc_html(mem, PQgetvalue(res, i, 3));
		fputs("</td><td>", mem);
		esc_html(mem, PQgetvalue(res, i, 4));
		fprintf(mem, "</td><td>%s</td><td>", active ? "yes" : "no");
		snprintf(path, sizeof(path), "/attachments/%s/active", id);
		form_open(mem, c, &s, path, "attachment-active", "class=\"attachment-active\"");
		fprintf(mem, "<button name=\"active\" value=\"%d\">%s</button>\n</form></td></tr>\n", !active,
		        active ? "Switch off" : "Switch on");
	}
	PQclear(res);
	db_close(&conn);
	fputs("</tbody>\n</table>\n<h2>Add one</h2>\n", mem);
	form_open(mem, c, &s, "/attachments", "attachments",
	          "id=\"attachment-add\" enctype=\"multipart/form-data\"");
	fprintf(mem,
	        "<p><label>Name <input name=\"name\" required maxlength=\"200\"></label></p>\n"
	        "<p><label>File (at most %d MiB) <input type=\"file\" name=\"file\" required></label></p>\n"
	        "<p><button type=\"submit\">Add</button></p>\n</form>\n</main>\n",
	        UPLOAD_IMPORT_MAX / 1048576);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* add - insert the upload under name and audit it; 1, 0 name taken, -1 with err */
static int add(PGconn *conn, const struct session *s, const char *name, const struct upload *up, char *err,
               size_t errlen)
{
	char hex[65], size[24], object[48];
	file_digest(up, hex);
	snprintf(size, sizeof(size), "%zu", up->len);
	const char *p[7] = {name, up->filename,           up->content_type, size,
	                    hex,  (const char *)up->data, s->user_id};
	int lens[7] = {0, 0, 0, 0, 0, (int)up->len, 0}, fmts[7] = {0, 0, 0, 0, 0, 1, 0};
	PGresult *res = PQexecParams(conn, SQL_ADD, 7, NULL, p, lens, fmts, 0);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	snprintf(object, sizeof(object), "standard_attachment:%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	char *after = file_audit_json(name, up->filename, up->content_type, (long long)up->len, hex);
	int r = after != NULL ? web_audit(conn, s, "attachment.add", object, NULL, after, err, errlen) : -1;
	if (after == NULL)
		snprintf(err, errlen, "out of memory");
	free(after);
	return r < 0 ? -1 : 1;
}

int stdattach_add(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	char err[1024];
	const char *name = form_get(&c->form, "name");
	if (!web_post_begin(c, "attachments", &conn, &s))
		return 0;
	if (!manager(&s))
		return refuse(c, &conn, "403 Forbidden");
	if (c->upload.data == NULL || strcmp(c->upload.field, "file") != 0 || name == NULL ||
	    name[0] == '\0' || strlen(name) > 200)
		return refuse(c, &conn, "400 Bad Request");
	int r = db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0
	            ? -1
	            : add(conn, &s, name, &c->upload, err, sizeof(err));
	if (r == 0) {
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
		return refuse(c, &conn, "409 Conflict");
	}
	int f = file_finish(c, conn, r < 0, err);
	db_close(&conn);
	return f < 0 ? 0 : respond_redirect(c->out, c->req->script_name, "/attachments", NULL);
}

int stdattach_get(struct ctx *c, const char *id)
{
	PGconn *conn;
	struct session s;
	if (!file_id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!web_begin(c, &conn, &s))
		return 0;
	int r = file_download(c, conn, SQL_GET, id);
	db_close(&conn);
	return r;
}

/* active_json - {"active": v} as JSON text (malloc'd) */
static char *active_json(int v)
{
	json_t *j = json_pack("{s:b}", "active", v);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

int stdattach_active(struct ctx *c, const char *id)
{
	PGconn *conn;
	struct session s;
	char err[1024], object[48];
	const char *active = form_get(&c->form, "active");
	if (!file_id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!web_post_begin(c, "attachment-active", &conn, &s))
		return 0;
	if (!manager(&s))
		return refuse(c, &conn, "403 Forbidden");
	if (active == NULL || (strcmp(active, "1") != 0 && strcmp(active, "0") != 0))
		return refuse(c, &conn, "400 Bad Request");
	const char *p[2] = {id, strcmp(active, "1") == 0 ? "true" : "false"};
	PGresult *res = NULL;
	int failed = db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0 ||
	             (res = db_query(conn, SQL_ACTIVE, 2, p, err, sizeof(err))) == NULL;
	if (!failed && PQntuples(res) != 1) {
		PQclear(res);
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
		return refuse(c, &conn, "404 Not Found");
	}
	if (!failed) {
		char *before = active_json(strcmp(PQgetvalue(res, 0, 0), "t") == 0);
		char *after = active_json(strcmp(active, "1") == 0);
		snprintf(object, sizeof(object), "standard_attachment:%s", id);
		failed =
		    before == NULL || after == NULL ||
		    web_audit(conn, &s, "attachment.active", object, before, after, err, sizeof(err)) < 0;
		if (before == NULL || after == NULL)
			snprintf(err, sizeof(err), "out of memory");
		free(before);
		free(after);
	}
	PQclear(res);
	int f = file_finish(c, conn, failed, err);
	db_close(&conn);
	return f < 0 ? 0 : respond_redirect(c->out, c->req->script_name, "/attachments", NULL);
}
