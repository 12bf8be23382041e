/* contacts-import.c - check a CSV address book row by row, then write it whole.
 *
 * Invariants:
 * - Everything happens in one transaction that first locks
 *   mailroom.organisations against writers (organisation names are matched
 *   here, not by a constraint), then reads what the rows are checked
 *   against: organisations, their domains, contacts' addresses, free-mail
 *   and own domains. Nothing is written unless every row passed; any
 *   problem or failure ends in ROLLBACK.
 * - A row that has a problem adds nothing to what later rows are checked
 *   against, so one mistake is reported once, on its own line.
 * - Each table gets one INSERT for the whole file (arrays through
 *   unnest()), so the address book's version moves a few times, not once
 *   per row. Contacts get their ids from their sequence first, so that
 *   their addresses and phone numbers can name them in the same way.
 * - All strings of one import live in one GStringChunk, freed at once.
 *
 * This file holds the transaction, what the rows are checked against and
 * the entry points; contacts-rows.c checks the rows, contacts-write.c
 * writes them (contacts-imp.h).
 */
#include "contacts-imp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctlfile.h"
#include "db.h"

#define SQL_BEGIN    "BEGIN"
#define SQL_LOCK     "LOCK TABLE mailroom.organisations IN SHARE ROW EXCLUSIVE MODE"
#define SQL_COMMIT   "COMMIT"
#define SQL_ROLLBACK "ROLLBACK"
#define SQL_DB_ORGS                                                                                          \
	"SELECT id, name, kind, CASE WHEN vip THEN 'yes' ELSE 'no' END, owner, postal_code, city"            \
	" FROM mailroom.organisations ORDER BY id"
#define SQL_DB_DOMAINS "SELECT domain, organisation_id FROM mailroom.organisation_domains"
#define SQL_DB_ADDRESSES                                                                                     \
	"SELECT a.address, 'contact ' || c.id || COALESCE(' (' || NULLIF(concat_ws(' ', c.first_name,"       \
	" c.last_name), '') || ')', '') FROM mailroom.contact_addresses a"                                   \
	" JOIN mailroom.contacts c ON c.id = a.contact_id"
#define SQL_DB_FREEMAIL "SELECT domain FROM mailroom.freemail_domains"
#define SQL_DB_OWN      "SELECT domain FROM mailroom.own_domains"
const enum contacts_column ci_org_attr_cols[N_ATTR] = {COL_KIND, COL_VIP, COL_OWNER, COL_POSTAL_CODE,
                                                       COL_CITY};

/* problem - one problem of the file: "PATH:LINE: COLUMN: what" */
__attribute__((format(printf, 4, 5))) void ci_problem(struct import *im, unsigned long line, int col,
                                                      const char *fmt, ...)
{
	char what[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (im->n_problems < CONTACTS_ERRORS_SHOWN) {
		if (col >= 0)
			im->problems[im->n_problems] = g_strdup_printf("%s:%lu: %s: %s", im->path, line,
			                                               contacts_column_names[col], what);
		else
			im->problems[im->n_problems] = g_strdup_printf("%s:%lu: %s", im->path, line, what);
	}
	im->n_problems++;
}

/* shown - a value as a problem quotes it; lives in the pool */
const char *ci_shown(struct import *im, const char *s)
{
	char *clean = ctlfile_shown(s, strlen(s), SHOWN_MAX);
	const char *kept = g_string_chunk_insert(im->pool, clean ? clean : "?");
	free(clean);
	return kept;
}

/* utf8_chars - characters of valid UTF-8 */
size_t ci_utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->n_problems && i < CONTACTS_ERRORS_SHOWN; i++)
		g_free(im->problems[i]);
	for (guint i = 0; im->org_list != NULL && i < im->org_list->len; i++) {
		struct org *o = g_ptr_array_index(im->org_list, i);
		g_ptr_array_free(o->domains, TRUE);
		g_free(o);
	}
	for (guint i = 0; im->contacts != NULL && i < im->contacts->len; i++) {
		struct contact *c = g_ptr_array_index(im->contacts, i);
		g_ptr_array_free(c->emails, TRUE);
		g_ptr_array_free(c->phones, TRUE);
		g_free(c);
	}
	if (im->org_list != NULL)
		g_ptr_array_free(im->org_list, TRUE);
	if (im->contacts != NULL)
		g_ptr_array_free(im->contacts, TRUE);
	if (im->db_org_list != NULL)
		g_ptr_array_free(im->db_org_list, TRUE);
	GHashTable *tables[] = {im->db_orgs, im->db_domains, im->db_addresses, im->freemail,
	                        im->own,     im->orgs,       im->domains,      im->addresses};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i] != NULL)
			g_hash_table_destroy(tables[i]);
	if (im->pool != NULL)
		g_string_chunk_free(im->pool);
}

