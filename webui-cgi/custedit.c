/* custedit.c - create and edit organisations and contacts: GET /o/new,
 * POST /o, GET and POST /o/ID/edit, and the same under /p/.
 *
 * Agents, leads and admins may; auditors get 403. A save is one
 * transaction: the row locked, the fields and the lists (domains, mail
 * addresses, phone numbers) written, and one audit row
 * ("organisation.create", "contact.edit", ...) with the whole record
 * before and after, as the database sees it (jsonb_build_object).
 * A domain or address that belongs to another record is 409.
 */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "customers.h"
#include "custform.h"
#include "db.h"
#include "respond.h"

#define SQL_USERS                                                                                            \
	"SELECT id, display_name FROM mailroom.users WHERE active AND role <> 'auditor' ORDER BY "           \
	"display_name, id"
#define SQL_OWNER_OK "SELECT 1 FROM mailroom.users WHERE id = $1 AND active AND role <> 'auditor'"
#define SQL_ORG_OK   "SELECT 1 FROM mailroom.organisations WHERE id = $1 AND merged_into IS NULL"

/* a list kept in its own table: which field, how it is written */
struct cf_list {
	size_t field;
	int lower;
	const char *conflict, *remove, *add; /* $1 the record's id, $2 the text[] */
};

/* what differs between organisations and contacts */
struct kind_sql {
	const struct cf_kind *k;
	const char *load, *snap, *insert, *update;
	size_t n_cols;  /* columns of insert/update; update's id is $n_cols+1 */
	size_t owner;   /* the owner_id field */
	long org_field; /* the organisation_id field, or -1 */
	struct cf_list lists[2];
	size_t n_lists;
};

static const struct kind_sql org_sql = {
    &cf_org,
    "SELECT name, kind, CASE WHEN vip THEN '1' ELSE '' END, coalesce(owner_id::text, ''),"
    " coalesce(street, ''), coalesce(postal_code, ''), coalesce(city, ''), coalesce(country, ''),"
    " coalesce(phone, ''), coalesce(website, ''), coalesce((SELECT string_agg(domain, E'\\n' ORDER BY domain)"
    "  FROM mailroom.organisation_domains WHERE organisation_id = o.id), '')"
    " FROM mailroom.organisations o WHERE id = $1 AND merged_into IS NULL",
    "SELECT jsonb_build_object('name', name, 'kind', kind, 'vip', vip, 'owner_id', owner_id, 'street', "
    "street,"
    " 'postal_code', postal_code, 'city', city, 'country', country, 'phone', phone, 'website', website,"
    " 'active', active, 'domains', (SELECT coalesce(jsonb_agg(domain ORDER BY domain), '[]')"
    "  FROM mailroom.organisation_domains WHERE organisation_id = o.id))::text"
    " FROM mailroom.organisations o WHERE id = $1 AND merged_into IS NULL FOR UPDATE",
    "INSERT INTO mailroom.organisations (name, kind, vip, owner_id, street, postal_code, city, country, "
    "phone,"
    " website) VALUES ($1, $2, $3::text = '1', nullif($4, '')::bigint, nullif($5, ''), nullif($6, ''),"
    " nullif($7, ''), nullif($8, ''), nullif($9, ''), nullif($10, '')) RETURNING id",
    "UPDATE mailroom.organisations SET name = $1, kind = $2, vip = $3::text = '1',"
    " owner_id = nullif($4, '')::bigint, street = nullif($5, ''), postal_code = nullif($6, ''),"
    " city = nullif($7, ''), country = nullif($8, ''), phone = nullif($9, ''), website = nullif($10, ''),"
    " updated_at = now() WHERE id = $11",
    10,
    3,
    -1,
    {{10, 1,
      "SELECT domain FROM mailroom.organisation_domains WHERE domain = ANY($2::text[])"
      " AND organisation_id <> $1 LIMIT 1",
      "DELETE FROM mailroom.organisation_domains WHERE organisation_id = $1 AND domain <> ALL($2::text[])",
      "INSERT INTO mailroom.organisation_domains (domain, organisation_id)"
      " SELECT DISTINCT d, $1::bigint FROM unnest($2::text[]) d ON CONFLICT DO NOTHING"}},
    1,
};

