/* conversation.c - the /c/ routes: parse the path, sign in, hand over to
 * the page, the HTML view or the attachment download. GET changes
 * nothing: the page does not even mark the conversation read (it offers
 * the form that does). */
#include "conversation.h"

#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "convpage.h"
#include "db.h"
#include "mailhtml.h"
#include "respond.h"

#define SQL_HTML                                                                                             \
	"SELECT mm.body_html FROM mailroom.message_meta mm"                                                  \
	" WHERE mm.message_id = $1::uuid AND mm.conversation_id = $2::bigint AND mm.body_html IS NOT NULL"

/* digits - n decimal digits at s, canonical (no leading zero but "0"),
 * 1 to max of them; how many, or 0 */
static size_t digits(const char *s, size_t max)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > max || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

/* uuid_text_ok - 36 characters of canonical lower-case UUID text at s */
static int uuid_text_ok(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0') {
			return 0;
		}
	}
	return 1;
}

int conv_path_parse(const char *arg, struct conv_path *p)
{
	memset(p, 0, sizeof(*p));
	size_t n = digits(arg, 18);
	if (n == 0 || arg[0] == '0')
		return -1;
	memcpy(p->id, arg, n);
	arg += n;
	if (*arg == '\0') {
		p->kind = CONV_PAGE;
		return 0;
	}
	if (strncmp(arg, "/m/", 3) != 0 || strlen(arg + 3) < 36 || !uuid_text_ok(arg + 3))
		return -1;
	memcpy(p->uuid, arg + 3, 36);
	arg += 39;
	if (strcmp(arg, "/html") == 0) {
		p->kind = CONV_HTML;
		return 0;
	}
	if (strncmp(arg, "/a/", 3) != 0 || (n = digits(arg + 3, 9)) == 0 || arg[3 + n] != '\0')
		return -1;
	memcpy(p->pos, arg + 3, n);
	p->kind = CONV_ATTACHMENT;
	return 0;
}

/* html_view - the message's HTML through the allow-list, in its sandbox */
static int html_view(struct ctx *c, PGconn *conn, const struct conv_path *p)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	const char *params[2] = {p->uuid, p->id};
	PGresult *res = db_query(conn, SQL_HTML, 2, params, err, sizeof(err));
	if (res == NULL)
		return server_error(c, "message html", err);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return respond_error(c->out, "404 Not Found");
	}
	FILE *mem = open_memstream(&body, &len);
	int r = mem != NULL ? mailhtml_write(mem, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) : -1;
	PQclear(res);
	if (mem != NULL && fclose(mem) != 0)
		r = -1;
	if (r < 0) {
		free(body);
		return server_error(c, "message html", "out of memory");
	}
	r = respond_sandboxed(c->out, "text/html; charset=utf-8", NULL, body, len);
	free(body);
	return r;
}

int conversation_get(struct ctx *c, const char *arg)
{
	struct conv_path p;
	struct session s;
	PGconn *conn;
	if (conv_path_parse(arg, &p) < 0)
		return respond_error(c->out, "404 Not Found");
	if (!web_begin(c, &conn, &s))
		return 0;
	int r;
	if (p.kind == CONV_HTML)
		r = html_view(c, conn, &p);
	else if (p.kind == CONV_ATTACHMENT)
		r = attachment_send(c, conn, p.id, p.uuid, p.pos);
	else
		r = convpage_send(c, conn, &s, p.id);
	db_close(&conn);
	return r;
}
