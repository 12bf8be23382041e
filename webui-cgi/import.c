/* import.c - organisations and contacts from an uploaded CSV or vCard file.
 *
 * The checks and the writing are mailroomctl's (lib/contacts-import.c): a
 * vCard file is turned into the same CSV first (lib/vcard.c). An import is
 * all or nothing: a file with any problem adds nothing, and the report
 * lists every problem with its line (for vCard: line N is card N - 1). The
 * import is audited as contacts.import in its own transaction; a refused
 * file as contacts.import.refused. Admins and leads only. */
#include "import.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "db.h"
#include "escape.h"
#include "files.h"
#include "respond.h"
#include "vcardread.h"

/* importer - admins and leads import */
static int importer(const struct session *s)
{
	return strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0;
}

/* the form: also shown again under a report */
static void import_form(FILE *mem, struct ctx *c, const struct session *s)
{
	form_open(mem, c, s, "/import", "import", "id=\"import\" enctype=\"multipart/form-data\"");
	fprintf(mem,
	        "<p><label>Format <select name=\"kind\"><option value=\"csv\">CSV</option>"
	        "<option value=\"vcard\">vCard</option></select></label></p>\n"
	        "<p><label>File (at most %d MiB) <input type=\"file\" name=\"file\" required></label></p>\n"
	        "<p><button type=\"submit\">Import</button></p>\n</form>\n",
	        UPLOAD_IMPORT_MAX / 1048576);
}

int import_page(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	char *body = NULL;
	size_t len = 0;
	if (!web_begin(c, &conn, &s))
		return 0;
	db_close(&conn);
	if (!importer(&s))
		return respond_error(c->out, "403 Forbidden");
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "import", "out of memory");
	app_head(mem, c, &s, "Import");
	fputs("<main>\n<h1>Import organisations and contacts</h1>\n"
	      "<p>CSV with a header row (the columns of <code>mailroomctl import contacts</code>), or vCard. "
	      "A file with any problem imports nothing.</p>\n",
	      mem);
	import_form(mem, c, &s);
	fputs("</main>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* what the audit hook needs */
struct audit_arg {
	const struct session *s;
	const char *kind, *filename, *sha;
	size_t len;
};

/* report_json - the audited summary of an import (malloc'd) */
static char *report_json(const struct audit_arg *a, const struct contacts_result *r)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "kind", a->kind,
	                      "filename", a->filename, "sha256", a->sha, "bytes", (json_int_t)a->len, "rows",
	                      (json_int_t)r->rows, "organisations", (json_int_t)r->organisations, "contacts",
	                      (json_int_t)r->contacts, "addresses", (json_int_t)r->addresses, "domains",
	                      (json_int_t)r->domains, "phones", (json_int_t)r->phones, "extended",
	                      (json_int_t)r->extended, "problems", (json_int_t)r->n_problems);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return text;
}

