/* inbox.c - the inbox page: runs the statements of inboxquery.c for the
 * signed-in user and writes the filters with their counts, the bulk form
 * and the table of conversations in the markup of the web contract
 * (docs/web.md). Every value goes through escape.c. */
#include "inbox.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "inboxquery.h"
#include "respond.h"

/* the columns of inbox_list_sql, by name */
enum {
	COL_ID,
	COL_TITLE,
	COL_STATUS,
	COL_CLASS,
	COL_LEVEL,
	COL_SCORE,
	COL_TS20,
	COL_LOCAL,
	COL_ISO,
	COL_MESSAGES,
	COL_HOLDER,
	COL_ASSIGNEE,
	COL_LABELS,
	COL_DUE_LOCAL,
	COL_DUE_ISO,
	COL_UNREAD,
	COL_COUNT
};

/* the counts of inbox_counts_sql, after its leading 0 */
enum { CNT_OPEN = 1, CNT_CLOSED, CNT_ARCHIVED, CNT_CLASS, CNT_UNREAD = CNT_CLASS + 6, CNT_MINE, CNT_COUNT };

static const char *const class_names[] = {"customer",   "supplier",    "internal",
                                          "newsletter", "advertising", "unclassified"};

/* run - execute a built statement; NULL after a 500 page */
static PGresult *run(struct ctx *c, PGconn *conn, struct inbox_sql *q, int built, const char *what)
{
	char err[1024];
	PGresult *r = NULL;
	if (built < 0)
		snprintf(err, sizeof(err), "cannot build the statement");
	else
		r = db_query(conn, q->text, q->n, q->param, err, sizeof(err));
	inbox_sql_free(q);
	if (r == NULL)
		server_error(c, what, err);
	return r;
}

/* count_span - <span class="count">N</span>, "CAP+" beyond the cap */
static void count_span(FILE *m, const char *n)
{
	if (n == NULL || n[0] == '\0')
		return;
	if (strtol(n, NULL, 10) > INBOX_COUNT_CAP)
		fprintf(m, " <span class=\"count\">%d+</span>", INBOX_COUNT_CAP);
	else {
		fputs(" <span class=\"count\">", m);
		esc_html(m, n);
		fputs("</span>", m);
	}
}

/* filter_link - one <li> of the filter navigation: a link that sets k to
 * value (NULL: drops it), marked current when the filter is set so */
static void filter_link(FILE *m, struct ctx *c, const struct inbox_filter *f, enum inbox_key k,
                        const char *value, const char *text, const char *count)
{
	const char *now = f->value[k];
	int current =
	    (now == NULL && value == NULL) || (now != NULL && value != NULL && strcmp(now, value) == 0);
	fputs("<li><a href=\"", m);
	inbox_href(m, c->req->script_name, f, k, value);
	fputs(current ? "\" aria-current=\"true\">" : "\">", m);
	esc_html(m, text);
	fputs("</a>", m);
	count_span(m, count);
	fputs("</li>\n", m);
}

