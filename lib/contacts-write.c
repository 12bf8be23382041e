/* contacts-write.c - write a checked address book import: one INSERT per
 * table for the whole file (arrays through unnest()), contacts with their
 * ids taken from the sequence first so that their addresses and phone
 * numbers can name them (contacts-imp.h).
 */
#include "contacts-imp.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

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
/* write_orgs - the new organisations, then every new domain */
int ci_write_orgs(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen)
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
int ci_write_contacts(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen)
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
