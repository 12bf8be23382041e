/* userpage.c - shared steps of the user and account pages. */
#include "userpage.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"

int userpage_message(struct ctx *c, const struct session *s, const char *status, const char *title,
                     const char *message, const char *back)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	app_head(mem, c, s, title);
	fputs("<h1>", mem);
	esc_html(mem, title);
	fputs("</h1>\n<p role=\"alert\" class=\"message\">", mem);
	esc_html(mem, message);
	fputs("</p>\n<p><a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	esc_attr(mem, back);
	fputs("\">Back</a></p>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

PGresult *userpage_exec(PGconn *conn, const char *sql, int n, const char *const *p, char state[6], char *err,
                        size_t errlen)
{
	state[0] = '\0';
	PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) == 0)
		return res;
	const char *code = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (code != NULL)
		snprintf(state, 6, "%s", code);
	PQclear(res);
	return NULL;
}

int userpage_audit(PGconn *conn, const struct session *s, const char *action, const char *object,
                   json_t *before, json_t *after, char *err, size_t errlen)
{
	char *b = before != NULL ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *a = after != NULL ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = -1;
	if ((before != NULL && b == NULL) || (after != NULL && a == NULL))
		snprintf(err, errlen, "audit: out of memory");
	else
		r = web_audit(conn, s, action, object, b, a, err, errlen);
	free(b);
	free(a);
	json_decref(before);
	json_decref(after);
	return r;
}

void userpage_password(FILE *mem, const char *login, const char *password)
{
	fputs("<p>The password of <strong>", mem);
	esc_html(mem, login);
	fputs("</strong> is shown only this once. Pass it on safely; it cannot be shown again.</p>\n"
	      "<p><code class=\"new-password\">",
	      mem);
	esc_html(mem, password);
	fputs("</code></p>\n", mem);
}
