/* files.c - the files of a customer: a multipart upload stored in
 * mailroom.files (bytes in the row, sha256 beside them), a download that
 * is never shown inline, and delete. Every change is audited in the same
 * transaction; an auditor may download but never upload or delete. */
#include "files.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define SQL_OWNER_ORG     "SELECT 1 FROM mailroom.organisations WHERE id = $1::bigint"
#define SQL_OWNER_CONTACT "SELECT 1 FROM mailroom.contacts WHERE id = $1::bigint"
#define SQL_INSERT                                                                                           \
	"INSERT INTO mailroom.files (organisation_id, contact_id, filename, content_type, size_bytes, "      \
	"sha256,"                                                                                            \
	" data, uploaded_by) VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, decode($6, 'hex'), "        \
	"$7::bytea,"                                                                                         \
	" $8::bigint) RETURNING id"
#define SQL_GET "SELECT filename, data FROM mailroom.files WHERE id = $1::bigint"
#define SQL_DELETE                                                                                           \
	"DELETE FROM mailroom.files WHERE id = $1::bigint RETURNING coalesce(organisation_id, contact_id),"  \
	" organisation_id IS NOT NULL, filename, content_type, size_bytes, encode(sha256, 'hex')"

int file_id_ok(const char *id)
{
	size_t len = strlen(id);
	return len > 0 && len <= 18 && id[0] != '0' && strspn(id, "0123456789") == len;
}

void file_digest(const struct upload *up, char hex[65])
{
	unsigned char sum[32];
	crypto_hash_sha256(sum, up->data, up->len);
	sodium_bin2hex(hex, 65, sum, sizeof(sum));
}

int file_finish(struct ctx *c, PGconn *conn, int failed, const char *err)
{
	char e2[1024], ignored[256];
	if (!failed && db_command(conn, "COMMIT", 0, NULL, e2, sizeof(e2)) == 0)
		return 0;
	if (!failed)
		err = e2;
	db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	server_error(c, "files", err);
	return -1;
}

char *file_audit_json(const char *owner, const char *filename, const char *type, long long size,
                      const char *sha)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s}", "owner", owner, "filename", filename,
	                      "content_type", type, "size", (json_int_t)size, "sha256", sha);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return text;
}

