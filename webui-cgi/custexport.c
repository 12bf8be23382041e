/* custexport.c - the customer exports: GET /export/customers.csv (the
 * address book in the format `mailroomctl import contacts` reads, written
 * by lib/contactsexport.c), GET /export/contacts.vcf (vCard 3.0, one per
 * active contact) and GET /p/ID/export (one contact's access-request
 * download, a tar.gz: contact.json, messages/TIME-ID.eml, notes.json,
 * reminders.json, tasks.json).
 *
 * Admins and leads only (others 403): these take customer data out of
 * mailroom. Each export is audited. The per-contact download goes through
 * row-level security like every page: another user's private
 * conversation is not in it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act.h"
#include "contactfmt.h"
#include "customers.h"
#include "db.h"
#include "respond.h"
#include "vcard.h"

#define EXPORT_MAX_BYTES (50u << 20) /* the messages of one access request */
#define EXPORT_MAX_MSGS  5000

#define SQL_VCARDS                                                                                           \
	"SELECT c.id, c.salutation, c.first_name, c.last_name, c.position, o.name,"                          \
	" ARRAY(SELECT a.address FROM mailroom.contact_addresses a WHERE a.contact_id = c.id ORDER BY 1),"   \
	" ARRAY(SELECT p.phone FROM mailroom.contact_phones p WHERE p.contact_id = c.id ORDER BY 1)"         \
	" FROM mailroom.contacts c LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"           \
	" WHERE c.active AND c.merged_into IS NULL ORDER BY c.id"
#define SQL_CONTACT_JSON                                                                                     \
	"SELECT jsonb_pretty(to_jsonb(c) || jsonb_build_object('organisation', o.name,"                      \
	" 'emails', ARRAY(SELECT a.address FROM mailroom.contact_addresses a WHERE a.contact_id = c.id"      \
	"  ORDER BY 1), 'phones', ARRAY(SELECT p.phone FROM mailroom.contact_phones p"                       \
	"  WHERE p.contact_id = c.id ORDER BY 1))),"                                                         \
	" ARRAY(SELECT a.address FROM mailroom.contact_addresses a WHERE a.contact_id = c.id)::text"         \
	" FROM mailroom.contacts c LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"           \
	" WHERE c.id = $1"
/* the contact's messages: recorded as theirs, or from or to one of their
 * addresses; $2 the addresses as text[] */
#define SQL_MESSAGES                                                                                         \
	"SELECT mm.message_id, to_char(m.received_at AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS'),"          \
	" coalesce(length(m.raw), 0), m.raw IS NULL FROM mailroom.message_meta mm"                           \
	" JOIN mailroom.messages m ON m.id = mm.message_id"                                                  \
	" WHERE mm.contact_id = $1 OR mm.from_addr = ANY($2::text[]) OR mm.to_addrs && $2::text[]"           \
	" OR mm.cc_addrs && $2::text[] ORDER BY m.received_at, mm.message_id"
#define SQL_RAW                                                                                              \
	"SELECT m.raw FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"        \
	" WHERE mm.message_id = $1"
#define SQL_NOTES                                                                                            \
	"SELECT jsonb_pretty(coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'kind', n.kind, 'body', "     \
	"n.body,"                                                                                            \
	" 'author', u.login, 'created_at', n.created_at, 'outcome', n.outcome) ORDER BY n.id), '[]'))"       \
	" FROM mailroom.notes n LEFT JOIN mailroom.users u ON u.id = n.author WHERE n.contact_id = $1"
#define SQL_REMINDERS                                                                                        \
	"SELECT jsonb_pretty(coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'due_at', r.due_at,"          \
	" 'message', r.message, 'state', r.state, 'created_at', r.created_at) ORDER BY r.id), '[]'))"        \
	" FROM mailroom.reminders r WHERE r.contact_id = $1"
#define SQL_TASKS                                                                                            \
	"SELECT jsonb_pretty(coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'title', t.title, 'body',"    \
	" t.body, 'due_at', t.due_at, 'state', t.state, 'created_at', t.created_at, 'done_at', t.done_at)"   \
	" ORDER BY t.id), '[]')) FROM mailroom.tasks t WHERE t.contact_id = $1"

/* lead_only - web_begin and the role check; 1 to go on */
static int lead_only(struct ctx *c, PGconn **conn, struct session *s)
{
	if (!web_begin(c, conn, s))
		return 0;
	if (strcmp(s->role, "admin") != 0 && strcmp(s->role, "lead") != 0) {
		db_close(conn);
		respond_error(c->out, "403 Forbidden");
		return 0;
	}
	return 1;
}

/* audit_export - one audit row for an export (its own statement: the
 * export only read); 0 or -1 */
static int audit_export(PGconn *conn, const struct session *s, const char *action, const char *object,
                        json_t *after, char *err, size_t errlen)
{
	char *as = after != NULL ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc = as == NULL ? -1 : web_audit(conn, s, action, object, NULL, as, err, errlen);
	if (as == NULL)
		snprintf(err, errlen, "out of memory");
	free(as);
	json_decref(after);
	return rc;
}