/* filters - the navigation of filters, each with its count where one is kept */
static void filters(FILE *m, struct ctx *c, const struct inbox_filter *f, PGresult *counts, PGresult *facets)
{
	static const char *const statuses[] = {"open", "closed", "archived"};
	fputs("<nav class=\"filters\" aria-label=\"Filters\">\n<h2>Status</h2>\n<ul>\n", m);
	for (int i = 0; i < 3; i++)
		filter_link(m, c, f, IK_STATUS, statuses[i], statuses[i],
		            PQgetvalue(counts, 0, CNT_OPEN + i));
	filter_link(m, c, f, IK_STATUS, "all", "all", NULL);
	fputs("</ul>\n<h2>Show</h2>\n<ul>\n", m);
	filter_link(m, c, f, IK_UNREAD, f->value[IK_UNREAD] != NULL ? NULL : "1",
	            f->value[IK_UNREAD] != NULL ? "all, read or not" : "unread",
	            PQgetvalue(counts, 0, CNT_UNREAD));
	filter_link(m, c, f, IK_ASSIGNEE, "me", "assigned to me", PQgetvalue(counts, 0, CNT_MINE));
	filter_link(m, c, f, IK_ASSIGNEE, "none", "unassigned", NULL);
	filter_link(m, c, f, IK_ASSIGNEE, NULL, "anyone's", NULL);
	fputs("</ul>\n<h2>Order</h2>\n<ul>\n", m);
	filter_link(m, c, f, IK_SORT, NULL, "newest activity", NULL);
	filter_link(m, c, f, IK_SORT, "priority", "highest priority", NULL);
	fputs("</ul>\n<h2>Class</h2>\n<ul>\n", m);
	for (int i = 0; i < 6; i++)
		filter_link(m, c, f, IK_CLASS, class_names[i], class_names[i],
		            PQgetvalue(counts, 0, CNT_CLASS + i));
	filter_link(m, c, f, IK_CLASS, NULL, "any class", NULL);
	static const char *const kinds[] = {"label", "folder", "inbox"};
	static const char *const heads[] = {"Labels", "Folders", "Inboxes"};
	static const enum inbox_key keys[] = {IK_LABEL, IK_FOLDER, IK_INBOX};
	for (int k = 0; k < 3; k++) {
		fprintf(m, "</ul>\n<h2>%s</h2>\n<ul>\n", heads[k]);
		for (int i = 0; i < PQntuples(facets); i++) {
			if (strcmp(PQgetvalue(facets, i, 0), kinds[k]) != 0)
				continue;
			const char *v =
			    keys[k] == IK_INBOX ? PQgetvalue(facets, i, 2) : PQgetvalue(facets, i, 1);
			filter_link(m, c, f, keys[k], v, PQgetvalue(facets, i, 2), PQgetvalue(facets, i, 3));
		}
		filter_link(m, c, f, keys[k], NULL,
		            k == 0   ? "any label"
		            : k == 1 ? "any folder"
		                     : "any inbox",
		            NULL);
	}
	fputs("</ul>\n<p><a href=\"", m);
	esc_attr(m, c->req->script_name);
	fputs("/\">Clear all filters</a></p>\n</nav>\n", m);
}

/* search_form - GET form for the full text; the other filters ride along */
static void search_form(FILE *m, struct ctx *c, const struct inbox_filter *f)
{
	fputs("<form class=\"search\" method=\"get\" action=\"", m);
	esc_attr(m, c->req->script_name);
	fputs("/\" role=\"search\">\n", m);
	for (int k = 0; k < IK_COUNT; k++) {
		if (k == IK_Q || k == IK_AFTER || f->value[k] == NULL)
			continue;
		fprintf(m, "<input type=\"hidden\" name=\"%s\" value=\"", inbox_key_name((enum inbox_key)k));
		esc_attr(m, k == IK_INBOX ? f->inbox : f->value[k]);
		fputs("\">\n", m);
	}
	fprintf(m, "<input type=\"search\" name=\"q\" maxlength=\"%d\" aria-label=\"Search\" value=\"",
	        INBOX_Q_MAX);
	esc_attr(m, f->value[IK_Q] != NULL ? f->value[IK_Q] : "");
	fputs("\">\n<button type=\"submit\">Search</button>\n</form>\n", m);
}

