/* custmerge.c - POST /o/ID/merge (into=ID), POST /o/ID/active (active=1/0)
 * and the same under /p/: merge a duplicate into the record that stays,
 * deactivate or reactivate. Admins and leads only (others 403).
 *
 * The merge itself is mailroom.web_customer_merge (schema/026): it moves
 * rows the acting user may not see, so it runs as the owner. The audit
 * row is written here in the same transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "customers.h"
#include "db.h"
#include "respond.h"

#define SQL_MERGE "SELECT mailroom.web_customer_merge($1, $2::bigint, $3::bigint)::text"
#define SQL_ACTIVE_ORG                                                                                       \
	"UPDATE mailroom.organisations n SET active = $2::boolean, updated_at = now()"                       \
	" FROM (SELECT id, active FROM mailroom.organisations WHERE id = $1 AND merged_into IS NULL FOR "    \
	"UPDATE) o"                                                                                          \
	" WHERE n.id = o.id RETURNING o.active::text"
#define SQL_ACTIVE_CONTACT                                                                                   \
	"UPDATE mailroom.contacts n SET active = $2::boolean, updated_at = now()"                            \
	" FROM (SELECT id, active FROM mailroom.contacts WHERE id = $1 AND merged_into IS NULL FOR UPDATE) " \
	"o"                                                                                                  \
	" WHERE n.id = o.id RETURNING o.active::text"

/* lead_begin - web_post_begin, then the role check (admin or lead); 1 to go on */
static int lead_begin(struct ctx *c, const char *form, const char *id, PGconn **conn, struct session *s)
{
	if (!id_ok(id))
		return respond_error(c->out, "404 Not Found"), 0;
	if (!web_post_begin(c, form, conn, s))
		return 0;
	if (strcmp(s->role, "admin") != 0 && strcmp(s->role, "lead") != 0) {
		db_close(conn);
		return respond_error(c->out, "403 Forbidden"), 0;
	}
	return 1;
}

/* finish - COMMIT when rc is 0, else ROLLBACK; close; the answer */
static int finish(struct ctx *c, PGconn **conn, int rc, const char *err, char kind, const char *id)
{
	char e2[256];
	if (rc == 0 && db_command(*conn, "COMMIT", 0, NULL, e2, sizeof(e2)) < 0) {
		err = e2;
		rc = -1;
	}
	if (rc != 0)
		db_command(*conn, "ROLLBACK", 0, NULL, e2, sizeof(e2));
	db_close(conn);
	if (rc < 0)
		return server_error(c, "customer", err);
	if (rc == 400)
		return respond_error(c->out, "400 Bad Request");
	if (rc == 404)
		return respond_error(c->out, "404 Not Found");
	char path[48];
	snprintf(path, sizeof(path), "/%c/%s", kind, id);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

/* audit - the audit row "NOUN.VERB" on NOUN:ID with before b and after a
 * (both released here); -1 with err set when it fails */
static int audit(PGconn *conn, const struct session *s, const char *noun, const char *verb, const char *id,
                 json_t *b, json_t *a, char *err, size_t errlen)
{
	char action[32], object[48];
	char *bs = b != NULL ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *as = a != NULL ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc = 0;
	snprintf(action, sizeof(action), "%s.%s", noun, verb);
	snprintf(object, sizeof(object), "%s:%s", noun, id);
	if (bs == NULL || as == NULL)
		rc = -1, snprintf(err, errlen, "out of memory");
	else if (web_audit(conn, s, action, object, bs, as, err, errlen) < 0)
		rc = -1;
	free(bs);
	free(as);
	json_decref(a);
	json_decref(b);
	return rc;
}

/* merge - POST /o/ID/merge, /p/ID/merge; 303 to the record that stays */
static int merge(struct ctx *c, char kind, const char *id)
{
	const char *into = form_get(&c->form, "into");
	const char *noun = kind == 'o' ? "organisation" : "contact";
	struct session s;
	PGconn *conn;
	char err[1024];
	if (!lead_begin(c, "customer-merge", id, &conn, &s))
		return 0;
	if (into == NULL || !id_ok(into) || strcmp(into, id) == 0) {
		db_close(&conn);
		return respond_error(c->out, "400 Bad Request");
	}
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "merge", err);
	}
	const char kinds[2] = {kind, '\0'}, *p[3] = {kinds, id, into};
	PGresult *r = PQexecParams(conn, SQL_MERGE, 3, NULL, p, NULL, NULL, 0);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(err, sizeof(err), "%s", PQresultErrorMessage(r));
		rc = state == NULL                 ? -1
		     : strcmp(state, "P0002") == 0 ? 404
		     : strcmp(state, "22023") == 0 ? 400
		                                   : -1;
	} else {
		json_t *b = json_pack("{s:b, s:n}", "active", 1, "merged_into");
		json_t *a = json_pack("{s:b, s:s, s:o}", "active", 0, "merged_into", into, "moved",
		                      json_loads(PQgetvalue(r, 0, 0), 0, NULL));
		rc = audit(conn, &s, noun, "merge", id, b, a, err, sizeof(err));
	}
	PQclear(r);
	return finish(c, &conn, rc, err, kind, rc == 0 ? into : id);
}

/* set_active - POST /o/ID/active, /p/ID/active; 303 to the record */
static int set_active(struct ctx *c, char kind, const char *id)
{
	const char *v = form_get(&c->form, "active");
	const char *noun = kind == 'o' ? "organisation" : "contact";
	struct session s;
	PGconn *conn;
	char err[1024];
	if (!lead_begin(c, "customer-active", id, &conn, &s))
		return 0;
	if (v == NULL || (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)) {
		db_close(&conn);
		return respond_error(c->out, "400 Bad Request");
	}
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "active", err);
	}
	const char *p[2] = {id, v};
	PGresult *r =
	    db_query(conn, kind == 'o' ? SQL_ACTIVE_ORG : SQL_ACTIVE_CONTACT, 2, p, err, sizeof(err));
	int rc = r == NULL ? -1 : PQntuples(r) == 0 ? 404 : 0;
	if (rc == 0 && (strcmp(PQgetvalue(r, 0, 0), "true") == 0) != (v[0] == '1')) {
		json_t *b = json_pack("{s:b}", "active", v[0] != '1');
		json_t *a = json_pack("{s:b}", "active", v[0] == '1');
		rc = audit(conn, &s, noun, "active", id, b, a, err, sizeof(err));
	}
	PQclear(r);
	return finish(c, &conn, rc, err, kind, id);
}

int org_merge(struct ctx *c, const char *arg)
{
	return merge(c, 'o', arg);
}

int contact_merge(struct ctx *c, const char *arg)
{
	return merge(c, 'p', arg);
}

int org_active(struct ctx *c, const char *arg)
{
	return set_active(c, 'o', arg);
}

int contact_active(struct ctx *c, const char *arg)
{
	return set_active(c, 'p', arg);
}