static const struct kind_sql contact_sql = {
    &cf_contact,
    "SELECT coalesce(salutation, ''), coalesce(first_name, ''), coalesce(last_name, ''),"
    " coalesce(position, ''), coalesce(organisation_id::text, ''), coalesce(owner_id::text, ''),"
    " coalesce((SELECT string_agg(address, E'\\n' ORDER BY address) FROM mailroom.contact_addresses"
    "  WHERE contact_id = c.id), ''),"
    " coalesce((SELECT string_agg(phone, E'\\n' ORDER BY phone) FROM mailroom.contact_phones"
    "  WHERE contact_id = c.id), '')"
    " FROM mailroom.contacts c WHERE id = $1 AND merged_into IS NULL",
    "SELECT jsonb_build_object('salutation', salutation, 'first_name', first_name, 'last_name', last_name,"
    " 'position', position, 'organisation_id', organisation_id, 'owner_id', owner_id, 'active', active,"
    " 'emails', (SELECT coalesce(jsonb_agg(address ORDER BY address), '[]') FROM mailroom.contact_addresses"
    "  WHERE contact_id = c.id), 'phones', (SELECT coalesce(jsonb_agg(phone ORDER BY phone), '[]')"
    "  FROM mailroom.contact_phones WHERE contact_id = c.id))::text"
    " FROM mailroom.contacts c WHERE id = $1 AND merged_into IS NULL FOR UPDATE",
    "INSERT INTO mailroom.contacts (salutation, first_name, last_name, position, organisation_id, owner_id)"
    " VALUES (nullif($1, ''), nullif($2, ''), nullif($3, ''), nullif($4, ''), nullif($5, '')::bigint,"
    " nullif($6, '')::bigint) RETURNING id",
    "UPDATE mailroom.contacts SET salutation = nullif($1, ''), first_name = nullif($2, ''),"
    " last_name = nullif($3, ''), position = nullif($4, ''), organisation_id = nullif($5, '')::bigint,"
    " owner_id = nullif($6, '')::bigint, updated_at = now() WHERE id = $7",
    6,
    5,
    4,
    {{6, 1,
      "SELECT address FROM mailroom.contact_addresses WHERE address = ANY($2::text[]) AND contact_id <> $1"
      " LIMIT 1",
      "DELETE FROM mailroom.contact_addresses WHERE contact_id = $1 AND address <> ALL($2::text[])",
      "INSERT INTO mailroom.contact_addresses (address, contact_id)"
      " SELECT DISTINCT a, $1::bigint FROM unnest($2::text[]) a ON CONFLICT DO NOTHING"},
     {7, 0, NULL, "DELETE FROM mailroom.contact_phones WHERE contact_id = $1 AND phone <> ALL($2::text[])",
      "INSERT INTO mailroom.contact_phones (contact_id, phone)"
      " SELECT DISTINCT $1::bigint, p FROM unnest($2::text[]) p ON CONFLICT DO NOTHING"}},
    2,
};

/* one save in progress */
struct save {
	struct ctx *c;
	PGconn *conn;
	struct session s;
	const struct kind_sql *ks;
	const char *v[CF_FIELDS_MAX];
	char id[24];
	char msg[300];
	char err[1024];
};

/* users_list - the possible owners, or NULL (the form then shows a number field) */
static PGresult *users_list(PGconn *conn)
{
	char err[256];
	return db_query(conn, SQL_USERS, 0, NULL, err, sizeof(err));
}

/* form_page - the form again (or first) with the owners; closes conn */
static int form_page(struct ctx *c, PGconn **conn, const struct session *s, const struct kind_sql *ks,
                     const char *id, const char *const *v, const char *msg, const char *status)
{
	PGresult *users = users_list(*conn);
	db_close(conn);
	int r = cf_page(c, s, ks->k, id, v, users, msg, status);
	PQclear(users);
	return r;
}

