/* signature.c - show and change the signature of a user or a shared
 * inbox. A change and its audit row (signature.update or
 * signature.delete, with the text before and after) share one
 * transaction; the old row is locked first so that two saves at once are
 * recorded in order. */
#include "signature.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define SIG_MAX 5000 /* characters, as the table's CHECK */

/* SQL, named: every statement that touches signatures. $1 is the user id
 * (user statements) or the inbox address (inbox statements). */
static const char SQL_INBOX[] = "SELECT address FROM mailroom.inboxes WHERE address = $1";
static const char *const SQL_GET[2] = {
    "SELECT body FROM mailroom.signatures WHERE user_id = $1::bigint FOR UPDATE",
    "SELECT body FROM mailroom.signatures WHERE inbox = $1 FOR UPDATE",
};
static const char *const SQL_SET[2] = {
    "INSERT INTO mailroom.signatures (user_id, body) VALUES ($1::bigint, $2)"
    " ON CONFLICT (user_id) DO UPDATE SET body = excluded.body, updated_at = now()",
    "INSERT INTO mailroom.signatures (inbox, body) VALUES ($1, $2)"
    " ON CONFLICT (inbox) DO UPDATE SET body = excluded.body, updated_at = now()",
};
static const char *const SQL_DELETE[2] = {
    "DELETE FROM mailroom.signatures WHERE user_id = $1::bigint",
    "DELETE FROM mailroom.signatures WHERE inbox = $1",
};

/* whose signature: the user (0) or an inbox (1), and where its page is */
struct owner {
	int inbox;
	const char *key; /* user id or inbox address */
	char path[400];
};

