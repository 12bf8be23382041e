/* orgs.c - GET /orgs?q=TEXT[&c=ID]: the organisations whose name or one of
 * whose domains contains TEXT (at most ORGS_MAX), for the classify form's
 * organisation choice. With c, each match carries the classify form of
 * conversation ID with that organisation and a button per class. */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "actions.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define ORGS_MAX      20
#define ORGS_MAX_TEXT "20"
#define SQL_ORGS                                                                                             \
	"SELECT o.id, o.name, o.kind, o.vip,"                                                                \
	" COALESCE((SELECT string_agg(d.domain, ' ' ORDER BY d.domain) FROM mailroom.organisation_domains d" \
	"  WHERE d.organisation_id = o.id), '')"                                                             \
	" FROM mailroom.organisations o"                                                                     \
	" WHERE o.active AND (strpos(lower(o.name), lower($1)) > 0 OR EXISTS (SELECT 1"                      \
	"  FROM mailroom.organisation_domains d WHERE d.organisation_id = o.id"                              \
	"  AND strpos(d.domain, lower($1)) > 0))"                                                            \
	" ORDER BY o.vip DESC, o.name, o.id LIMIT " ORGS_MAX_TEXT

/* the five classes the classify buttons offer (keys 1-5 in this order) */
static const char *const buttons[] = {"customer", "supplier", "internal", "newsletter", "advertising"};

/* org_item - one match as a list item; with conv, its classify form */
static void org_item(FILE *mem, struct ctx *c, const struct session *s, PGresult *r, int i, const char *conv)
{
	fputs("<li class=\"org\" data-id=\"", mem);
	esc_attr(mem, PQgetvalue(r, i, 0));
	fputs("\"><span class=\"name\">", mem);
	esc_html(mem, PQgetvalue(r, i, 1));
	fputs("</span> <span class=\"kind\">", mem);
	esc_html(mem, PQgetvalue(r, i, 2));
	fputs("</span>", mem);
	if (strcmp(PQgetvalue(r, i, 3), "t") == 0)
		fputs(" <span class=\"vip\">VIP</span>", mem);
	fputs(" <span class=\"domains\">", mem);
	esc_html(mem, PQgetvalue(r, i, 4));
	fputs("</span> <code class=\"org-id\">", mem);
	esc_html(mem, PQgetvalue(r, i, 0));
	fputs("</code>\n", mem);
	if (conv != NULL) {
		char path[48];
		snprintf(path, sizeof(path), "/c/%s/classify", conv);
		form_open(mem, c, s, path, "classify", "class=\"classify-org\"");
		fputs("<input type=\"hidden\" name=\"org\" value=\"", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">\n", mem);
		for (size_t b = 0; b < sizeof(buttons) / sizeof(buttons[0]); b++) {
			fputs("<button type=\"submit\" name=\"class\" value=\"", mem);
			esc_attr(mem, buttons[b]);
			fputs("\">", mem);
			esc_html(mem, buttons[b]);
			fputs("</button>\n", mem);
		}
		fputs("</form>\n", mem);
	}
	fputs("</li>\n", mem);
}

int orgs_page(struct ctx *c, const char *arg)
{
	(void)arg;
	const char *q = form_get(&c->query, "q"), *conv = form_get(&c->query, "c");
	struct session s;
	PGconn *conn;
	char err[1024], *body = NULL;
	size_t len = 0;
	if ((q != NULL && q[0] != '\0' && !text_ok(q, 200, 0)) || (conv != NULL && !id_ok(conv)))
		return respond_error(c->out, "400 Bad Request");
	if (!web_begin(c, &conn, &s))
		return 0;
	PGresult *r = NULL;
	if (q != NULL && q[0] != '\0') {
		const char *p[1] = {q};
		r = db_query(conn, SQL_ORGS, 1, p, err, sizeof(err));
		if (r == NULL) {
			db_close(&conn);
			return server_error(c, "organisations", err);
		}
	}
	db_close(&conn);
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(r);
		return server_error(c, "page", "out of memory");
	}
	app_head(mem, c, &s, "Organisations");
	fputs("<h1>Organisations</h1>\n<form method=\"get\" class=\"org-search\" action=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/orgs\">\n", mem);
	if (conv != NULL) {
		fputs("<input type=\"hidden\" name=\"c\" value=\"", mem);
		esc_attr(mem, conv);
		fputs("\">\n", mem);
	}
	fputs("<label>Name or domain <input name=\"q\" maxlength=\"200\" required value=\"", mem);
	esc_attr(mem, q != NULL ? q : "");
	fputs("\"></label> <button type=\"submit\">Search</button>\n</form>\n", mem);
	if (r != NULL) {
		int n = PQntuples(r);
		fprintf(mem, "<p class=\"count\">%d match%s%s</p>\n<ul class=\"orgs\">\n", n,
		        n == 1 ? "" : "es", n == ORGS_MAX ? " (the first " ORGS_MAX_TEXT ")" : "");
		for (int i = 0; i < n; i++)
			org_item(mem, c, &s, r, i,
			         s.role[0] != '\0' && strcmp(s.role, "auditor") != 0 ? conv : NULL);
		fputs("</ul>\n", mem);
		PQclear(r);
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}