/* bulk_form - the form the ticked rows are sent with (POST SN/bulk) */
static void bulk_form(FILE *m, struct ctx *c, const struct session *s, PGresult *facets)
{
	form_open(m, c, s, "/bulk", "bulk", "id=\"bulk\" class=\"bulk\"");
	fputs("<label>Action <select name=\"action\">\n<option value=\"archive\">archive</option>\n"
	      "<option value=\"label\">add label</option>\n<option value=\"assign\">assign</option>\n"
	      "<option value=\"classify\">classify</option>\n</select></label>\n"
	      "<label>Label <input name=\"label\" maxlength=\"64\" list=\"label-names\"></label>\n"
	      "<datalist id=\"label-names\">\n",
	      m);
	for (int i = 0; i < PQntuples(facets); i++) {
		if (strcmp(PQgetvalue(facets, i, 0), "label") != 0)
			continue;
		fputs("<option value=\"", m);
		esc_attr(m, PQgetvalue(facets, i, 2));
		fputs("\">\n", m);
	}
	fputs("</datalist>\n<label>Assignee <select name=\"assignee\">\n<option value=\"\">nobody</option>\n",
	      m);
	for (int i = 0; i < PQntuples(facets); i++) {
		if (strcmp(PQgetvalue(facets, i, 0), "user") != 0)
			continue;
		fputs("<option value=\"", m);
		esc_attr(m, PQgetvalue(facets, i, 1));
		fputs("\">", m);
		esc_html(m, PQgetvalue(facets, i, 2));
		fputs("</option>\n", m);
	}
	fputs("</select></label>\n<label>Class <select name=\"class\">\n", m);
	for (int i = 0; i < 5; i++)
		fprintf(m, "<option value=\"%s\">%s</option>\n", class_names[i], class_names[i]);
	fputs("</select></label>\n<button type=\"submit\">Apply to the ticked "
	      "conversations</button>\n</form>\n",
	      m);
}

/* span - <span class="cls">text</span> */
static void span(FILE *m, const char *cls, const char *text)
{
	fprintf(m, "<span class=\"%s\">", cls);
	esc_html(m, text);
	fputs("</span>", m);
}

/* row - one conversation of the table */
static void row(FILE *m, struct ctx *c, PGresult *r, int i, int tick)
{
	const char *id = PQgetvalue(r, i, COL_ID), *level = PQgetvalue(r, i, COL_LEVEL);
	int unread = strcmp(PQgetvalue(r, i, COL_UNREAD), "t") == 0;
	/* one of the four levels; a conversation not scored (yet) is normal */
	level = strcmp(level, "urgent") == 0 ? "urgent"
	        : strcmp(level, "high") == 0 ? "high"
	        : strcmp(level, "low") == 0  ? "low"
	                                     : "normal";
	fprintf(m, "<tr class=\"conv%s\" data-id=\"", unread ? " unread" : "");
	esc_attr(m, id);
	fputs("\">\n<td>", m);
	if (tick) {
		fputs("<input type=\"checkbox\" name=\"id\" value=\"", m);
		esc_attr(m, id);
		fputs("\" form=\"bulk\" aria-label=\"tick\">", m);
	}
	fputs("</td>\n<td>", m);
	fprintf(m, "<span class=\"level level-%s\">%s</span>", level, level);
	fputs("</td>\n<td>", m);
	if (unread)
		fputs("<span class=\"unread-mark\">new</span> ", m);
	fputs("<a class=\"subject\" href=\"", m);
	esc_attr(m, c->req->script_name);
	fputs("/c/", m);
	esc_attr(m, id);
	fputs("\">", m);
	esc_html(m, PQgetvalue(r, i, COL_TITLE));
	fputs("</a> <span class=\"labels\">", m);
	const char *labels = PQgetvalue(r, i, COL_LABELS);
	for (const char *p = labels; *p != '\0';) {
		size_t n = strcspn(p, "\x1f");
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) - 1 ? n : sizeof(name) - 1), p);
		span(m, "label", name);
		p += n;
		if (*p == '\x1f')
			p++;
	}
	fputs("</span></td>\n<td>", m);
	span(m, "cls", PQgetvalue(r, i, COL_CLASS));
	fputs("</td>\n<td>", m);
	span(m, "status", PQgetvalue(r, i, COL_STATUS));
	fputs("</td>\n<td>", m);
	if (!PQgetisnull(r, i, COL_DUE_ISO)) {
		fputs("<span class=\"due\"><time datetime=\"", m);
		esc_attr(m, PQgetvalue(r, i, COL_DUE_ISO));
		fputs("\">", m);
		esc_html(m, PQgetvalue(r, i, COL_DUE_LOCAL));
		fputs("</time></span>", m);
	}
	fputs("</td>\n<td>", m);
	span(m, "holder", PQgetvalue(r, i, COL_HOLDER));
	fputs("</td>\n<td>", m);
	span(m, "assignee", PQgetvalue(r, i, COL_ASSIGNEE));
	fputs("</td>\n<td><time class=\"activity\" datetime=\"", m);
	esc_attr(m, PQgetvalue(r, i, COL_ISO));
	fputs("\">", m);
	esc_html(m, PQgetvalue(r, i, COL_LOCAL));
	fputs("</time></td>\n<td>", m);
	span(m, "messages", PQgetvalue(r, i, COL_MESSAGES));
	fputs("</td>\n</tr>\n", m);
}

