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
 */
#include "contacts.h"

#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "csv.h"
#include "ctlfile.h"
#include "db.h"
#include "utf8.h"

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
#define SQL_ADD_ORGS                                                                                         \
	"INSERT INTO mailroom.organisations (name, kind, vip, owner, postal_code, city)"                     \
	" SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[], $6::text[])"   \
	" RETURNING id, name"
#define SQL_ADD_DOMAINS                                                                                      \
	"INSERT INTO mailroom.organisation_domains (domain, organisation_id)"                                \
	" SELECT * FROM unnest($1::text[], $2::bigint[])"
#define SQL_CONTACT_IDS                                                                                      \
	"SELECT nextval(pg_get_serial_sequence('mailroom.contacts', 'id'))"                                  \
	" FROM generate_series(1, $1::integer)"
#define SQL_ADD_CONTACTS                                                                                     \
	"INSERT INTO mailroom.contacts (id, organisation_id, salutation, first_name, last_name)"             \
	" OVERRIDING SYSTEM VALUE SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[],"              \
	" $4::text[], $5::text[])"
#define SQL_ADD_ADDRESSES                                                                                    \
	"INSERT INTO mailroom.contact_addresses (address, contact_id)"                                       \
	" SELECT * FROM unnest($1::text[], $2::bigint[])"
#define SQL_ADD_PHONES                                                                                       \
	"INSERT INTO mailroom.contact_phones (contact_id, phone) SELECT * FROM unnest($1::bigint[], "        \
	"$2::text[])"

#define PHONE_MAX_CHARS 50
#define SHOWN_MAX       60 /* bytes of a value quoted in a message */

/* The organisation columns besides the name, in the order of struct org's attr[]. */
static const enum contacts_column org_attr_cols[] = {COL_KIND, COL_VIP, COL_OWNER, COL_POSTAL_CODE, COL_CITY};
#define N_ATTR (sizeof(org_attr_cols) / sizeof(org_attr_cols[0]))

/* An organisation already in the database. */
struct db_org {
	long long id;
	char *name;
	char *attr[N_ATTR]; /* NULL when not set */
	unsigned same_name; /* organisations in the database with this name */
};

/* An organisation named in the file. */
struct org {
	char *name;
	const struct db_org *db; /* the one of that name, or NULL: a new one */
	long long id;            /* db->id, or the new one's once inserted */
	unsigned long line;      /* the first row that named it */
	const char *attr[N_ATTR];
	unsigned long attr_line[N_ATTR];
	GPtrArray *domains; /* new for it: const char * */
};

/* A contact of the file. */
struct contact {
	unsigned long line;
	const struct org *org; /* NULL: none */
	const char *salutation, *first_name, *last_name;
	GPtrArray *emails, *phones;
};

struct import {
	const char *path; /* as the problems name it */
	GStringChunk *pool;
	int field_of_col[COL_COUNT]; /* -1: not in the file */
	size_t n_header;
	/* the database, as the rows are checked against it */
	GHashTable *db_orgs;      /* name -> struct db_org * (the first of that name) */
	GPtrArray *db_org_list;   /* owns the struct db_org */
	GHashTable *db_domains;   /* domain -> struct db_org * */
	GHashTable *db_addresses; /* address -> "contact 40 (Anna Muster)" */
	GHashTable *freemail, *own;
	/* the file */
	GHashTable *orgs; /* name -> struct org * */
	GPtrArray *org_list;
	GHashTable *domains;   /* domain -> struct org * */
	GHashTable *addresses; /* address -> struct contact * */
	GPtrArray *contacts;
	size_t rows;
	/* problems */
	char *problems[CONTACTS_ERRORS_SHOWN];
	size_t n_problems;
};

