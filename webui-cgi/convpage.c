/* convpage.c - GET SN/c/ID: one conversation as the team sees it.
 *
 * Every query runs as the web role with the user set (web_begin), so
 * row-level security decides what exists: no row for the conversation
 * means 404, whether it is missing or someone else's private one. Texts
 * come from the worker's parse (message_meta): the new text shown, the
 * quoted history and the signature folded into <details>; a mail that
 * had only HTML is shown as the text made from it, and its HTML only
 * through the sandboxed view. A sender who is a contact of the address
 * book links to the customer file (SN/p/ID). Nothing here writes to the
 * database.
 */
#include "convpage.h"

#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "convforms.h"
#include "db.h"
#include "escape.h"
#include "respond.h"
#include "timeline.h"

#define TEXT_SHOWN "65536"

#define SQL_FACTS                                                                                            \
	"SELECT c.title, c.status, coalesce(c.class, 'unclassified'), coalesce(c.priority_level, ''),"       \
	" coalesce(o.name, ''), coalesce(c.organisation_id::text, ''),"                                      \
	" coalesce(h.display_name, ''), coalesce(c.holder_id::text, ''),"                                    \
	" coalesce(a.display_name, ''), coalesce(c.assignee_id::text, ''),"                                  \
	" coalesce(f.name, ''), coalesce(c.folder_id::text, ''), array_to_string(c.inboxes, ', '),"          \
	" c.private, c.owner_id IS NOT DISTINCT FROM mailroom.web_user(),"                                   \
	" coalesce(c.merged_into::text, ''),"                                                                \
	" EXISTS (SELECT 1 FROM mailroom.conversation_reads r WHERE r.conversation_id = c.id"                \
	"   AND r.user_id = mailroom.web_user() AND r.read_at >= c.last_activity_at)"                        \
	" FROM mailroom.conversations c"                                                                     \
	" LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"                                    \
	" LEFT JOIN mailroom.users h ON h.id = c.holder_id"                                                  \
	" LEFT JOIN mailroom.users a ON a.id = c.assignee_id"                                                \
	" LEFT JOIN mailroom.folders f ON f.id = c.folder_id"                                                \
	" WHERE c.id = $1::bigint"
#define SQL_LABELS                                                                                           \
	"SELECT l.id, l.name FROM mailroom.conversation_labels cl JOIN mailroom.labels l ON l.id = "         \
	"cl.label_id"                                                                                        \
	" WHERE cl.conversation_id = $1::bigint ORDER BY l.name"
/* Texts are shown up to TEXT_SHOWN characters each; the last column says
 * whether one was longer. */
#define SQL_MESSAGES                                                                                         \
	"SELECT m.id, m.direction, coalesce(mm.from_name, ''), coalesce(mm.from_addr, m.envelope_from),"     \
	" to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                      \
	" to_char(m.received_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI'), coalesce(mm.subject, m.subject, "    \
	"''),"                                                                                               \
	" coalesce(left(mm.text_new, " TEXT_SHOWN "), ''), coalesce(left(mm.text_quoted, " TEXT_SHOWN        \
	"), ''),"                                                                                            \
	" coalesce(left(mm.text_signature, " TEXT_SHOWN                                                      \
	"), ''), mm.body_html IS NOT NULL, mm.text_from_html,"                                               \
	" coalesce(mm.parse_error, ''),"                                                                     \
	" coalesce(to_char(mm.sent_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI'), ''),"                          \
	" coalesce(greatest(length(mm.text_new), length(mm.text_quoted), length(mm.text_signature)), 0)"     \
	"   > " TEXT_SHOWN ","                                                                               \
	" coalesce(mm.contact_id, (SELECT ca.contact_id FROM mailroom.contact_addresses ca"                  \
	"   WHERE ca.address = lower(mm.from_addr)))::text"                                                  \
	" FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"                    \
	" WHERE mm.conversation_id = $1::bigint ORDER BY m.received_at, m.id LIMIT 501"