static void import_init(struct import *im, const char *path)
{
	memset(im, 0, sizeof(*im));
	im->path = path;
	im->pool = g_string_chunk_new(1 << 16);
	im->db_orgs = g_hash_table_new(g_str_hash, g_str_equal);
	im->db_org_list = g_ptr_array_new_with_free_func(g_free);
	im->db_domains = g_hash_table_new(g_str_hash, g_str_equal);
	im->db_addresses = g_hash_table_new(g_str_hash, g_str_equal);
	im->freemail = g_hash_table_new(g_str_hash, g_str_equal);
	im->own = g_hash_table_new(g_str_hash, g_str_equal);
	im->orgs = g_hash_table_new(g_str_hash, g_str_equal);
	im->org_list = g_ptr_array_new();
	im->domains = g_hash_table_new(g_str_hash, g_str_equal);
	im->addresses = g_hash_table_new(g_str_hash, g_str_equal);
	im->contacts = g_ptr_array_new();
	for (int c = 0; c < COL_COUNT; c++)
		im->field_of_col[c] = -1;
}
/* --- what the rows are checked against ------------------------------------------ */

/* pooled - a database value in the pool; NULL stays NULL */
static char *pooled(struct import *im, const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : g_string_chunk_insert(im->pool, PQgetvalue(res, row, col));
}

/* load_set - a one-column query into a set of lower-case strings */
static int load_set(struct import *im, PGconn *conn, const char *sql, GHashTable *set, char *err,
                    size_t errlen)
{
	PGresult *res = db_query(conn, sql, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		char *low = g_ascii_strdown(PQgetvalue(res, r, 0), -1);
		char *d = g_string_chunk_insert_const(im->pool, low);
		g_free(low);
		g_hash_table_add(set, d);
	}
	PQclear(res);
	return 0;
}

/* load_database - everything the rows are checked against */
static int load_database(struct import *im, PGconn *conn, const struct mailroom_conf *conf, char *err,
                         size_t errlen)
{
	GHashTable *by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, NULL);
	PGresult *res = db_query(conn, SQL_DB_ORGS, 0, NULL, err, errlen);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		struct db_org *o = g_new0(struct db_org, 1);
		o->id = g_ascii_strtoll(PQgetvalue(res, r, 0), NULL, 10);
		o->name = pooled(im, res, r, 1);
		for (size_t a = 0; a < N_ATTR; a++)
			o->attr[a] = pooled(im, res, r, (int)(2 + a));
		o->same_name = 1;
		g_ptr_array_add(im->db_org_list, o);
		g_hash_table_insert(by_id, &o->id, o);
		struct db_org *first = g_hash_table_lookup(im->db_orgs, o->name);
		if (first != NULL)
			first->same_name++;
		else
			g_hash_table_insert(im->db_orgs, o->name, o);
	}
	PQclear(res);
	if ((res = db_query(conn, SQL_DB_DOMAINS, 0, NULL, err, errlen)) == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		gint64 id = g_ascii_strtoll(PQgetvalue(res, r, 1), NULL, 10);
		struct db_org *o = g_hash_table_lookup(by_id, &id);
		if (o != NULL)
			g_hash_table_insert(im->db_domains, pooled(im, res, r, 0), o);
	}
	PQclear(res);
	if ((res = db_query(conn, SQL_DB_ADDRESSES, 0, NULL, err, errlen)) == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++)
		g_hash_table_insert(im->db_addresses, pooled(im, res, r, 0), pooled(im, res, r, 1));
	PQclear(res);
	g_hash_table_destroy(by_id);
	if (load_set(im, conn, SQL_DB_FREEMAIL, im->freemail, err, errlen) < 0 ||
	    load_set(im, conn, SQL_DB_OWN, im->own, err, errlen) < 0)
		return -1;
	for (size_t i = 0; conf != NULL && i < conf->local_domains.count; i++) {
		char *low = g_ascii_strdown(conf->local_domains.items[i], -1);
		g_hash_table_add(im->own, (gpointer)g_string_chunk_insert_const(im->pool, low));
		g_free(low);
	}
	return 0;