/* problem - one problem of the file: "PATH:LINE: COLUMN: what" */
__attribute__((format(printf, 4, 5))) static void problem(struct import *im, unsigned long line, int col,
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
static const char *shown(struct import *im, const char *s)
{
	char *clean = ctlfile_shown(s, strlen(s), SHOWN_MAX);
	const char *kept = g_string_chunk_insert(im->pool, clean ? clean : "?");
	free(clean);
	return kept;
}

/* utf8_chars - characters of valid UTF-8 */
static size_t utf8_chars(const char *s)
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

/* --- the header ------------------------------------------------------------------- */

/* read_header - map the header's fields to columns; 0, or -1 after reporting problems */
static int read_header(struct import *im, const struct csv_record *rec)
{
	size_t before = im->n_problems;
	GString *known = g_string_new(NULL);
	for (int c = 0; c < COL_COUNT; c++)
		g_string_append_printf(known, "%s%s", c ? ", " : "", contacts_column_names[c]);
	im->n_header = rec->n_fields;
	for (size_t i = 0; i < rec->n_fields; i++) {
		char *name = g_strstrip(g_ascii_strdown(rec->fields[i], (gssize)rec->lengths[i]));
		int col = -1;
		for (int c = 0; c < COL_COUNT; c++)
			if (strcmp(name, contacts_column_names[c]) == 0)
				col = c;
		if (name[0] == '\0')
			problem(im, rec->line, -1, "column %zu of the header has no name", i + 1);
		else if (col < 0)
			problem(im, rec->line, -1, "unknown column '%s' (the columns are %s)",
			        shown(im, rec->fields[i]), known->str);
		else if (im->field_of_col[col] >= 0)
			problem(im, rec->line, -1, "column '%s' appears twice in the header", name);
		else
			im->field_of_col[col] = (int)i;
		g_free(name);
	}
	g_string_free(known, TRUE);
	return im->n_problems == before ? 0 : -1;
}

/* --- one row ------------------------------------------------------------------------- */

/* has_suffix_in - is d, or a parent of it down to two labels, in set? */
static int has_suffix_in(GHashTable *set, const char *d, int builtin_freemail)
{
	/* A top-level domain alone (no dot left) is nobody's. */
	for (const char *p = d; strchr(p, '.') != NULL; p = strchr(p, '.') + 1)
		if (g_hash_table_contains(set, p) || (builtin_freemail && classify_freemail_builtin(p)))
			return 1;
	return 0;
}

/* field_check - the trimmed value of col in rec, checked for encoding,
 * controls and length; NULL when empty or bad (bad is reported) */
static char *field_check(struct import *im, const struct csv_record *rec, int col)
{
	int f = im->field_of_col[col];
	if (f < 0)
		return NULL;
	const char *s = rec->fields[f];
	size_t len = rec->lengths[f];
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return NULL;
	if (!utf8_valid(s, len)) {
		problem(im, rec->line, col, "is not valid UTF-8 (save the file as UTF-8)");
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			problem(im, rec->line, col, "contains a line break or another control character");
			return NULL;
		}
	char *v = g_string_chunk_insert_len(im->pool, s, (gssize)len);
	size_t max = contacts_column_max_chars[col], n = utf8_chars(v);
	if (max > 0 && n > max) {
		problem(im, rec->line, col, "'%s' is %zu characters long, at most %zu are allowed",
		        shown(im, v), n, max);
		return NULL;
	}
	return v;
}

/* field_value - the trimmed value of col in rec, checked for encoding,
 * controls and length; NULL when empty or bad (reported, and *bad set) */
static char *field_value(struct import *im, const struct csv_record *rec, int col, int *bad)
{
	size_t before = im->n_problems;
	char *v = field_check(im, rec, col);
	*bad = im->n_problems != before;
	return v;
}

/* tokens - the words of v split at any of seps, in a new array of pooled strings */
static GPtrArray *tokens(struct import *im, const char *v, const char *seps, int lower)
{
	GPtrArray *out = g_ptr_array_new();
	if (v == NULL)
		return out;
	char *copy = lower ? g_ascii_strdown(v, -1) : g_strdup(v), *save = NULL;
	for (char *t = strtok_r(copy, seps, &save); t != NULL; t = strtok_r(NULL, seps, &save)) {
		t = g_strstrip(t);
		if (*t != '\0')
			g_ptr_array_add(out, g_string_chunk_insert(im->pool, t));
	}
	g_free(copy);
	return out;
}

/* contains - is s in the array of strings? */
static int contains(const GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), s) == 0)
			return 1;
	return 0;
}