#define SQL_ATTACHMENTS                                                                                      \
	"SELECT a.message_id, a.position, coalesce(a.filename, ''), a.content_type, a.size_bytes"            \
	" FROM mailroom.attachments a JOIN mailroom.message_meta mm ON mm.message_id = a.message_id"         \
	" WHERE mm.conversation_id = $1::bigint ORDER BY a.message_id, a.position LIMIT 5000"

/* The columns of SQL_FACTS. */
enum {
	F_TITLE,
	F_STATUS,
	F_CLASS,
	F_LEVEL,
	F_ORG,
	F_ORG_ID,
	F_HOLDER,
	F_HOLDER_ID,
	F_ASSIGNEE,
	F_ASSIGNEE_ID,
	F_FOLDER,
	F_FOLDER_ID,
	F_INBOXES,
	F_PRIVATE,
	F_OWNER,
	F_MERGED,
	F_READ
};
/* The columns of SQL_MESSAGES. */
enum {
	M_ID,
	M_DIRECTION,
	M_FROM_NAME,
	M_FROM_ADDR,
	M_ISO,
	M_LOCAL,
	M_SUBJECT,
	M_NEW,
	M_QUOTED,
	M_SIGNATURE,
	M_HAS_HTML,
	M_FROM_HTML,
	M_PARSE_ERROR,
	M_SENT,
	M_CUT,
	M_CONTACT /* the sender's contact, when one matches */
};

void conv_time(FILE *mem, const char *iso, const char *local)
{
	fputs("<time datetime=\"", mem);
	esc_attr(mem, iso);
	fputs("\">", mem);
	esc_html(mem, local);
	fputs("</time>", mem);
}

const char *conv_tz(const struct ctx *c)
{
	const char *tz = c->conf->deadlines_timezone;
	return tz != NULL && tz[0] != '\0' ? tz : "UTC";
}

/* fact - one <dt>/<dd> pair; an empty value shows as a dash */
static void fact(FILE *mem, const char *cls, const char *label, const char *value)
{
	fprintf(mem, "<dt>%s</dt><dd class=\"%s\">", label, cls);
	esc_html(mem, value[0] != '\0' ? value : "\xe2\x80\x93");
	fputs("</dd>\n", mem);
}