/* send_download - the body as an attachment named filename */
static int send_download(struct ctx *c, const char *type, const char *filename, const char *body, size_t len)
{
	fputs("Status: 200 OK\r\n", c->out);
	respond_headers(c->out);
	fprintf(c->out,
	        "Content-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
	        "Content-Length: %zu\r\n\r\n",
	        type, filename, len);
	fwrite(body, 1, len, c->out);
	return 0;
}

int export_customers_csv(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024], *body = NULL, *warn = NULL;
	size_t len = 0, wlen = 0;
	if (!lead_only(c, &conn, &s))
		return 0;
	FILE *mem = open_memstream(&body, &len), *wmem = open_memstream(&warn, &wlen);
	int rc = mem == NULL || wmem == NULL ? -1 : contacts_export(conn, mem, 1, wmem, err, sizeof(err));
	if (mem == NULL || wmem == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (mem != NULL && fclose(mem) != 0)
		rc = -1;
	if (wmem != NULL)
		fclose(wmem);
	free(warn); /* what an import could not read back: mailroomctl export contacts names it */
	if (rc == 0)
		rc = audit_export(conn, &s, "customers.export", "export:customers.csv",
		                  json_pack("{s:s, s:I}", "format", "csv", "bytes", (json_int_t)len), err,
		                  sizeof(err));
	db_close(&conn);
	if (rc < 0) {
		free(body);
		return server_error(c, "export", err);
	}
	rc = send_download(c, "text/csv; charset=utf-8", "customers.csv", body, len);
	free(body);
	return rc;
}

int export_contacts_vcf(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024], *body = NULL;
	size_t len = 0;
	if (!lead_only(c, &conn, &s))
		return 0;
	PGresult *r = db_query(conn, SQL_VCARDS, 0, NULL, err, sizeof(err));
	FILE *mem = r != NULL ? open_memstream(&body, &len) : NULL;
	int rc = mem == NULL ? -1 : 0;
	if (r != NULL && mem == NULL)
		snprintf(err, sizeof(err), "out of memory");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct vcard_contact vc;
		const char *f[8];
		for (int k = 0; k < 8; k++)
			f[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
		vc.uid = f[0], vc.salutation = f[1], vc.first_name = f[2], vc.last_name = f[3];
		vc.position = f[4], vc.organisation = f[5], vc.emails = f[6], vc.phones = f[7];
		vcard_write(mem, &vc);
	}
	int n = r != NULL ? PQntuples(r) : 0;
	PQclear(r);
	if (mem != NULL && fclose(mem) != 0)
		rc = -1;
	if (rc == 0)
		rc =
		    audit_export(conn, &s, "customers.export", "export:contacts.vcf",
		                 json_pack("{s:s, s:i}", "format", "vcard", "contacts", n), err, sizeof(err));
	db_close(&conn);
	if (rc < 0) {
		free(body);
		return server_error(c, "export", err);
	}
	rc = send_download(c, "text/vcard; charset=utf-8", "contacts.vcf", body, len);
	free(body);
	return rc;
}

/* one access-request archive being written */
struct bundle {
	struct archive *a;
	FILE *mem;
	char *body;
	size_t len;
	char dir[48]; /* the top directory of every entry */
};

/* arch_write - libarchive's write callback: into the memstream */
static la_ssize_t arch_write(struct archive *a, void *data, const void *buf, size_t n)
{
	(void)a;
	struct bundle *b = data;
	return fwrite(buf, 1, n, b->mem) == n ? (la_ssize_t)n : -1;
}

/* add_file - one file of the archive; 0 or -1 */
static int add_file(struct bundle *b, const char *name, const void *data, size_t n)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	struct archive_entry *e = archive_entry_new();
	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, time(NULL), 0);
	int rc = archive_write_header(b->a, e) == ARCHIVE_OK &&
	                 (n == 0 || archive_write_data(b->a, data, n) == (la_ssize_t)n)
	             ? 0
	             : -1;
	archive_entry_free(e);
	return rc;
}

/* add_query - the one text value of sql($1 = id) as a file; 0 or -1 */
static int add_query(struct bundle *b, PGconn *conn, const char *name, const char *sql, const char *id,
                     char *err, size_t errlen)
{
	const char *p[1] = {id};
	PGresult *r = db_query(conn, sql, 1, p, err, errlen);
	if (r == NULL)
		return -1;
	const char *v = PQgetvalue(r, 0, 0);
	int rc = add_file(b, name, v, strlen(v));
	PQclear(r);
	if (rc < 0)
		snprintf(err, errlen, "archive: %s", archive_error_string(b->a));
	return rc;
}

/* add_messages - every message of the contact as messages/TIME-UUID.eml;
 * the number written into *n; 0, -1, or 413 when over the caps */