/* check_org_attrs - normalised kind and vip, and agreement with what
 * earlier rows or the database say about the organisation */
static void check_org_attrs(struct import *im, unsigned long line, const struct org *o,
                            const struct db_org *db, const char *name, const char **attr)
{
	if (attr[0] != NULL) {
		char *k = g_ascii_strdown(attr[0], -1);
		if (strcmp(k, "customer") != 0 && strcmp(k, "supplier") != 0 && strcmp(k, "other") != 0) {
			problem(im, line, COL_KIND, "'%s' is not customer, supplier or other",
			        shown(im, attr[0]));
			attr[0] = NULL;
		} else {
			attr[0] = g_string_chunk_insert_const(im->pool, k);
		}
		g_free(k);
	}
	if (attr[1] != NULL) {
		int vip = contacts_parse_vip(attr[1]);
		if (vip < 0)
			problem(im, line, COL_VIP, "'%s' is not yes, no, true, false, 1 or 0",
			        shown(im, attr[1]));
		attr[1] = vip < 0 ? NULL : vip ? "yes" : "no";
	}
	for (size_t a = 0; a < N_ATTR; a++) {
		if (attr[a] == NULL)
			continue;
		if (o != NULL && o->attr[a] != NULL && strcmp(o->attr[a], attr[a]) != 0)
			problem(im, line, (int)org_attr_cols[a],
			        "'%s' differs from '%s' given for '%s' on line %lu", shown(im, attr[a]),
			        shown(im, o->attr[a]), shown(im, name), o->attr_line[a]);
		else if (db != NULL && (db->attr[a] == NULL || strcmp(db->attr[a], attr[a]) != 0))
			problem(im, line, (int)org_attr_cols[a],
			        "'%s' differs from the database, where organisation %lld '%s' has %s%s%s;"
			        " import does not change existing organisations",
			        shown(im, attr[a]), db->id, shown(im, name), db->attr[a] ? "'" : "",
			        db->attr[a] ? shown(im, db->attr[a]) : "none", db->attr[a] ? "'" : "");
	}
}

/* check_domains - the row's domains that are new for its organisation */
static GPtrArray *check_domains(struct import *im, unsigned long line, const char *v, const struct org *o,
                                const struct db_org *db)
{
	GPtrArray *all = tokens(im, v, " \t;,", 1), *fresh = g_ptr_array_new();
	for (guint i = 0; i < all->len; i++) {
		char *d = g_ptr_array_index(all, i);
		size_t n = strlen(d);
		if (n > 1 && d[n - 1] == '.')
			d[n - 1] = '\0'; /* a fully qualified name's root */
		const char *why = contacts_domain_check(d);
		const struct db_org *in_db = g_hash_table_lookup(im->db_domains, d);
		const struct org *in_file = g_hash_table_lookup(im->domains, d);
		if (why != NULL)
			problem(im, line, COL_DOMAINS, "'%s' %s", shown(im, d), why);
		else if (has_suffix_in(im->freemail, d, 1))
			problem(im, line, COL_DOMAINS,
			        "'%s' is a free-mail domain: its addresses belong to unrelated people,"
			        " so it cannot stand for an organisation",
			        d);
		else if (has_suffix_in(im->own, d, 0))
			problem(im, line, COL_DOMAINS, "'%s' is one of our own domains", d);
		else if (in_db != NULL && in_db != db)
			problem(im, line, COL_DOMAINS,
			        "'%s' already belongs to organisation %lld '%s' in the database", d,
			        in_db->id, shown(im, in_db->name));
		else if (in_file != NULL && in_file != o)
			problem(im, line, COL_DOMAINS,
			        "'%s' is already given for organisation '%s' on line %lu", d,
			        shown(im, in_file->name), in_file->line);
		else if (in_db == NULL && in_file == NULL && !contains(fresh, d))
			g_ptr_array_add(fresh, d);
	}
	g_ptr_array_free(all, TRUE);
	return fresh;
}