fail:
	g_hash_table_destroy(by_id);
	return -1;
}
/* plural - "1 contact", "2 contacts" */
static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int contacts_import_data(PGconn *conn, const struct mailroom_conf *conf, const char *name, const char *data,
                         size_t len, struct contacts_result *res)
{
	struct import im;
	struct import_counts n = {0};
	int rc = -1, in_tx = 0;

	int (*hook)(PGconn *, const struct contacts_result *, char *, size_t) = res->before_commit;
	void *arg = res->arg;
	memset(res, 0, sizeof(*res));
	res->before_commit = hook;
	res->arg = arg;
	import_init(&im, name);
	if (db_command(conn, SQL_BEGIN, 0, NULL, res->err, sizeof(res->err)) < 0)
		goto out;
	in_tx = 1;
	if (db_command(conn, SQL_LOCK, 0, NULL, res->err, sizeof(res->err)) < 0 ||
	    load_database(&im, conn, conf, res->err, sizeof(res->err)) < 0)
		goto out;
	if (ci_read_rows(&im, data, len) < 0) {
		res->rows = im.rows;
		res->n_problems = im.n_problems;
		for (size_t i = 0; i < im.n_problems && i < CONTACTS_ERRORS_SHOWN; i++) {
			res->problems[i] = im.problems[i];
			im.problems[i] = NULL;
		}
		rc = 1;
		goto out;
	}
	res->rows = im.rows;
	if (ci_write_orgs(&im, conn, &n, res->err, sizeof(res->err)) < 0 ||
	    ci_write_contacts(&im, conn, &n, res->err, sizeof(res->err)) < 0)
		goto out;
	res->organisations = n.organisations;
	res->contacts = n.contacts;
	res->addresses = n.addresses;
	res->domains = n.domains;
	res->phones = n.phones;
	res->extended = n.extended;
	if ((res->before_commit != NULL && res->before_commit(conn, res, res->err, sizeof(res->err)) < 0) ||
	    db_command(conn, SQL_COMMIT, 0, NULL, res->err, sizeof(res->err)) < 0)
		goto out;
	in_tx = 0;
	rc = 0;
out:
	if (in_tx) {
		char rerr[256];
		db_command(conn, SQL_ROLLBACK, 0, NULL, rerr, sizeof(rerr));
	}
	import_free(&im);
	return rc;
}

void contacts_result_free(struct contacts_result *res)
{
	for (size_t i = 0; i < res->n_problems && i < CONTACTS_ERRORS_SHOWN; i++)
		g_free(res->problems[i]);
	res->n_problems = 0;
}

int contacts_import(PGconn *conn, const struct mailroom_conf *conf, const char *path, FILE *out, FILE *errout)
{
	struct contacts_result n = {0};
	char err[1024], *data = NULL;
	size_t len = 0;
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;

	if (ctlfile_read(path, CONTACTS_FILE_MAX, &data, &len, err, sizeof(err)) < 0) {
		fprintf(errout, "mailroomctl: import: %s\n", err);
		return -1;
	}
	int r = contacts_import_data(conn, conf, name, data, len, &n);
	free(data);
	if (r < 0) {
		fprintf(errout, "mailroomctl: import: %s; nothing imported\n", n.err);
		return -1;
	}
	if (r > 0) {
		for (size_t i = 0; i < n.n_problems && i < CONTACTS_ERRORS_SHOWN; i++)
			fprintf(errout, "%s\n", n.problems[i]);
		if (n.n_problems > CONTACTS_ERRORS_SHOWN)
			fprintf(errout, "%s: ... and %zu more problems\n", name,
			        n.n_problems - CONTACTS_ERRORS_SHOWN);
		fprintf(errout, "mailroomctl: import: %s: %zu %s, nothing imported\n", name, n.n_problems,
		        plural(n.n_problems, "problem", "problems"));
		contacts_result_free(&n);
		return -1;
	}
	fprintf(out, "imported %zu %s, %zu %s, %zu %s, %zu %s, %zu %s", n.organisations,
	        plural(n.organisations, "organisation", "organisations"), n.contacts,
	        plural(n.contacts, "contact", "contacts"), n.addresses,
	        plural(n.addresses, "address", "addresses"), n.domains,
	        plural(n.domains, "domain", "domains"), n.phones,
	        plural(n.phones, "phone number", "phone numbers"));
	if (n.extended > 0)
		fprintf(out, " (new domains for %zu existing %s)", n.extended,
		        plural(n.extended, "organisation", "organisations"));
	fputc('\n', out);
	return 0;
}