/* exists - does sql with one parameter find a row? 1, 0, -1 */
static int exists(struct save *sv, const char *sql, const char *p1)
{
	const char *p[1] = {p1};
	PGresult *r = db_query(sv->conn, sql, 1, p, sv->err, sizeof(sv->err));
	if (r == NULL)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

/* snapshot - the record as JSON text into *out (NULL: not there); 0 or -1 */
static int snapshot(struct save *sv, char **out)
{
	const char *p[1] = {sv->id};
	PGresult *r = db_query(sv->conn, sv->ks->snap, 1, p, sv->err, sizeof(sv->err));
	*out = NULL;
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1)
		*out = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* write_lists - the record's lists as the form has them: 0, 409 (with
 * msg) when a value belongs to another record, -1 */
static int write_lists(struct save *sv)
{
	for (size_t i = 0; i < sv->ks->n_lists; i++) {
		const struct cf_list *l = &sv->ks->lists[i];
		char *arr = cf_lines_array(sv->v[l->field], l->lower);
		const char *p[2] = {sv->id, arr};
		PGresult *r;
		if (arr == NULL)
			return snprintf(sv->err, sizeof(sv->err), "out of memory"), -1;
		if (l->conflict != NULL) {
			r = db_query(sv->conn, l->conflict, 2, p, sv->err, sizeof(sv->err));
			if (r == NULL || PQntuples(r) > 0) {
				if (r != NULL)
					snprintf(sv->msg, sizeof(sv->msg),
					         "%s belongs to another record already.",
					         PQgetvalue(r, 0, 0));
				PQclear(r);
				free(arr);
				return r == NULL ? -1 : 409;
			}
			PQclear(r);
		}
		int rc = db_command(sv->conn, l->remove, 2, p, sv->err, sizeof(sv->err)) < 0 ||
		                 db_command(sv->conn, l->add, 2, p, sv->err, sizeof(sv->err)) < 0
		             ? -1
		             : 0;
		free(arr);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* save_tx - the transaction of one save (create when *sv->id is empty):
 * 0, 400/404/409 (msg filled for 400 and 409), -1 */
static int save_tx(struct save *sv)
{
	const struct kind_sql *ks = sv->ks;
	const char *owner = sv->v[ks->owner];
	char *before = NULL, *after = NULL, action[48], object[48];
	int creating = sv->id[0] == '\0', rc;
	if (owner[0] != '\0' && (rc = exists(sv, SQL_OWNER_OK, owner)) <= 0) {
		snprintf(sv->msg, sizeof(sv->msg), "Owner: no such active user.");
		return rc < 0 ? -1 : 400;
	}
	if (ks->org_field >= 0 && sv->v[ks->org_field][0] != '\0' &&
	    (rc = exists(sv, SQL_ORG_OK, sv->v[ks->org_field])) <= 0) {
		snprintf(sv->msg, sizeof(sv->msg), "Organisation: no such organisation.");
		return rc < 0 ? -1 : 400;
	}
	if (!creating) {
		if (snapshot(sv, &before) < 0)
			return -1;
		if (before == NULL)
			return 404;
	}
	const char *p[CF_FIELDS_MAX + 1];
	for (size_t i = 0; i < ks->n_cols; i++)
		p[i] = sv->v[i];
	p[ks->n_cols] = sv->id;
	if (creating) {
		PGresult *r = db_query(sv->conn, ks->insert, (int)ks->n_cols, p, sv->err, sizeof(sv->err));
		if (r == NULL)
			return -1;
		snprintf(sv->id, sizeof(sv->id), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
	} else if (db_command(sv->conn, ks->update, (int)ks->n_cols + 1, p, sv->err, sizeof(sv->err)) < 0) {
		free(before);
		return -1;
	}
	if ((rc = write_lists(sv)) != 0 || (rc = snapshot(sv, &after)) != 0) {
		free(before);
		return rc;
	}
	snprintf(action, sizeof(action), "%s.%s", ks->k->noun, creating ? "create" : "edit");
	snprintf(object, sizeof(object), "%s:%s", ks->k->noun, sv->id);
	rc = 0;
	if ((before == NULL || after == NULL || strcmp(before, after) != 0) &&
	    web_audit(sv->conn, &sv->s, action, object, before, after, sv->err, sizeof(sv->err)) < 0)
		rc = -1;
	free(before);
	free(after);
	return rc;
}

/* save - POST /o, /p, /o/ID/edit, /p/ID/edit */
static int save(struct ctx *c, const struct kind_sql *ks, const char *id)
{
	struct save sv = {.c = c, .ks = ks};
	char formname[32];
	if (id != NULL && !id_ok(id))
		return respond_error(c->out, "404 Not Found");
	snprintf(formname, sizeof(formname), "%s-%s", ks->k->noun, id != NULL ? "edit" : "new");
	if (!web_post_begin(c, formname, &sv.conn, &sv.s))
		return 0;
	if (strcmp(sv.s.role, "auditor") == 0) {
		db_close(&sv.conn);
		return respond_error(c->out, "403 Forbidden");
	}
	snprintf(sv.id, sizeof(sv.id), "%s", id != NULL ? id : "");
	if (cf_read(ks->k, &c->form, sv.v, sv.msg, sizeof(sv.msg)) != NULL)
		return form_page(c, &sv.conn, &sv.s, ks, id, sv.v, sv.msg, "400 Bad Request");
	if (db_command(sv.conn, "BEGIN", 0, NULL, sv.err, sizeof(sv.err)) < 0) {
		db_close(&sv.conn);
		return server_error(c, "customer", sv.err);
	}
	int rc = save_tx(&sv);
	if (rc == 0 && db_command(sv.conn, "COMMIT", 0, NULL, sv.err, sizeof(sv.err)) < 0)
		rc = -1;
	if (rc != 0) {
		char e2[128];
		db_command(sv.conn, "ROLLBACK", 0, NULL, e2, sizeof(e2));
	}
	if (rc == 400 || rc == 409)
		return form_page(c, &sv.conn, &sv.s, ks, id, sv.v, sv.msg,
		                 rc == 400 ? "400 Bad Request" : "409 Conflict");
	db_close(&sv.conn);
	if (rc == 404)
		return respond_error(c->out, "404 Not Found");
	if (rc < 0)
		return server_error(c, "customer", sv.err);
	char path[48];
	snprintf(path, sizeof(path), "/%c/%s", ks->k->letter, sv.id);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

/* show - GET /o/new, /p/new (id NULL) and /o/ID/edit, /p/ID/edit */
static int show(struct ctx *c, const struct kind_sql *ks, const char *id)
{
	struct session s;
	PGconn *conn;
	char err[1024];
	if (id != NULL && !id_ok(id))
		return respond_error(c->out, "404 Not Found");
	if (!web_begin(c, &conn, &s))
		return 0;
	if (strcmp(s.role, "auditor") == 0) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	if (id == NULL)
		return form_page(c, &conn, &s, ks, NULL, NULL, NULL, "200 OK");
	const char *p[1] = {id}, *v[CF_FIELDS_MAX];
	PGresult *r = db_query(conn, ks->load, 1, p, err, sizeof(err));
	if (r == NULL || PQntuples(r) != 1) {
		db_close(&conn);
		PQclear(r);
		return r == NULL ? server_error(c, "customer", err) : respond_error(c->out, "404 Not Found");
	}
	for (size_t i = 0; i < ks->k->n; i++)
		v[i] = PQgetvalue(r, 0, (int)i);
	int rc = form_page(c, &conn, &s, ks, id, v, NULL, "200 OK");
	PQclear(r);
	return rc;
}

int org_new_get(struct ctx *c, const char *arg)
{
	(void)arg;
	return show(c, &org_sql, NULL);
}

int org_create(struct ctx *c, const char *arg)
{
	(void)arg;
	return save(c, &org_sql, NULL);
}

int org_edit_get(struct ctx *c, const char *arg)
{
	return show(c, &org_sql, arg);
}

int org_edit_post(struct ctx *c, const char *arg)
{
	return save(c, &org_sql, arg);
}

int contact_new_get(struct ctx *c, const char *arg)
{
	(void)arg;
	return show(c, &contact_sql, NULL);
}

int contact_create(struct ctx *c, const char *arg)
{
	(void)arg;
	return save(c, &contact_sql, NULL);
}

int contact_edit_get(struct ctx *c, const char *arg)
{
	return show(c, &contact_sql, arg);
}

int contact_edit_post(struct ctx *c, const char *arg)
{
	return save(c, &contact_sql, arg);
}