/* check_emails - the row's addresses, each once */
static GPtrArray *check_emails(struct import *im, unsigned long line, const char *v)
{
	GPtrArray *all = tokens(im, v, " \t;,", 1), *fresh = g_ptr_array_new();
	for (guint i = 0; i < all->len; i++) {
		char *a = g_ptr_array_index(all, i);
		const char *why = contacts_address_check(a);
		const char *in_db = g_hash_table_lookup(im->db_addresses, a);
		const struct contact *in_file = g_hash_table_lookup(im->addresses, a);
		if (why != NULL)
			problem(im, line, COL_EMAILS, "'%s' %s", shown(im, a), why);
		else if (in_db != NULL)
			problem(im, line, COL_EMAILS, "'%s' already belongs to %s in the database", a,
			        shown(im, in_db));
		else if (in_file != NULL)
			problem(im, line, COL_EMAILS, "'%s' is already given for the contact on line %lu", a,
			        in_file->line);
		else if (!contains(fresh, a))
			g_ptr_array_add(fresh, a);
	}
	g_ptr_array_free(all, TRUE);
	return fresh;
}

/* check_phones - the row's phone numbers, each once */
static GPtrArray *check_phones(struct import *im, unsigned long line, const char *v)
{
	GPtrArray *all = tokens(im, v, ";", 0), *fresh = g_ptr_array_new();
	for (guint i = 0; i < all->len; i++) {
		char *p = g_ptr_array_index(all, i);
		size_t n = utf8_chars(p);
		if (n > PHONE_MAX_CHARS)
			problem(im, line, COL_PHONES, "'%s' is %zu characters long, at most %d are allowed",
			        shown(im, p), n, PHONE_MAX_CHARS);
		else if (strpbrk(p, "0123456789") == NULL)
			problem(im, line, COL_PHONES, "'%s' is not a phone number: it has no digit",
			        shown(im, p));
		else if (!contains(fresh, p))
			g_ptr_array_add(fresh, p);
	}
	g_ptr_array_free(all, TRUE);
	return fresh;
}