/* table - the page of conversations and the link to the next one */
static void table(FILE *m, struct ctx *c, const struct inbox_filter *f, PGresult *r, int tick)
{
	int n = PQntuples(r);
	if (n == 0) {
		fputs("<p class=\"empty\">No conversations match these filters.</p>\n", m);
		return;
	}
	fputs("<table class=\"inbox\">\n<thead><tr><th></th><th>Level</th><th>Subject</th><th>Class</th>"
	      "<th>Status</th><th>Due</th><th>Holder</th><th>Assignee</th><th>Last activity</th>"
	      "<th>Messages</th></tr></thead>\n<tbody>\n",
	      m);
	for (int i = 0; i < n && i < INBOX_PAGE; i++)
		row(m, c, r, i, tick);
	fputs("</tbody>\n</table>\n", m);
	char cur[INBOX_CURSOR_MAX + 1];
	int last = INBOX_PAGE - 1;
	if (n > INBOX_PAGE &&
	    inbox_cursor_format(
	        f->priority, PQgetisnull(r, last, COL_SCORE) ? NULL : PQgetvalue(r, last, COL_SCORE),
	        PQgetvalue(r, last, COL_TS20), PQgetvalue(r, last, COL_ID), cur, sizeof(cur)) == 0) {
		fputs("<p class=\"pages\"><a rel=\"next\" href=\"", m);
		inbox_href(m, c->req->script_name, f, IK_AFTER, cur);
		fputs("\">Next page</a></p>\n", m);
	}
}

int inbox_get(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	struct inbox_filter f;
	struct inbox_sql q;
	PGconn *conn;
	char err[256];
	if (!web_begin(c, &conn, &s))
		return 0;
	if (inbox_filter_parse(&c->query, &f, err, sizeof(err)) < 0) {
		db_close(&conn);
		fprintf(stderr, "mailroom.cgi: inbox: %s\n", err);
		return respond_error(c->out, "400 Bad Request");
	}
	PGresult *list = NULL, *counts = NULL, *facets = NULL;
	/* JIT is off for the connection (db_connect): compiling cost 20 ms to
	 * seconds, these statements run in a few ms */
	if ((list = run(c, conn, &q, inbox_list_sql(&f, s.user_id, c->conf->deadlines_timezone, &q),
	                "inbox")) == NULL ||
	    (counts = run(c, conn, &q, inbox_counts_sql(&f, &q), "inbox counts")) == NULL ||
	    (facets = run(c, conn, &q, inbox_facets_sql(&f, &q), "inbox filters")) == NULL) {
		PQclear(list);
		PQclear(counts);
		db_close(&conn);
		return 0;
	}
	db_close(&conn);
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	int rc;
	if (mem == NULL)
		rc = server_error(c, "page", "out of memory");
	else {
		int tick = strcmp(s.role, "auditor") != 0;
		app_head(mem, c, &s, "Inbox");
		fputs("<h1>Inbox</h1>\n", mem);
		search_form(mem, c, &f);
		filters(mem, c, &f, counts, facets);
		if (tick)
			bulk_form(mem, c, &s, facets);
		table(mem, c, &f, list, tick);
		app_foot(mem);
		rc = send_page(c, mem, &body, &len, "200 OK", NULL);
	}
	PQclear(list);
	PQclear(counts);
	PQclear(facets);
	return rc;
}
