/* addrbook.c - load the address book and answer classify's lookups.
 *
 * GLib hash tables (GLib comes with GMime) keyed by lower-case address or
 * domain. Every statement that reads the address book is here.
 */
#include "addrbook.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define SQL_VERSION "SELECT version FROM mailroom.addrbook_version"
#define SQL_CONTACTS                                                                               \
	"SELECT ca.address, c.id, COALESCE(o.id, 0), COALESCE(o.kind, 'other'),"                  \
	" COALESCE(o.vip, false)::int FROM mailroom.contact_addresses ca"                          \
	" JOIN mailroom.contacts c ON c.id = ca.contact_id AND c.active"                           \
	" LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id AND o.active"
#define SQL_DOMAINS                                                                                \
	"SELECT d.domain, o.id, o.kind, o.vip::int FROM mailroom.organisation_domains d"           \
	" JOIN mailroom.organisations o ON o.id = d.organisation_id AND o.active"
#define SQL_OWN "SELECT domain FROM mailroom.own_domains"
#define SQL_FREEMAIL "SELECT domain FROM mailroom.freemail_domains"

struct addrbook {
	long long version;
	GHashTable *contacts; /* address -> struct classify_contact */
	GHashTable *domains;  /* domain -> struct classify_org */
	GHashTable *own;      /* domain -> itself */
	GHashTable *freemail; /* domain -> itself */
};

static enum classify_org_kind kind_of(const char *s)
{
	if (strcmp(s, "customer") == 0)
		return CLASSIFY_ORG_CUSTOMER;
	if (strcmp(s, "supplier") == 0)
		return CLASSIFY_ORG_SUPPLIER;
	return CLASSIFY_ORG_OTHER;
}

static struct addrbook *addrbook_alloc(void)
{
	struct addrbook *ab = calloc(1, sizeof(*ab));
	if (ab == NULL)
		return NULL;
	ab->contacts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	ab->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	ab->own = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ab->freemail = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return ab;
}

/* add_set - a lower-case copy of each value in a set table */
static void add_set(GHashTable *t, const char *v)
{
	char *k = g_ascii_strdown(v, -1);
	g_hash_table_replace(t, k, k);
}

struct addrbook *addrbook_new_empty(const struct mailroom_conf *conf)
{
	struct addrbook *ab = addrbook_alloc();
	if (ab == NULL)
		return NULL;
	for (size_t i = 0; conf != NULL && i < conf->local_domains.count; i++)
		add_set(ab->own, conf->local_domains.items[i]);
	return ab;
}

long long addrbook_version_now(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, SQL_VERSION, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	long long v = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return v;
}

/* load_sets - one-column queries into set tables */
static int load_set(PGconn *conn, const char *sql, GHashTable *t, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, sql, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	for (int r = 0; r < PQntuples(res); r++)
		add_set(t, PQgetvalue(res, r, 0));
	PQclear(res);
	return 0;
}

struct addrbook *addrbook_load(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	struct addrbook *ab = addrbook_new_empty(conf);
	PGresult *res = NULL;
	if (ab == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Read the version first: a change during the load makes the next
	 * refresh load again rather than keep a stale book. */
	if ((ab->version = addrbook_version_now(conn, err, errlen)) < 0)
		goto fail;
	if ((res = db_query(conn, SQL_CONTACTS, 0, NULL, err, errlen)) == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		struct classify_contact *c = g_new0(struct classify_contact, 1);
		c->contact_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
		c->organisation_id = strtoll(PQgetvalue(res, r, 2), NULL, 10);
		c->org_kind = kind_of(PQgetvalue(res, r, 3));
		c->vip = PQgetvalue(res, r, 4)[0] == '1';
		g_hash_table_replace(ab->contacts, g_ascii_strdown(PQgetvalue(res, r, 0), -1), c);
	}
	PQclear(res);
	if ((res = db_query(conn, SQL_DOMAINS, 0, NULL, err, errlen)) == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		struct classify_org *o = g_new0(struct classify_org, 1);
		o->organisation_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
		o->org_kind = kind_of(PQgetvalue(res, r, 2));
		o->vip = PQgetvalue(res, r, 3)[0] == '1';
		g_hash_table_replace(ab->domains, g_ascii_strdown(PQgetvalue(res, r, 0), -1), o);
	}
	PQclear(res);
	res = NULL;
	if (load_set(conn, SQL_OWN, ab->own, err, errlen) < 0 ||
	    load_set(conn, SQL_FREEMAIL, ab->freemail, err, errlen) < 0)
		goto fail;
	return ab;
fail:
	PQclear(res);
	addrbook_free(&ab);
	return NULL;
}

long long addrbook_version(const struct addrbook *ab)
{
	return ab->version;
}

static int lookup_address(void *ctx, const char *addr, struct classify_contact *out)
{
	struct addrbook *ab = ctx;
	char *k = g_ascii_strdown(addr, -1);
	const struct classify_contact *c = g_hash_table_lookup(ab->contacts, k);
	g_free(k);
	if (c == NULL)
		return 0;
	*out = *c;
	return 1;
}

static int lookup_domain(void *ctx, const char *domain, struct classify_org *out)
{
	struct addrbook *ab = ctx;
	char *k = g_ascii_strdown(domain, -1);
	const struct classify_org *o = g_hash_table_lookup(ab->domains, k);
	g_free(k);
	if (o == NULL)
		return 0;
	*out = *o;
	return 1;
}

static int in_set(GHashTable *t, const char *v)
{
	char *k = g_ascii_strdown(v, -1);
	int found = g_hash_table_contains(t, k);
	g_free(k);
	return found;
}

static int is_freemail(void *ctx, const char *domain)
{
	return in_set(((struct addrbook *)ctx)->freemail, domain);
}

static int is_own_domain(void *ctx, const char *domain)
{
	return in_set(((struct addrbook *)ctx)->own, domain);
}

struct classify_addrbook addrbook_ops(struct addrbook *ab)
{
	struct classify_addrbook ops = {lookup_address, lookup_domain, is_freemail, is_own_domain, ab};
	return ops;
}

void addrbook_sizes(const struct addrbook *ab, size_t *addresses, size_t *domains)
{
	*addresses = g_hash_table_size(ab->contacts);
	*domains = g_hash_table_size(ab->domains);
}

void addrbook_free(struct addrbook **abp)
{
	struct addrbook *ab = *abp;
	if (ab == NULL)
		return;
	g_hash_table_destroy(ab->contacts);
	g_hash_table_destroy(ab->domains);
	g_hash_table_destroy(ab->own);
	g_hash_table_destroy(ab->freemail);
	free(ab);
	*abp = NULL;
}