/* check_row - check one data row; when it has no problem, add what it defines */
static void check_row(struct import *im, const struct csv_record *rec)
{
	size_t before = im->n_problems;
	unsigned long line = rec->line;
	char *v[COL_COUNT];
	int bad[COL_COUNT], given[COL_COUNT];

	if (rec->n_fields != im->n_header) {
		problem(im, line, -1, "%zu field%s, but the header has %zu columns", rec->n_fields,
		        rec->n_fields == 1 ? "" : "s", im->n_header);
		return;
	}
	/* given: there is a value, good or bad; a bad one is reported once, not
	 * again as missing */
	for (int c = 0; c < COL_COUNT; c++) {
		v[c] = field_value(im, rec, c, &bad[c]);
		given[c] = v[c] != NULL || bad[c];
	}
	char *name = v[COL_ORGANISATION];
	int has_person = given[COL_FIRST_NAME] || given[COL_LAST_NAME] || given[COL_EMAILS];
	int has_contact = has_person || given[COL_SALUTATION] || given[COL_PHONES];
	const char *attr[N_ATTR];
	for (size_t a = 0; a < N_ATTR; a++)
		attr[a] = v[org_attr_cols[a]];

	struct org *o = NULL;
	const struct db_org *db = NULL;
	if (bad[COL_ORGANISATION]) {
		/* reported; its attributes cannot be compared with anything */
	} else if (name == NULL) {
		for (size_t a = 0; a < N_ATTR; a++)
			if (attr[a] != NULL)
				problem(im, line, (int)org_attr_cols[a],
				        "is given, but the row names no organisation");
		if (v[COL_DOMAINS] != NULL)
			problem(im, line, COL_DOMAINS, "is given, but the row names no organisation");
		if (!has_person)
			problem(im, line, -1,
			        "the row names no organisation, no contact name and no mail address");
	} else {
		o = g_hash_table_lookup(im->orgs, name);
		db = o != NULL ? o->db : g_hash_table_lookup(im->db_orgs, name);
		if (o == NULL && db != NULL && db->same_name > 1)
			problem(
			    im, line, COL_ORGANISATION,
			    "%u organisations in the database are called '%s': the import cannot tell which"
			    " one is meant",
			    db->same_name, shown(im, name));
		check_org_attrs(im, line, o, db, name, attr);
	}
	GPtrArray *domains = check_domains(im, line, name ? v[COL_DOMAINS] : NULL, o, db);
	GPtrArray *emails = check_emails(im, line, v[COL_EMAILS]);
	GPtrArray *phones = check_phones(im, line, v[COL_PHONES]);
	if (im->n_problems != before) {
		g_ptr_array_free(domains, TRUE);
		g_ptr_array_free(emails, TRUE);
		g_ptr_array_free(phones, TRUE);
		return;
	}

	if (name != NULL) {
		if (o == NULL) {
			o = g_new0(struct org, 1);
			o->name = name;
			o->db = db;
			o->id = db ? db->id : 0;
			o->line = line;
			o->domains = g_ptr_array_new();
			g_hash_table_insert(im->orgs, name, o);
			g_ptr_array_add(im->org_list, o);
		}
		for (size_t a = 0; a < N_ATTR; a++)
			if (attr[a] != NULL && o->attr[a] == NULL) {
				o->attr[a] = attr[a];
				o->attr_line[a] = line;
			}
		for (guint i = 0; i < domains->len; i++) {
			g_ptr_array_add(o->domains, g_ptr_array_index(domains, i));
			g_hash_table_insert(im->domains, g_ptr_array_index(domains, i), o);
		}
	}
	g_ptr_array_free(domains, TRUE);
	if (!has_contact) {
		g_ptr_array_free(emails, TRUE);
		g_ptr_array_free(phones, TRUE);
		return;
	}
	struct contact *c = g_new0(struct contact, 1);
	c->line = line;
	c->org = o;
	c->salutation = v[COL_SALUTATION];
	c->first_name = v[COL_FIRST_NAME];
	c->last_name = v[COL_LAST_NAME];
	c->emails = emails;
	c->phones = phones;
	for (guint i = 0; i < emails->len; i++)
		g_hash_table_insert(im->addresses, g_ptr_array_index(emails, i), c);
	g_ptr_array_add(im->contacts, c);
}

/* read_rows - the header, then every row; 0 when the file could be read to its end */
static int read_rows(struct import *im, const char *data, size_t len)
{
	struct csv_limits lim = {CONTACTS_RECORD_MAX, CONTACTS_FIELD_MAX, 1000, 2 * CONTACTS_ROWS_MAX + 2};
	struct csv_reader *r = csv_reader_new(data, len, &lim);
	struct csv_record rec;
	const char *error;
	int rc, header = 0;

	if (r == NULL) {
		problem(im, 0, -1, "out of memory");
		return -1;
	}
	while ((rc = csv_reader_next(r, &rec, &error)) == 1) {
		if (rec.n_fields == 1 && rec.lengths[0] == 0)
			continue; /* an empty line */
		if (!header) {
			header = 1;
			if (read_header(im, &rec) < 0)
				break;
			continue;
		}
		if (++im->rows > CONTACTS_ROWS_MAX) {
			problem(im, rec.line, -1, "more than %d rows: split the file", CONTACTS_ROWS_MAX);
			break;
		}
		check_row(im, &rec);
	}
	if (rc < 0)
		problem(im, csv_reader_error_line(r), -1, "%s; the rest of the file is not read", error);
	else if (!header)
		problem(im, 1, -1, "the file has no header row naming the columns");
	csv_reader_free(&r);
	return im->n_problems == 0 ? 0 : -1;
}

