/* handler.c - the shared steps of mailroom.cgi's page handlers: database
 * connection, session, acting user, audit, and the page frame. */
#include "handler.h"

#include <stdlib.h>
#include <string.h>

#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

PGconn *connect_db(struct ctx *c)
{
	char err[1024];
	PGconn *conn = db_connect(c->conf->web_database, "mailroom.cgi", err, sizeof(err));
	if (conn == NULL) {
		fprintf(stderr, "mailroom.cgi: %s\n", err);
		respond_error(c->out, "503 Service Unavailable");
	}
	return conn;
}

int server_error(struct ctx *c, const char *what, const char *err)
{
	fprintf(stderr, "mailroom.cgi: %s: %s\n", what, err);
	return respond_error(c->out, "500 Internal Server Error");
}

void session_token(const struct web_request *req, char tok[SESSION_TOKEN_HEX + 1])
{
	if (cookie_get(req->cookie, SESSION_COOKIE, tok, SESSION_TOKEN_HEX + 1) != 1)
		tok[0] = '\0';
}

int current_session(struct ctx *c, PGconn *conn, struct session *s)
{
	char tok[SESSION_TOKEN_HEX + 1], err[1024];
	session_token(c->req, tok);
	if (tok[0] == '\0')
		return 0;
	int r = session_lookup(conn, c->conf, tok, s, err, sizeof(err));
	if (r < 0)
		server_error(c, "session", err);
	return r;
}

int send_page(struct ctx *c, FILE *mem, char **body, size_t *len, const char *status, const char *extra)
{
	if (fclose(mem) != 0) {
		free(*body);
		return server_error(c, "page", "out of memory");
	}
	int r = respond_page(c->out, status, extra, *body, *len);
	free(*body);
	return r;
}

int web_begin(struct ctx *c, PGconn **conn, struct session *s)
{
	char tok[SESSION_TOKEN_HEX + 1], err[1024];
	int post = strcmp(c->req->method, "POST") == 0;
	*conn = NULL;
	session_token(c->req, tok);
	if (tok[0] == '\0') {
		if (post)
			respond_error(c->out, "403 Forbidden");
		else
			respond_redirect(c->out, c->req->script_name, "/login", NULL);
		return 0;
	}
	if ((*conn = connect_db(c)) == NULL)
		return 0;
	int r = current_session(c, *conn, s);
	if (r <= 0) {
		db_close(conn);
		if (r == 0 && post)
			respond_error(c->out, "403 Forbidden");
		else if (r == 0)
			respond_redirect(c->out, c->req->script_name, "/login", NULL);
		return 0;
	}
	const char *p[1] = {s->user_id};
	PGresult *res =
	    db_query(*conn, "SELECT set_config('mailroom.user_id', $1, false)", 1, p, err, sizeof(err));
	if (res == NULL) {
		db_close(conn);
		server_error(c, "acting user", err);
		return 0;
	}
	PQclear(res);
	return 1;
}

int web_post_begin(struct ctx *c, const char *name, PGconn **conn, struct session *s)
{
	if (!web_begin(c, conn, s))
		return 0;
	if (!csrf_check(s->csrf_key, name, form_get(&c->form, "csrf"))) {
		db_close(conn);
		respond_error(c->out, "403 Forbidden");
		return 0;
	}
	return 1;
}

int web_audit(PGconn *conn, const struct session *s, const char *action, const char *object,
              const char *before, const char *after, char *err, size_t errlen)
{
	const char *p[5] = {s->login, action, object, before, after};
	PGresult *r = db_query(conn, "SELECT mailroom.audit_append($1, $2, $3, $4::jsonb, $5::jsonb)", 5, p,
	                       err, errlen);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

void form_open(FILE *mem, struct ctx *c, const struct session *s, const char *path, const char *name,
               const char *attrs)
{
	char tok[CSRF_HEX + 1];
	csrf_token(s->csrf_key, name, tok);
	fputs("<form method=\"post\" action=\"", mem);
	esc_attr(mem, c->req->script_name);
	esc_attr(mem, path);
	fputs("\"", mem);
	if (attrs != NULL) {
		fputc(' ', mem);
		fputs(attrs, mem);
	}
	fputs(">\n<input type=\"hidden\" name=\"csrf\" value=\"", mem);
	esc_attr(mem, tok);
	fputs("\">\n", mem);
}

void app_head(FILE *mem, struct ctx *c, const struct session *s, const char *title)
{
	const char *sn = c->req->script_name;
	page_head(mem, title);
	int admin = strcmp(s->role, "admin") == 0, lead = admin || strcmp(s->role, "lead") == 0;
	/* the pages of the navigation, and who sees each */
	const struct {
		const char *path, *label;
		int shown;
	} links[] = {
	    {"/customers", "Customers", 1},
	    {"/leads", "Leads", 1},
	    {"/compose", "New mail", strcmp(s->role, "auditor") != 0},
	    {"/templates/mail", "Mail templates", 1},
	    {"/templates/notes", "Note templates", lead},
	    {"/users", "Users", admin},
	    {"/account", "Account", 1},
	};
	fputs("<header class=\"app\">\n<nav>\n<a class=\"home\" href=\"", mem);
	esc_attr(mem, sn);
	fputs("/\">Inbox</a>\n", mem);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (!links[i].shown)
			continue;
		fputs("<a href=\"", mem);
		esc_attr(mem, sn);
		fprintf(mem, "%s\">%s</a>\n", links[i].path, links[i].label);
	}
	fputs("</nav>\n<span class=\"who\">", mem);
	esc_html(mem, s->name);
	fputs("</span>\n", mem);
	form_open(mem, c, s, "/logout", "logout", "class=\"signout\"");
	fputs("<button type=\"submit\">Sign out</button>\n</form>\n</header>\n<main>\n", mem);
}

void app_foot(FILE *mem)
{
	fputs("</main>\n", mem);
	page_foot(mem);
}