/* facts - the header of the page: state, class, people, labels, place */
static void facts(FILE *mem, struct ctx *c, const struct session *s, const PGresult *f,
                  const PGresult *labels, const char *id, int can_act)
{
	const char *sn = c->req->script_name;
	fputs("<dl class=\"facts\">\n", mem);
	fact(mem, "status", "Status", PQgetvalue(f, 0, F_STATUS));
	fact(mem, "cls", "Class", PQgetvalue(f, 0, F_CLASS));
	fputs("<dt>Level</dt><dd class=\"level", mem);
	if (PQgetvalue(f, 0, F_LEVEL)[0] != '\0') {
		fputs(" level-", mem);
		esc_attr(mem, PQgetvalue(f, 0, F_LEVEL));
	}
	fputs("\">", mem);
	esc_html(mem, PQgetvalue(f, 0, F_LEVEL)[0] != '\0' ? PQgetvalue(f, 0, F_LEVEL) : "\xe2\x80\x93");
	fputs("</dd>\n<dt>Organisation</dt><dd class=\"org\">", mem);
	if (PQgetvalue(f, 0, F_ORG_ID)[0] != '\0') {
		fputs("<a href=\"", mem);
		esc_attr(mem, sn);
		fputs("/orgs?q=", mem);
		esc_url(mem, PQgetvalue(f, 0, F_ORG));
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(f, 0, F_ORG));
		fputs("</a>", mem);
	} else {
		fputs("\xe2\x80\x93", mem);
	}
	fputs("</dd>\n", mem);
	fact(mem, "holder", "Held by", PQgetvalue(f, 0, F_HOLDER));
	fact(mem, "assignee", "Assigned to", PQgetvalue(f, 0, F_ASSIGNEE));
	fputs("<dt>Labels</dt><dd class=\"labels\">", mem);
	int n = PQntuples(labels);
	for (int i = 0; i < n; i++) {
		fputs("<span class=\"label\">", mem);
		esc_html(mem, PQgetvalue(labels, i, 1));
		fputs("</span> ", mem);
	}
	if (n > 0 && can_act) {
		char path[64];
		snprintf(path, sizeof(path), "/c/%s/unlabel", id);
		form_open(mem, c, s, path, "unlabel", "id=\"act-unlabel\" class=\"inline\"");
		for (int i = 0; i < n; i++) {
			fputs("<button type=\"submit\" name=\"label\" value=\"", mem);
			esc_attr(mem, PQgetvalue(labels, i, 0));
			fputs("\">Remove ", mem);
			esc_html(mem, PQgetvalue(labels, i, 1));
			fputs("</button>\n", mem);
		}
		fputs("</form>", mem);
	}
	fputs("</dd>\n", mem);
	fact(mem, "folder", "Folder", PQgetvalue(f, 0, F_FOLDER));
	fact(mem, "inboxes", "Inboxes", PQgetvalue(f, 0, F_INBOXES));
	fact(mem, "private", "Private",
	     strcmp(PQgetvalue(f, 0, F_PRIVATE), "t") == 0 ? "yes, only you see it" : "no");
	fact(mem, "read", "Read by you", strcmp(PQgetvalue(f, 0, F_READ), "t") == 0 ? "yes" : "no");
	fputs("</dl>\n", mem);
	if (PQgetvalue(f, 0, F_MERGED)[0] != '\0') {
		fputs("<p class=\"merged\">Merged into <a href=\"", mem);
		esc_attr(mem, sn);
		fputs("/c/", mem);
		esc_attr(mem, PQgetvalue(f, 0, F_MERGED));
		fputs("\">conversation ", mem);
		esc_html(mem, PQgetvalue(f, 0, F_MERGED));
		fputs("</a>.</p>\n", mem);
	}
}

/* folded - a part of the text folded away under summary, when there is one */
static void folded(FILE *mem, const char *cls, const char *summary, const char *text)
{
	if (text[0] == '\0')
		return;
	fprintf(mem, "<details class=\"%s\"><summary>%s</summary><pre>", cls, summary);
	esc_html(mem, text);
	fputs("</pre></details>\n", mem);
}

/* human_size - bytes in B, KB or MB */
static void human_size(FILE *mem, const char *bytes)
{
	double b = strtod(bytes, NULL);
	if (b < 1024)
		fprintf(mem, "%.0f B", b);
	else if (b < 1024 * 1024)
		fprintf(mem, "%.1f KB", b / 1024);
	else
		fprintf(mem, "%.1f MB", b / (1024 * 1024));
}

/* message_link - SN/c/ID/m/UUID plus tail, as an attribute value */
static void message_link(FILE *mem, struct ctx *c, const char *id, const char *uuid, const char *tail)
{
	esc_attr(mem, c->req->script_name);
	fputs("/c/", mem);
	esc_attr(mem, id);
	fputs("/m/", mem);
	esc_attr(mem, uuid);
	esc_attr(mem, tail);
}

/* attachments - the links to the message's attachments */
static void attachments(FILE *mem, struct ctx *c, const char *id, const char *uuid, const PGresult *a)
{
	int open = 0;
	for (int i = 0; i < PQntuples(a); i++) {
		if (strcmp(PQgetvalue(a, i, 0), uuid) != 0)
			continue;
		if (!open++)
			fputs("<ul class=\"attachments\">\n", mem);
		char tail[32];
		snprintf(tail, sizeof(tail), "/a/%s", PQgetvalue(a, i, 1));
		fputs("<li><a class=\"attachment\" href=\"", mem);
		message_link(mem, c, id, uuid, tail);
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(a, i, 2)[0] != '\0' ? PQgetvalue(a, i, 2) : "(no name)");
		fputs("</a> <span class=\"type\">", mem);
		esc_html(mem, PQgetvalue(a, i, 3));
		fputs("</span> <span class=\"size\">", mem);
		human_size(mem, PQgetvalue(a, i, 4));
		fputs("</span></li>\n", mem);
	}
	if (open)
		fputs("</ul>\n", mem);
}