/* --- writing ------------------------------------------------------------------------ */

/* id_text - a database id as a parameter, in the pool */
static char *id_text(struct import *im, long long id)
{
	char buf[24];
	if (id <= 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%lld", id);
	return g_string_chunk_insert(im->pool, buf);
}

/* run_arrays - one statement whose parameters are arrays of n items each */
static PGresult *run_arrays(PGconn *conn, const char *sql, const char **const *cols, int n_cols, size_t n,
                            ExecStatusType want, char *err, size_t errlen)
{
	char *lits[8] = {NULL};
	PGresult *res = NULL;
	int i;
	for (i = 0; i < n_cols; i++)
		if ((lits[i] = db_array_literal(cols[i], n)) == NULL)
			break;
	if (i < n_cols) {
		snprintf(err, errlen, "out of memory");
	} else {
		res = PQexecParams(conn, sql, n_cols, NULL, (const char *const *)lits, NULL, NULL, 0);
		if (db_result_ok(res, want, conn, err, errlen) < 0) {
			PQclear(res);
			res = NULL;
		}
	}
	for (i = 0; i < n_cols; i++)
		free(lits[i]);
	return res;
}

/* Counts of what was written. */
struct import_counts {
	size_t organisations, contacts, addresses, domains, phones, extended;
};

/* write_orgs - the new organisations, then every new domain */
static int write_orgs(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen)
{
	guint len = im->org_list->len;
	const char **cols[6];
	size_t k = 0;
	for (int c = 0; c < 6; c++)
		cols[c] = g_new0(const char *, len ? len : 1);
	for (guint i = 0; i < len; i++) {
		struct org *o = g_ptr_array_index(im->org_list, i);
		if (o->db != NULL) {
			n->extended += o->domains->len > 0;
			continue;
		}
		cols[0][k] = o->name;
		cols[1][k] = o->attr[0] ? o->attr[0] : "customer";
		cols[2][k] = o->attr[1] && strcmp(o->attr[1], "yes") == 0 ? "true" : "false";
		for (int a = 2; a < 5; a++)
			cols[a + 1][k] = o->attr[a];
		k++;
	}
	int rc = 0;
	if (k > 0) {
		PGresult *res = run_arrays(conn, SQL_ADD_ORGS, cols, 6, k, PGRES_TUPLES_OK, err, errlen);
		if (res == NULL) {
			rc = -1;
		} else {
			for (int r = 0; r < PQntuples(res); r++) {
				struct org *o = g_hash_table_lookup(im->orgs, PQgetvalue(res, r, 1));
				if (o != NULL)
					o->id = g_ascii_strtoll(PQgetvalue(res, r, 0), NULL, 10);
			}
			PQclear(res);
		}
		n->organisations = k;
	}
	for (int c = 0; c < 6; c++)
		g_free(cols[c]);
	if (rc < 0)
		return -1;

	GPtrArray *dom = g_ptr_array_new(), *owner = g_ptr_array_new();
	for (guint i = 0; i < len; i++) {
		struct org *o = g_ptr_array_index(im->org_list, i);
		for (guint d = 0; d < o->domains->len; d++) {
			g_ptr_array_add(dom, g_ptr_array_index(o->domains, d));
			g_ptr_array_add(owner, id_text(im, o->id));
		}
	}
	if (dom->len > 0) {
		const char **dcols[2] = {(const char **)dom->pdata, (const char **)owner->pdata};
		PGresult *res =
		    run_arrays(conn, SQL_ADD_DOMAINS, dcols, 2, dom->len, PGRES_COMMAND_OK, err, errlen);
		rc = res == NULL ? -1 : 0;
		PQclear(res);
		n->domains = dom->len;
	}
	g_ptr_array_free(dom, TRUE);
	g_ptr_array_free(owner, TRUE);
	return rc;
}

/* write_contacts - the contacts with ids taken first, then their addresses and phone numbers */
static int write_contacts(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen)
{
	guint len = im->contacts->len;
	if (len == 0)
		return 0;
	char count[24];
	snprintf(count, sizeof(count), "%u", len);
	const char *p[1] = {count};
	PGresult *res = db_query(conn, SQL_CONTACT_IDS, 1, p, err, errlen);
	if (res == NULL)
		return -1;
	if ((guint)PQntuples(res) != len) {
		snprintf(err, errlen, "the contacts' sequence gave %d ids for %u contacts", PQntuples(res),
		         len);
		PQclear(res);
		return -1;
	}
	const char **cols[5];
	for (int c = 0; c < 5; c++)
		cols[c] = g_new0(const char *, len);
	GPtrArray *addr = g_ptr_array_new(), *addr_owner = g_ptr_array_new();
	GPtrArray *phone = g_ptr_array_new(), *phone_owner = g_ptr_array_new();
	for (guint i = 0; i < len; i++) {
		const struct contact *c = g_ptr_array_index(im->contacts, i);
		char *id = g_string_chunk_insert(im->pool, PQgetvalue(res, (int)i, 0));
		cols[0][i] = id;
		cols[1][i] = c->org ? id_text(im, c->org->id) : NULL;
		cols[2][i] = c->salutation;
		cols[3][i] = c->first_name;
		cols[4][i] = c->last_name;
		for (guint k = 0; k < c->emails->len; k++) {
			g_ptr_array_add(addr, g_ptr_array_index(c->emails, k));
			g_ptr_array_add(addr_owner, id);
		}
		for (guint k = 0; k < c->phones->len; k++) {
			g_ptr_array_add(phone_owner, id);
			g_ptr_array_add(phone, g_ptr_array_index(c->phones, k));
		}
	}
	PQclear(res);
	int rc = 0;
	res = run_arrays(conn, SQL_ADD_CONTACTS, cols, 5, len, PGRES_COMMAND_OK, err, errlen);
	if (res == NULL)
		rc = -1;
	PQclear(res);
	if (rc == 0 && addr->len > 0) {
		const char **acols[2] = {(const char **)addr->pdata, (const char **)addr_owner->pdata};
		res = run_arrays(conn, SQL_ADD_ADDRESSES, acols, 2, addr->len, PGRES_COMMAND_OK, err, errlen);
		rc = res == NULL ? -1 : 0;
		PQclear(res);
	}
	if (rc == 0 && phone->len > 0) {
		const char **pcols[2] = {(const char **)phone_owner->pdata, (const char **)phone->pdata};
		res = run_arrays(conn, SQL_ADD_PHONES, pcols, 2, phone->len, PGRES_COMMAND_OK, err, errlen);
		rc = res == NULL ? -1 : 0;
		PQclear(res);
	}
	n->contacts = len;
	n->addresses = addr->len;
	n->phones = phone->len;
	for (int c = 0; c < 5; c++)
		g_free(cols[c]);
	g_ptr_array_free(addr, TRUE);
	g_ptr_array_free(addr_owner, TRUE);
	g_ptr_array_free(phone, TRUE);
	g_ptr_array_free(phone_owner, TRUE);
	return rc;
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
	if (read_rows(&im, data, len) < 0) {
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
	if (write_orgs(&im, conn, &n, res->err, sizeof(res->err)) < 0 ||
	    write_contacts(&im, conn, &n, res->err, sizeof(res->err)) < 0)
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