/* audit_import - the audit row, inside the import's transaction or alone */
static int audit_import(PGconn *conn, const struct contacts_result *r, const char *action, char *err,
                        size_t errlen)
{
	const struct audit_arg *a = r->arg;
	char object[48];
	snprintf(object, sizeof(object), "import:%.16s", a->sha);
	char *after = report_json(a, r);
	if (after == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = web_audit(conn, a->s, action, object, NULL, after, err, errlen);
	free(after);
	return rc;
}

/* before_commit - the contacts.import row in the import's transaction */
static int before_commit(PGconn *conn, const struct contacts_result *r, char *err, size_t errlen)
{
	return audit_import(conn, r, "contacts.import", err, errlen);
}

/* report - the page after an import (imported 0, refused 1) */
static int report(struct ctx *c, const struct session *s, int refused, const struct contacts_result *r)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "import", "out of memory");
	app_head(mem, c, s, "Import");
	fputs("<main>\n<h1>Import</h1>\n<section class=\"import-report\">\n", mem);
	fprintf(mem, "<p class=\"rows\">%zu rows read.</p>\n", r->rows);
	if (!refused) {
		fprintf(mem,
		        "<p class=\"added\">Added: <span class=\"organisations\">%zu</span> organisations, "
		        "<span class=\"contacts\">%zu</span> contacts (%zu addresses, %zu domains, %zu phone "
		        "numbers).</p>\n"
		        "<p class=\"updated\">Updated: <span class=\"organisations\">%zu</span> existing "
		        "organisations got new domains.</p>\n<p class=\"refused\">Refused: <span "
		        "class=\"count\">0</span> rows.</p>\n",
		        r->organisations, r->contacts, r->addresses, r->domains, r->phones, r->extended);
	} else {
		fprintf(
		    mem,
		    "<p class=\"added\">Added: nothing.</p>\n<p class=\"refused\">Refused: <span "
		    "class=\"count\">%zu</span> problems; nothing was imported, since an import is all or "
		    "nothing. Correct these and import the file again:</p>\n<ul class=\"problems\">\n",
		    r->n_problems);
		for (size_t i = 0; i < r->n_problems && i < CONTACTS_ERRORS_SHOWN; i++) {
			fputs("<li>", mem);
			esc_html(mem, r->problems[i]);
			fputs("</li>\n", mem);
		}
		if (r->n_problems > CONTACTS_ERRORS_SHOWN)
			fprintf(mem, "<li>... and %zu more</li>\n", r->n_problems - CONTACTS_ERRORS_SHOWN);
		fputs("</ul>\n", mem);
	}
	fputs("</section>\n", mem);
	import_form(mem, c, s);
	fputs("</main>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, refused ? "422 Unprocessable Content" : "200 OK", NULL);
}

/* refused_page - a file that cannot be read at all: the report with why */
static int refused_page(struct ctx *c, const struct session *s, char *why)
{
	struct contacts_result r = {0};
	r.problems[0] = why;
	r.n_problems = 1;
	return report(c, s, 1, &r);
}

int import_post(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	char hex[65], err[512], *csv = NULL;
	size_t csv_len = 0;
	const char *kind = form_get(&c->form, "kind");
	if (!web_post_begin(c, "import", &conn, &s))
		return 0;
	if (!importer(&s)) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	int vcard = kind != NULL && strcmp(kind, "vcard") == 0;
	if (c->upload.data == NULL || strcmp(c->upload.field, "file") != 0 || kind == NULL ||
	    (!vcard && strcmp(kind, "csv") != 0)) {
		db_close(&conn);
		return respond_error(c->out, "400 Bad Request");
	}
	const char *data = (const char *)c->upload.data;
	size_t len = c->upload.len;
	if (vcard) {
		FILE *mem = open_memstream(&csv, &csv_len);
		long cards = mem != NULL ? vcard_to_csv(data, len, mem, err, sizeof(err)) : -1;
		if (mem == NULL || fclose(mem) != 0) {
			free(csv);
			db_close(&conn);
			return server_error(c, "import", "out of memory");
		}
		if (cards < 0) {
			free(csv);
			db_close(&conn);
			return refused_page(c, &s, err);
		}
		data = csv;
		len = csv_len;
	}
	file_digest(&c->upload, hex);
	struct audit_arg a = {&s, vcard ? "vcard" : "csv", c->upload.filename, hex, c->upload.len};
	struct contacts_result r = {.before_commit = before_commit, .arg = &a};
	int rc = contacts_import_data(conn, c->conf, c->upload.filename, data, len, &r);
	free(csv);
	if (rc > 0) {
		char e2[1024];
		r.arg = &a;
		if (audit_import(conn, &r, "contacts.import.refused", e2, sizeof(e2)) < 0) {
			contacts_result_free(&r);
			db_close(&conn);
			return server_error(c, "import", e2);
		}
	}
	db_close(&conn);
	int out = rc < 0 ? server_error(c, "import", r.err) : report(c, &s, rc > 0, &r);
	contacts_result_free(&r);
	return out;
}