/* message - one <article>: sender, time, the new text, history folded */
static void message(FILE *mem, struct ctx *c, const char *id, const PGresult *m, int i, const PGresult *a)
{
	const char *uuid = PQgetvalue(m, i, M_ID), *dir = PQgetvalue(m, i, M_DIRECTION);
	fprintf(mem, "<article class=\"message %s\" id=\"m-",
	        strcmp(dir, "outbound") == 0   ? "out"
	        : strcmp(dir, "internal") == 0 ? "in internal"
	                                       : "in");
	esc_attr(mem, uuid);
	fputs("\">\n<header><span class=\"from\">", mem);
	if (!PQgetisnull(m, i, M_CONTACT)) {
		fputs("<a class=\"contact\" href=\"", mem);
		esc_attr(mem, c->req->script_name);
		fputs("/p/", mem);
		esc_attr(mem, PQgetvalue(m, i, M_CONTACT));
		fputs("\">", mem);
	}
	if (PQgetvalue(m, i, M_FROM_NAME)[0] != '\0') {
		esc_html(mem, PQgetvalue(m, i, M_FROM_NAME));
		fputs(" &lt;", mem);
		esc_html(mem, PQgetvalue(m, i, M_FROM_ADDR));
		fputs("&gt;", mem);
	} else {
		esc_html(mem, PQgetvalue(m, i, M_FROM_ADDR));
	}
	if (!PQgetisnull(m, i, M_CONTACT))
		fputs("</a>", mem);
	fputs("</span> ", mem);
	conv_time(mem, PQgetvalue(m, i, M_ISO), PQgetvalue(m, i, M_LOCAL));
	if (PQgetvalue(m, i, M_SENT)[0] != '\0' &&
	    strcmp(PQgetvalue(m, i, M_SENT), PQgetvalue(m, i, M_LOCAL)) != 0) {
		fputs(" <span class=\"sent\">(dated ", mem);
		esc_html(mem, PQgetvalue(m, i, M_SENT));
		fputs(")</span>", mem);
	}
	fputs("\n<span class=\"subject\">", mem);
	esc_html(mem, PQgetvalue(m, i, M_SUBJECT));
	fputs("</span></header>\n<div class=\"body\">", mem);
	if (PQgetvalue(m, i, M_PARSE_ERROR)[0] != '\0') {
		fputs("<p class=\"parse-error\">This message could not be read: ", mem);
		esc_html(mem, PQgetvalue(m, i, M_PARSE_ERROR));
		fputs("</p>", mem);
	}
	if (strcmp(PQgetvalue(m, i, M_FROM_HTML), "t") == 0)
		fputs("<p class=\"note\">Text of an HTML-only message.</p>", mem);
	fputs("<pre class=\"text\">", mem);
	esc_html(mem, PQgetvalue(m, i, M_NEW));
	fputs("</pre>\n", mem);
	if (strcmp(PQgetvalue(m, i, M_CUT), "t") == 0)
		fputs("<p class=\"note\">A long text: only its first " TEXT_SHOWN
		      " characters are shown.</p>\n",
		      mem);
	folded(mem, "quoted", "Quoted text", PQgetvalue(m, i, M_QUOTED));
	folded(mem, "signature", "Signature", PQgetvalue(m, i, M_SIGNATURE));
	fputs("</div>\n", mem);
	if (strcmp(PQgetvalue(m, i, M_HAS_HTML), "t") == 0) {
		fputs("<details class=\"html-view\"><summary><a class=\"show-html\" href=\"", mem);
		message_link(mem, c, id, uuid, "/html");
		fputs("\">HTML version</a></summary>\n<iframe sandbox=\"allow-popups "
		      "allow-popups-to-escape-sandbox\" "
		      "loading=\"lazy\" title=\"HTML version\" src=\"",
		      mem);
		message_link(mem, c, id, uuid, "/html");
		fputs("\"></iframe></details>\n", mem);
	}
	attachments(mem, c, id, uuid, a);
	fputs("</article>\n", mem);
}

