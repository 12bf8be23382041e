/* contacts-rows.c - the address book import's header and rows, each
 * checked against the database and against the rows before it
 * (contacts-imp.h). A row with a problem adds nothing to what later rows
 * are checked against, so one mistake is reported once, on its own line.
 */
#include "contacts-imp.h"

#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "csv.h"
#include "utf8.h"

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
			ci_problem(im, rec->line, -1, "column %zu of the header has no name", i + 1);
		else if (col < 0)
			ci_problem(im, rec->line, -1, "unknown column '%s' (the columns are %s)",
			           ci_shown(im, rec->fields[i]), known->str);
		else if (im->field_of_col[col] >= 0)
			ci_problem(im, rec->line, -1, "column '%s' appears twice in the header", name);
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
		ci_problem(im, rec->line, col, "is not valid UTF-8 (save the file as UTF-8)");
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			ci_problem(im, rec->line, col, "contains a line break or another control character");
			return NULL;
		}
	char *v = g_string_chunk_insert_len(im->pool, s, (gssize)len);
	size_t max = contacts_column_max_chars[col], n = ci_utf8_chars(v);
	if (max > 0 && n > max) {
		ci_problem(im, rec->line, col, "'%s' is %zu characters long, at most %zu are allowed",
		           ci_shown(im, v), n, max);
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
			ci_problem(im, line, COL_KIND, "'%s' is not customer, supplier or other",
			           ci_shown(im, attr[0]));
			attr[0] = NULL;
		} else {
			attr[0] = g_string_chunk_insert_const(im->pool, k);
		}
		g_free(k);
	}
	if (attr[1] != NULL) {
		int vip = contacts_parse_vip(attr[1]);
		if (vip < 0)
			ci_problem(im, line, COL_VIP, "'%s' is not yes, no, true, false, 1 or 0",
			           ci_shown(im, attr[1]));
		attr[1] = vip < 0 ? NULL : vip ? "yes" : "no";
	}
	for (size_t a = 0; a < N_ATTR; a++) {
		if (attr[a] == NULL)
			continue;
		if (o != NULL && o->attr[a] != NULL && strcmp(o->attr[a], attr[a]) != 0)
			ci_problem(im, line, (int)ci_org_attr_cols[a],
			           "'%s' differs from '%s' given for '%s' on line %lu", ci_shown(im, attr[a]),
			           ci_shown(im, o->attr[a]), ci_shown(im, name), o->attr_line[a]);
		else if (db != NULL && (db->attr[a] == NULL || strcmp(db->attr[a], attr[a]) != 0))
			ci_problem(im, line, (int)ci_org_attr_cols[a],
			           "'%s' differs from the database, where organisation %lld '%s' has %s%s%s;"
			           " import does not change existing organisations",
			           ci_shown(im, attr[a]), db->id, ci_shown(im, name), db->attr[a] ? "'" : "",
			           db->attr[a] ? ci_shown(im, db->attr[a]) : "none", db->attr[a] ? "'" : "");
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
			ci_problem(im, line, COL_DOMAINS, "'%s' %s", ci_shown(im, d), why);
		else if (has_suffix_in(im->freemail, d, 1))
			ci_problem(im, line, COL_DOMAINS,
			           "'%s' is a free-mail domain: its addresses belong to unrelated people,"
			           " so it cannot stand for an organisation",
			           d);
		else if (has_suffix_in(im->own, d, 0))
			ci_problem(im, line, COL_DOMAINS, "'%s' is one of our own domains", d);
		else if (in_db != NULL && in_db != db)
			ci_problem(im, line, COL_DOMAINS,
			           "'%s' already belongs to organisation %lld '%s' in the database", d,
			           in_db->id, ci_shown(im, in_db->name));
		else if (in_file != NULL && in_file != o)
			ci_problem(im, line, COL_DOMAINS,
			           "'%s' is already given for organisation '%s' on line %lu", d,
			           ci_shown(im, in_file->name), in_file->line);
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
			ci_problem(im, line, COL_EMAILS, "'%s' %s", ci_shown(im, a), why);
		else if (in_db != NULL)
			ci_problem(im, line, COL_EMAILS, "'%s' already belongs to %s in the database", a,
			           ci_shown(im, in_db));
		else if (in_file != NULL)
			ci_problem(im, line, COL_EMAILS, "'%s' is already given for the contact on line %lu",
			           a, in_file->line);
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
		size_t n = ci_utf8_chars(p);
		if (n > PHONE_MAX_CHARS)
			ci_problem(im, line, COL_PHONES,
			           "'%s' is %zu characters long, at most %d are allowed", ci_shown(im, p), n,
			           PHONE_MAX_CHARS);
		else if (strpbrk(p, "0123456789") == NULL)
			ci_problem(im, line, COL_PHONES, "'%s' is not a phone number: it has no digit",
			           ci_shown(im, p));
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
		ci_problem(im, line, -1, "%zu field%s, but the header has %zu columns", rec->n_fields,
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
		attr[a] = v[ci_org_attr_cols[a]];

	struct org *o = NULL;
	const struct db_org *db = NULL;
	if (bad[COL_ORGANISATION]) {
		/* reported; its attributes cannot be compared with anything */
	} else if (name == NULL) {
		for (size_t a = 0; a < N_ATTR; a++)
			if (attr[a] != NULL)
				ci_problem(im, line, (int)ci_org_attr_cols[a],
				           "is given, but the row names no organisation");
		if (v[COL_DOMAINS] != NULL)
			ci_problem(im, line, COL_DOMAINS, "is given, but the row names no organisation");
		if (!has_person)
			ci_problem(im, line, -1,
			           "the row names no organisation, no contact name and no mail address");
	} else {
		o = g_hash_table_lookup(im->orgs, name);
		db = o != NULL ? o->db : g_hash_table_lookup(im->db_orgs, name);
		if (o == NULL && db != NULL && db->same_name > 1)
			ci_problem(
			    im, line, COL_ORGANISATION,
			    "%u organisations in the database are called '%s': the import cannot tell which"
			    " one is meant",
			    db->same_name, ci_shown(im, name));
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
int ci_read_rows(struct import *im, const char *data, size_t len)
{
	struct csv_limits lim = {CONTACTS_RECORD_MAX, CONTACTS_FIELD_MAX, 1000, 2 * CONTACTS_ROWS_MAX + 2};
	struct csv_reader *r = csv_reader_new(data, len, &lim);
	struct csv_record rec;
	const char *error;
	int rc, header = 0;

	if (r == NULL) {
		ci_problem(im, 0, -1, "out of memory");
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
			ci_problem(im, rec.line, -1, "more than %d rows: split the file", CONTACTS_ROWS_MAX);
			break;
		}
		check_row(im, &rec);
	}
	if (rc < 0)
		ci_problem(im, csv_reader_error_line(r), -1, "%s; the rest of the file is not read", error);
	else if (!header)
		ci_problem(im, 1, -1, "the file has no header row naming the columns");
	csv_reader_free(&r);
	return im->n_problems == 0 ? 0 : -1;
}