static int add_messages(struct bundle *b, PGconn *conn, const char *id, const char *addrs, int *n, char *err,
                        size_t errlen)
{
	const char *p[2] = {id, addrs};
	PGresult *list = db_query(conn, SQL_MESSAGES, 2, p, err, errlen);
	unsigned long long total = 0;
	*n = 0;
	if (list == NULL)
		return -1;
	for (int i = 0; i < PQntuples(list); i++)
		total += strtoull(PQgetvalue(list, i, 2), NULL, 10);
	if (total > EXPORT_MAX_BYTES || PQntuples(list) > EXPORT_MAX_MSGS) {
		PQclear(list);
		return 413;
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < PQntuples(list); i++) {
		if (strcmp(PQgetvalue(list, i, 3), "t") == 0)
			continue; /* recorded without its bytes (metadata policy) */
		const char *q[1] = {PQgetvalue(list, i, 0)};
		PGresult *r = PQexecParams(conn, SQL_RAW, 1, NULL, q, NULL, NULL, 1);
		char name[96];
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			snprintf(err, errlen, "message %s: %s", q[0], PQresultErrorMessage(r));
			rc = -1;
		} else {
			snprintf(name, sizeof(name), "messages/%s-%s.eml", PQgetvalue(list, i, 1), q[0]);
			rc = add_file(b, name, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
			if (rc < 0)
				snprintf(err, errlen, "archive: %s", archive_error_string(b->a));
			(*n)++;
		}
		PQclear(r);
	}
	PQclear(list);
	return rc;
}

/* build_bundle - the whole archive of contact id into b; 0, -1, 404, 413 */
static int build_bundle(struct bundle *b, PGconn *conn, const char *id, int *n_msgs, char *err, size_t errlen)
{
	const char *p[1] = {id};
	PGresult *r = db_query(conn, SQL_CONTACT_JSON, 1, p, err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return 404;
	}
	if ((b->mem = open_memstream(&b->body, &b->len)) == NULL || (b->a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax_restricted(b->a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(b->a) != ARCHIVE_OK ||
	    archive_write_open(b->a, b, NULL, arch_write, NULL) != ARCHIVE_OK) {
		PQclear(r);
		snprintf(err, errlen, "archive: cannot start");
		return -1;
	}
	const char *cj = PQgetvalue(r, 0, 0);
	int rc = add_file(b, "contact.json", cj, strlen(cj));
	if (rc == 0)
		rc = add_messages(b, conn, id, PQgetvalue(r, 0, 1), n_msgs, err, errlen);
	PQclear(r);
	if (rc == 0)
		rc = add_query(b, conn, "notes.json", SQL_NOTES, id, err, errlen);
	if (rc == 0)
		rc = add_query(b, conn, "reminders.json", SQL_REMINDERS, id, err, errlen);
	if (rc == 0)
		rc = add_query(b, conn, "tasks.json", SQL_TASKS, id, err, errlen);
	if (archive_write_close(b->a) != ARCHIVE_OK && rc == 0) {
		snprintf(err, errlen, "archive: %s", archive_error_string(b->a));
		rc = -1;
	}
	return rc;
}

int export_contact(struct ctx *c, const char *id)
{
	struct session s;
	PGconn *conn;
	char err[1024], filename[64];
	struct bundle b = {0};
	int n_msgs = 0;
	if (!id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!lead_only(c, &conn, &s))
		return 0;
	snprintf(b.dir, sizeof(b.dir), "contact-%s", id);
	/* one snapshot: the files agree with each other; only read, and ended
	 * before the audit row (audit_append needs READ COMMITTED to see the
	 * chain's head) */
	int rc =
	    db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err, sizeof(err));
	if (rc == 0)
		rc = build_bundle(&b, conn, id, &n_msgs, err, sizeof(err));
	if (b.a != NULL)
		archive_write_free(b.a);
	if (b.mem != NULL && fclose(b.mem) != 0 && rc == 0)
		rc = -1, snprintf(err, sizeof(err), "out of memory");
	if (rc == 0 && db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0)
		rc = -1; /* on an error db_close ends the transaction */
	snprintf(filename, sizeof(filename), "contact:%s", id);
	if (rc == 0)
		rc = audit_export(conn, &s, "contact.export", filename,
		                  json_pack("{s:s, s:i, s:I}", "format", "tar.gz", "messages", n_msgs,
		                            "bytes", (json_int_t)b.len),
		                  err, sizeof(err));
	db_close(&conn);
	if (rc != 0) {
		free(b.body);
		return rc == 404   ? respond_error(c->out, "404 Not Found")
		       : rc == 413 ? respond_error(c->out, "413 Content Too Large")
		                   : server_error(c, "export", err);
	}
	snprintf(filename, sizeof(filename), "contact-%s.tar.gz", id);
	rc = send_download(c, "application/gzip", filename, b.body, b.len);
	free(b.body);
	return rc;
}