/* query - one statement of the page; NULL after logging err */
static PGresult *query(PGconn *conn, const char *sql, int n, const char *const *p, const char *what)
{
	char err[1024];
	PGresult *r = db_query(conn, sql, n, p, err, sizeof(err));
	if (r == NULL)
		fprintf(stderr, "mailroom.cgi: conversation %s: %s\n", what, err);
	return r;
}

int convpage_send(struct ctx *c, PGconn *conn, const struct session *s, const char *id)
{
	const char *p[2] = {id, conv_tz(c)};
	PGresult *f = query(conn, SQL_FACTS, 1, p, "facts"), *labels = NULL, *msgs = NULL, *att = NULL;
	char *body = NULL, err[1024];
	size_t len = 0;
	int r;
	if (f == NULL)
		return respond_error(c->out, "500 Internal Server Error");
	if (PQntuples(f) != 1) {
		PQclear(f);
		return respond_error(c->out, "404 Not Found");
	}
	if ((labels = query(conn, SQL_LABELS, 1, p, "labels")) == NULL ||
	    (msgs = query(conn, SQL_MESSAGES, 2, p, "messages")) == NULL ||
	    (att = query(conn, SQL_ATTACHMENTS, 1, p, "attachments")) == NULL) {
		r = respond_error(c->out, "500 Internal Server Error");
		goto out;
	}
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		r = server_error(c, "page", "out of memory");
		goto out;
	}
	int can_act = strcmp(s->role, "auditor") != 0;
	app_head(mem, c, s, PQgetvalue(f, 0, F_TITLE));
	fputs("<h1 class=\"title\">", mem);
	esc_html(mem, PQgetvalue(f, 0, F_TITLE));
	fputs("</h1>\n", mem);
	facts(mem, c, s, f, labels, id, can_act);
	fputs("<section class=\"messages\">\n", mem);
	int n = PQntuples(msgs);
	for (int i = 0; i < n && i < CONV_MESSAGES_MAX; i++)
		message(mem, c, id, msgs, i, att);
	if (n > CONV_MESSAGES_MAX)
		fprintf(mem, "<p class=\"more\">Only the first %d messages are shown.</p>\n",
		        CONV_MESSAGES_MAX);
	fputs("</section>\n", mem);
	if (can_act)
		compose_links(mem, c, id);
	struct conv_current cur = {id,
	                           PQgetvalue(f, 0, F_TITLE),
	                           PQgetvalue(f, 0, F_STATUS),
	                           PQgetvalue(f, 0, F_LEVEL),
	                           PQgetvalue(f, 0, F_FOLDER_ID),
	                           PQgetvalue(f, 0, F_ASSIGNEE_ID),
	                           PQgetvalue(f, 0, F_HOLDER_ID),
	                           strcmp(PQgetvalue(f, 0, F_OWNER), "t") == 0,
	                           strcmp(PQgetvalue(f, 0, F_PRIVATE), "t") == 0};
	if (timeline_write(mem, conn, id, conv_tz(c), err, sizeof(err)) < 0 ||
	    (can_act && convforms_write(mem, c, s, conn, &cur, err, sizeof(err)) < 0)) {
		fclose(mem);
		free(body);
		r = server_error(c, "conversation", err);
		goto out;
	}
	app_foot(mem);
	r = send_page(c, mem, &body, &len, "200 OK", NULL);
out:
	PQclear(f);
	PQclear(labels);
	PQclear(msgs);
	PQclear(att);
	return r;
}