/* current - the signature's text (malloc'd, "" when none); NULL with err */
static char *current(PGconn *conn, const struct owner *o, char *err, size_t errlen)
{
	const char *p[1] = {o->key};
	PGresult *r = db_query(conn, SQL_GET[o->inbox], 1, p, err, errlen);
	if (r == NULL)
		return NULL;
	char *s = strdup(PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	if (s == NULL)
		snprintf(err, errlen, "out of memory");
	return s;
}

/* page - the signature form; editable says whether the user may save */
static int page(struct ctx *c, const struct session *s, const struct owner *o, const char *text, int editable,
                const char *status, const char *error)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "signature", "out of memory");
	app_head(mem, c, s, "Signature");
	fputs("<h1>Signature", mem);
	if (o->inbox) {
		fputs(" of ", mem);
		esc_html(mem, o->key);
	}
	fputs("</h1>\n", mem);
	if (error != NULL) {
		fputs("<p class=\"error\" role=\"alert\">", mem);
		esc_html(mem, error);
		fputs("</p>\n", mem);
	}
	fputs(
	    o->inbox
	        ? "<p class=\"hint\">Added to every mail sent from this inbox, before the writer's own.</p>\n"
	        : "<p class=\"hint\">Added to every mail you write, after the inbox's signature.</p>\n",
	    mem);
	if (editable) {
		form_open(mem, c, s, o->path, "signature", "id=\"signature\"");
		fprintf(mem, "<p><label>Text <textarea name=\"body\" rows=\"8\" maxlength=\"%d\">", SIG_MAX);
		esc_html(mem, text);
		fputs("</textarea></label></p>\n<p><button type=\"submit\">Save</button> (empty: no "
		      "signature)</p>\n"
		      "</form>\n",
		      mem);
	} else {
		fputs("<pre class=\"signature\">", mem);
		esc_html(mem, text);
		fputs("</pre>\n", mem);
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

/* audit_json - {"body": text} or NULL for none; malloc'd */
static char *audit_json(const char *text)
{
	if (text == NULL || text[0] == '\0')
		return NULL;
	json_t *o = json_pack("{s:s}", "body", text);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/* save - store (or delete, text "") and audit in one transaction; 0 or -1 */
static int save(PGconn *conn, const struct session *s, const struct owner *o, const char *text, char *err,
                size_t errlen)
{
	char ignored[256], object[400];
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	char *before_text = current(conn, o, err, errlen);
	char *before = audit_json(before_text), *after = audit_json(text);
	const char *p[2] = {o->key, text};
	snprintf(object, sizeof(object), "%s:%s", o->inbox ? "inbox" : "user", o->key);
	int rc = before_text == NULL ||
	                 db_command(conn, text[0] != '\0' ? SQL_SET[o->inbox] : SQL_DELETE[o->inbox],
	                            text[0] != '\0' ? 2 : 1, p, err, errlen) < 0 ||
	                 web_audit(conn, s, text[0] != '\0' ? "signature.update" : "signature.delete", object,
	                           before, after, err, errlen) < 0 ||
	                 db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0
	             ? -1
	             : 0;
	if (rc < 0)
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	free(before_text);
	free(before);
	free(after);
	return rc;
}

/* show - GET: the page of o's signature */
static int show(struct ctx *c, PGconn *conn, const struct session *s, const struct owner *o, int editable)
{
	char err[1024];
	char *text = current(conn, o, err, sizeof(err));
	if (text == NULL)
		return server_error(c, "signature", err);
	int rc = page(c, s, o, text, editable, "200 OK", NULL);
	free(text);
	return rc;
}

/* store - POST: check the text, save, 303 back to the page */
static int store(struct ctx *c, PGconn *conn, const struct session *s, const struct owner *o)
{
	char err[1024];
	const char *text = form_get(&c->form, "body");
	if (text == NULL)
		return respond_error(c->out, "400 Bad Request");
	if (text[0] != '\0' && !text_ok(text, SIG_MAX, 1))
		return page(c, s, o, text, 1, "400 Bad Request",
		            "The signature must be at most 5000 characters.");
	if (save(conn, s, o, text, err, sizeof(err)) < 0)
		return server_error(c, "signature", err);
	return respond_redirect(c->out, c->req->script_name, o->path, NULL);
}

/* mine - the signed-in user's own signature */
static void mine(struct owner *o, const struct session *s)
{
	o->inbox = 0;
	o->key = s->user_id;
	snprintf(o->path, sizeof(o->path), "/account/signature");
}

int signature_mine_get(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	struct owner o;
	if (!web_begin(c, &conn, &s))
		return 0;
	mine(&o, &s);
	int rc = show(c, conn, &s, &o, strcmp(s.role, "auditor") != 0);
	db_close(&conn);
	return rc;
}

int signature_mine_post(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	struct owner o;
	if (!web_post_begin(c, "signature", &conn, &s))
		return 0;
	mine(&o, &s);
	int rc =
	    strcmp(s.role, "auditor") == 0 ? respond_error(c->out, "403 Forbidden") : store(c, conn, &s, &o);
	db_close(&conn);
	return rc;
}

/* inbox_of - the inbox of the path, which must exist: 1, 0 (404 sent), -1 */
static int inbox_of(struct ctx *c, PGconn *conn, const char *arg, struct owner *o)
{
	char err[1024];
	const char *p[1] = {arg};
	PGresult *r = db_query(conn, SQL_INBOX, 1, p, err, sizeof(err));
	if (r == NULL) {
		server_error(c, "signature", err);
		return -1;
	}
	int found = PQntuples(r) == 1;
	PQclear(r);
	if (!found) {
		respond_error(c->out, "404 Not Found");
		return 0;
	}
	o->inbox = 1;
	o->key = arg;
	snprintf(o->path, sizeof(o->path), "/inboxes/%s/signature", arg);
	return 1;
}

/* address_ok - a plain address of at most 320 bytes, as an inbox is */
static int address_ok(const char *arg)
{
	size_t n = strlen(arg);
	return n >= 3 && n <= 320 && strchr(arg, '@') != NULL && strpbrk(arg, " <>\"\\%?#") == NULL;
}

/* lead - admins and leads change an inbox's signature */
static int lead(const struct session *s)
{
	return strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0;
}

int signature_inbox_get(struct ctx *c, const char *arg)
{
	PGconn *conn;
	struct session s;
	struct owner o;
	if (!address_ok(arg))
		return respond_error(c->out, "404 Not Found");
	if (!web_begin(c, &conn, &s))
		return 0;
	int rc = inbox_of(c, conn, arg, &o);
	if (rc == 1)
		rc = show(c, conn, &s, &o, lead(&s));
	db_close(&conn);
	return rc < 0 ? -1 : 0;
}

int signature_inbox_post(struct ctx *c, const char *arg)
{
	PGconn *conn;
	struct session s;
	struct owner o;
	if (!address_ok(arg))
		return respond_error(c->out, "404 Not Found");
	if (!web_post_begin(c, "signature", &conn, &s))
		return 0;
	int rc;
	if (!lead(&s))
		rc = respond_error(c->out, "403 Forbidden");
	else if ((rc = inbox_of(c, conn, arg, &o)) == 1)
		rc = store(c, conn, &s, &o);
	db_close(&conn);
	return rc < 0 ? -1 : 0;
}