/* store - insert the upload and its audit row; 1, 0 owner not there, -1 with err */
static int store(PGconn *conn, const struct session *s, const struct upload *up, int org, const char *id,
                 char *err, size_t errlen)
{
	char hex[65], size[24], object[48], owner[48];
	const char *q[1] = {id};
	PGresult *res = db_query(conn, org ? SQL_OWNER_ORG : SQL_OWNER_CONTACT, 1, q, err, errlen);
	if (res == NULL)
		return -1;
	int found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return 0;
	file_digest(up, hex);
	snprintf(size, sizeof(size), "%zu", up->len);
	const char *p[8] = {
	    org ? id : NULL,        org ? NULL : id, up->filename, up->content_type, size, hex,
	    (const char *)up->data, s->user_id};
	int lens[8] = {0, 0, 0, 0, 0, 0, (int)up->len, 0}, fmts[8] = {0, 0, 0, 0, 0, 0, 1, 0};
	res = PQexecParams(conn, SQL_INSERT, 8, NULL, p, lens, fmts, 0);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	snprintf(object, sizeof(object), "file:%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(owner, sizeof(owner), "%s:%s", org ? "organisation" : "contact", id);
	char *after = file_audit_json(owner, up->filename, up->content_type, (long long)up->len, hex);
	if (after == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int r = web_audit(conn, s, "file.upload", object, NULL, after, err, errlen);
	free(after);
	return r < 0 ? -1 : 1;
}

/* post_file - the upload to an organisation (org) or a contact */
static int post_file(struct ctx *c, const char *id, int org)
{
	PGconn *conn;
	struct session s;
	char err[1024], path[40];
	if (!file_id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!web_post_begin(c, "files", &conn, &s))
		return 0;
	if (strcmp(s.role, "auditor") == 0) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	if (c->upload.data == NULL || strcmp(c->upload.field, "file") != 0) {
		db_close(&conn);
		return respond_error(c->out, "400 Bad Request");
	}
	int r = db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0
	            ? -1
	            : store(conn, &s, &c->upload, org, id, err, sizeof(err));
	if (r == 0) {
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
		db_close(&conn);
		return respond_error(c->out, "404 Not Found");
	}
	int f = file_finish(c, conn, r < 0, err);
	db_close(&conn);
	if (f < 0)
		return 0;
	snprintf(path, sizeof(path), "/%c/%s", org ? 'o' : 'p', id);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

int files_post_org(struct ctx *c, const char *id)
{
	return post_file(c, id, 1);
}

int files_post_contact(struct ctx *c, const char *id)
{
	return post_file(c, id, 0);
}

int file_download(struct ctx *c, PGconn *conn, const char *sql, const char *id)
{
	char err[1024];
	const char *p[1] = {id};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, p, NULL, NULL, 1);
	int r;
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, sizeof(err)) < 0)
		r = server_error(c, "files", err);
	else if (PQntuples(res) != 1)
		r = respond_error(c->out, "404 Not Found");
	else {
		/* text in binary result format is its UTF-8 bytes, not NUL-terminated: copy it */
		char *name = strndup(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
		r = name == NULL
		        ? server_error(c, "files", "out of memory")
		        : download_send(c, name, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
		free(name);
	}
	PQclear(res);
	return r;
}

int files_get(struct ctx *c, const char *id)
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

int files_delete(struct ctx *c, const char *id)
{
	PGconn *conn;
	struct session s;
	char err[1024], path[40], object[40], owner[48];
	if (!file_id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!web_post_begin(c, "file-delete", &conn, &s))
		return 0;
	if (strcmp(s.role, "auditor") == 0) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	const char *p[1] = {id};
	PGresult *res = NULL;
	int failed = db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0 ||
	             (res = db_query(conn, SQL_DELETE, 1, p, err, sizeof(err))) == NULL;
	if (!failed && PQntuples(res) != 1) {
		PQclear(res);
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
		db_close(&conn);
		return respond_error(c->out, "404 Not Found");
	}
	if (!failed) {
		int org = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		snprintf(owner, sizeof(owner), "%s:%s", org ? "organisation" : "contact",
		         PQgetvalue(res, 0, 0));
		snprintf(path, sizeof(path), "/%c/%s", org ? 'o' : 'p', PQgetvalue(res, 0, 0));
		snprintf(object, sizeof(object), "file:%s", id);
		char *before =
		    file_audit_json(owner, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
		                    strtoll(PQgetvalue(res, 0, 4), NULL, 10), PQgetvalue(res, 0, 5));
		failed = before == NULL ||
		         web_audit(conn, &s, "file.delete", object, before, NULL, err, sizeof(err)) < 0;
		if (before == NULL)
			snprintf(err, sizeof(err), "out of memory");
		free(before);
	}
	PQclear(res);
	int f = file_finish(c, conn, failed, err);
	db_close(&conn);
	return f < 0 ? 0 : respond_redirect(c->out, c->req->script_name, path, NULL);
}

void files_upload_form(FILE *mem, struct ctx *c, const struct session *s, char kind, const char *id)
{
	char path[40];
	snprintf(path, sizeof(path), "/%c/%s/files", kind == 'o' ? 'o' : 'p', id);
	form_open(mem, c, s, path, "files", "id=\"file-upload\" enctype=\"multipart/form-data\"");
	fprintf(mem,
	        "<p><label>File (at most %d MiB) <input type=\"file\" name=\"file\" required></label>\n"
	        "<button type=\"submit\">Upload</button></p>\n</form>\n",
	        UPLOAD_FILE_MAX / 1048576);
}

void files_delete_form(FILE *mem, struct ctx *c, const struct session *s, const char *file_id)
{
	char path[40];
	snprintf(path, sizeof(path), "/f/%s/delete", file_id);
	form_open(mem, c, s, path, "file-delete", "class=\"file-delete\"");
	fputs("<button type=\"submit\">Delete</button>\n</form>\n", mem);
}
