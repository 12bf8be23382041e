/* custsections.c - the sections of the customer file page: conversations,
 * notes, reminders, tasks, files, labels and a compact timeline, each
 * with its all/open/done filter and, for everyone but auditors, the forms
 * that add to it.
 *
 * What "open" means per section: a conversation whose status is open; a
 * phone or call note whose outcome is not classified yet; a reminder not
 * done or cancelled; an open task. Files and labels have no state: their
 * filter is accepted and shows all. The timeline keeps the entries whose
 * item is open (or done).
 *
 * Each statement exists once per kind (organisation, contact): the macros
 * below are expanded with the column name, never with a value. $1 is the
 * customer's id, $2 the time zone of the page, $3 the section's filter.
 */
#include <stdlib.h>
#include <string.h>

#include "convpage.h"
#include "customer.h"
#include "db.h"
#include "escape.h"

/* clang-format off */
#define ISO(x)   "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define LOCAL(x) "to_char((" x ") AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI')"

/* the conversations of a customer: its organisation, or messages from or to it */
#define CONVS_ORG                                                                                  \
	"SELECT c0.id FROM mailroom.conversations c0 WHERE c0.organisation_id = $1::bigint"        \
	" UNION SELECT mm0.conversation_id FROM mailroom.message_meta mm0"                         \
	" WHERE mm0.organisation_id = $1::bigint"
#define CONTACT_ADDRS "SELECT a0.address FROM mailroom.contact_addresses a0 WHERE a0.contact_id = $1::bigint"
#define CONVS_CONTACT                                                                              \
	"SELECT mm0.conversation_id FROM mailroom.message_meta mm0 WHERE mm0.contact_id = $1::bigint" \
	" OR lower(mm0.from_addr) IN (" CONTACT_ADDRS ") OR mm0.to_addrs && ARRAY(" CONTACT_ADDRS ")"

#define SQL_CONVS(SET)                                                                             \
	"SELECT c.id, c.title, c.status, coalesce(c.priority_level, ''), k.n_in, k.n_out, "        \
	ISO("c.last_activity_at") ", " LOCAL("c.last_activity_at")                                 \
	" FROM mailroom.conversations c"                                                           \
	" LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE m.direction <> 'outbound') AS n_in,"    \
	"   count(*) FILTER (WHERE m.direction = 'outbound') AS n_out"                             \
	"   FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"        \
	"   WHERE mm.conversation_id = c.id) k ON true"                                            \
	" WHERE c.id IN (" SET ") AND c.merged_into IS NULL"                                       \
	" AND ($3 = 'all' OR (c.status = 'open') = ($3 = 'open'))"                                 \
	" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 201"
#define SQL_NOTES(COL)                                                                             \
	"SELECT n.kind, n.body, coalesce(u.display_name, ''), "                                    \
	ISO("n.created_at") ", " LOCAL("n.created_at") ","                                         \
	" coalesce(n.outcome, ''), coalesce(t.title, '') FROM mailroom.notes n"                    \
	" LEFT JOIN mailroom.users u ON u.id = n.author"                                           \
	" LEFT JOIN mailroom.note_templates t ON t.id = n.template_id"                             \
	" WHERE n." COL " = $1::bigint"                                                            \
	" AND ($3 = 'all' OR (n.kind <> 'note' AND n.outcome IS NULL) = ($3 = 'open'))"            \
	" ORDER BY n.created_at DESC, n.id DESC LIMIT 201"
#define REMINDER_OPEN "r.state IN ('pending', 'snoozed', 'fired')"
#define SQL_REMINDERS(COL)                                                                         \
	"SELECT r.message, " ISO("r.due_at") ", " LOCAL("r.due_at") ","                            \
	" r.state, coalesce(v.display_name, '')"                                                   \
	" FROM mailroom.reminders r LEFT JOIN mailroom.users v ON v.id = r.assignee"               \
	" WHERE r." COL " = $1::bigint AND ($3 = 'all' OR (" REMINDER_OPEN ") = ($3 = 'open'))"    \
	" ORDER BY r.due_at DESC, r.id DESC LIMIT 201"
#define SQL_TASKS(COL)                                                                             \
	"SELECT t.id, t.title, coalesce(" ISO("t.due_at") ", ''),"                                 \
	" coalesce(" LOCAL("t.due_at") ", ''), coalesce(a.display_name, ''), t.state,"             \
	" coalesce(d.display_name, ''), coalesce(" LOCAL("t.done_at") ", '')"                      \
	" FROM mailroom.tasks t LEFT JOIN mailroom.users a ON a.id = t.assignee_id"                \
	" LEFT JOIN mailroom.users d ON d.id = t.done_by"                                          \
	" WHERE t." COL " = $1::bigint AND ($3 = 'all' OR t.state = $3)"                           \
	" ORDER BY t.state = 'done', t.due_at NULLS LAST, t.id LIMIT 201"
#define SQL_FILES(COL)                                                                             \
	"SELECT f.id, f.filename, f.content_type, f.size_bytes, coalesce(u.display_name, ''), "    \
	ISO("f.uploaded_at") ", " LOCAL("f.uploaded_at")                                           \
	" FROM mailroom.files f LEFT JOIN mailroom.users u ON u.id = f.uploaded_by"                \
	" WHERE f." COL " = $1::bigint ORDER BY f.uploaded_at DESC, f.id DESC LIMIT 201"
#define SQL_LABELS(TABLE, COL)                                                                     \
	"SELECT l.id, l.name FROM " TABLE " x JOIN mailroom.labels l ON l.id = x.label_id"         \
	" WHERE x." COL " = $1::bigint ORDER BY l.name"
/* the timeline: mail in and out, notes, tasks made and done, reminders,
 * and the other changes of the audit trail (notes and tasks are there
 * already as rows); the newest first */
#define SQL_TIMELINE(SET, COL, OBJ)                                                                \
	"SELECT kind, who, what, extra, link, " ISO("at") ", " LOCAL("at") " FROM ("               \
	" SELECT m.received_at AS at,"                                                             \
	"   CASE m.direction WHEN 'outbound' THEN 'mail-out' ELSE 'mail-in' END AS kind,"          \
	"   coalesce(nullif(mm.from_name, ''), mm.from_addr, '') AS who,"                          \
	"   coalesce(mm.subject, '') AS what, '' AS extra, mm.conversation_id::text AS link,"      \
	"   c.status = 'open' AS open"                                                             \
	"   FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"        \
	"   JOIN mailroom.conversations c ON c.id = mm.conversation_id"                            \
	"   WHERE mm.conversation_id IN (" SET ")"                                                 \
	" UNION ALL SELECT n.created_at, n.kind, coalesce(u.display_name, ''), left(n.body, 300)," \
	"   coalesce(n.outcome, ''), '', n.kind <> 'note' AND n.outcome IS NULL"                   \
	"   FROM mailroom.notes n LEFT JOIN mailroom.users u ON u.id = n.author"                   \
	"   WHERE n." COL " = $1::bigint"                                                          \
	" UNION ALL SELECT t.created_at, 'task', coalesce(u.display_name, ''), t.title,"           \
	"   coalesce('due ' || " LOCAL("t.due_at") ", ''), '', t.state = 'open'"                   \
	"   FROM mailroom.tasks t LEFT JOIN mailroom.users u ON u.id = t.created_by"               \
	"   WHERE t." COL " = $1::bigint"                                                          \
	" UNION ALL SELECT t.done_at, 'task-done', coalesce(u.display_name, ''), t.title, '', '', false" \
	"   FROM mailroom.tasks t LEFT JOIN mailroom.users u ON u.id = t.done_by"                  \
	"   WHERE t." COL " = $1::bigint AND t.done_at IS NOT NULL"                                \
	" UNION ALL SELECT r.created_at, 'reminder', coalesce(u.display_name, ''), r.message,"     \
	"   'due ' || " LOCAL("r.due_at") " || ', ' || r.state, '', " REMINDER_OPEN                \
	"   FROM mailroom.reminders r LEFT JOIN mailroom.users u ON u.id = r.created_by"           \
	"   WHERE r." COL " = $1::bigint"                                                          \
	" UNION ALL SELECT h.at, 'action', h.actor, h.action,"                                     \
	"   coalesce(left(h.after::text, 300), ''), '', false"                                     \
	"   FROM mailroom.customer_history('" OBJ ":' || $1::bigint::text) h"                      \
	"   WHERE h.action NOT LIKE '%.note' AND h.action NOT LIKE '%.task'"                       \
	") e WHERE ($3 = 'all' OR open = ($3 = 'open')) ORDER BY at DESC LIMIT 101"
/* clang-format on */
#define TIMELINE_SHOWN 100

#define SQL_TEMPLATES "SELECT id, title FROM mailroom.note_templates WHERE active ORDER BY title LIMIT 500"
#define SQL_USERS                                                                                            \
	"SELECT id, display_name FROM mailroom.users WHERE active AND role <> 'auditor' ORDER BY "           \
	"display_name LIMIT 1000"

/* the statements of each section, per kind, and how many parameters they take */
static const struct {
	const char *sql[2];
	int nparams;
} sections[SEC_N] = {
    [SEC_CONV] = {{SQL_CONVS(CONVS_ORG), SQL_CONVS(CONVS_CONTACT)}, 3},
    [SEC_NOTES] = {{SQL_NOTES("organisation_id"), SQL_NOTES("contact_id")}, 3},
    [SEC_REMINDERS] = {{SQL_REMINDERS("organisation_id"), SQL_REMINDERS("contact_id")}, 3},
    [SEC_TASKS] = {{SQL_TASKS("organisation_id"), SQL_TASKS("contact_id")}, 3},
    [SEC_FILES] = {{SQL_FILES("organisation_id"), SQL_FILES("contact_id")}, 2},
    [SEC_LABELS] = {{SQL_LABELS("mailroom.organisation_labels", "organisation_id"),
                     SQL_LABELS("mailroom.contact_labels", "contact_id")},
                    1},
    [SEC_TIMELINE] = {{SQL_TIMELINE(CONVS_ORG, "organisation_id", "organisation"),
                       SQL_TIMELINE(CONVS_CONTACT, "contact_id", "contact")},
                      3},
};

static const char *const titles[SEC_N] = {"Conversations", "Notes",  "Reminders", "Tasks",
                                          "Files",         "Labels", "Timeline"};

/* a section being written */
struct sec {
	FILE *mem;
	struct ctx *c;
	const struct session *s;
	PGconn *conn;
	const struct cust_kind *k;
	const char *id;
	int can_act;
	char *err;
	size_t errlen;
};

/* text - an element of class cls holding escaped text */
static void text(FILE *mem, const char *tag, const char *cls, const char *v)
{
	fprintf(mem, "<%s class=\"%s\">", tag, cls);
	esc_html(mem, v);
	fprintf(mem, "</%s>", tag);
}

/* span - a space, then <span class=cls> holding escaped text */
static void span(FILE *mem, const char *cls, const char *v)
{
	fputc(' ', mem);
	text(mem, "span", cls, v);
}

/* li_open - <li class="fixed cls"> */
static void li_open(FILE *mem, const char *fixed, const char *cls)
{
	fprintf(mem, "<li class=\"%s", fixed);
	esc_attr(mem, cls);
	fputs("\">", mem);
}

/* when - <time> of columns iso and local of row i, if there is one */
static void when(FILE *mem, const PGresult *r, int i, int iso, int local)
{
	if (PQgetvalue(r, i, iso)[0] != '\0')
		conv_time(mem, PQgetvalue(r, i, iso), PQgetvalue(r, i, local));
}

/* form - a form of this customer posting to its /ACTION with CSRF name */
static void form(struct sec *x, const char *action, const char *name, const char *attrs)
{
	char p[64];
	snprintf(p, sizeof(p), "%s%s/%s", x->k->path, x->id, action);
	form_open(x->mem, x->c, x->s, p, name, attrs);
}

/* options - <option>s of the id/name rows of sql, after an empty one */
static int options(struct sec *x, const char *sql, const char *empty)
{
	PGresult *r = db_query(x->conn, sql, 0, NULL, x->err, x->errlen);
	if (r == NULL)
		return -1;
	fputs("<option value=\"\">", x->mem);
	esc_html(x->mem, empty);
	fputs("</option>", x->mem);
	for (int i = 0; i < PQntuples(r); i++) {
		fputs("<option value=\"", x->mem);
		esc_attr(x->mem, PQgetvalue(r, i, 0));
		fputs("\">", x->mem);
		esc_html(x->mem, PQgetvalue(r, i, 1));
		fputs("</option>", x->mem);
	}
	PQclear(r);
	return 0;
}

static void conversations(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	fputs("<table "
	      "class=\"customer-conversations\">\n<thead><tr><th>Subject</th><th>Status</th><th>Level</th>"
	      "<th>In</th><th>Out</th><th>Last activity</th></tr></thead>\n<tbody>\n",
	      mem);
	for (int i = 0; i < n; i++) {
		fputs("<tr class=\"conv\" data-id=\"", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\"><td><a class=\"subject\" href=\"", mem);
		esc_attr(mem, x->c->req->script_name);
		fputs("/c/", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(r, i, 1));
		fputs("</a></td><td>", mem);
		text(mem, "span", "status", PQgetvalue(r, i, 2));
		fputs("</td><td><span class=\"level", mem);
		if (PQgetvalue(r, i, 3)[0] != '\0') {
			fputs(" level-", mem);
			esc_attr(mem, PQgetvalue(r, i, 3));
		}
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(r, i, 3));
		fputs("</span></td><td>", mem);
		text(mem, "span", "in", PQgetvalue(r, i, 4));
		fputs("</td><td>", mem);
		text(mem, "span", "out", PQgetvalue(r, i, 5));
		fputs("</td><td>", mem);
		when(mem, r, i, 6, 7);
		fputs("</td></tr>\n", mem);
	}
	fputs("</tbody>\n</table>\n", mem);
}

static int notes(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	if (x->can_act) {
		form(x, "note", "customer-note", "id=\"act-note\" class=\"note-form\"");
		fputs("<p><label>Kind <select name=\"kind\"><option value=\"note\">note</option>"
		      "<option value=\"phone\">phone</option><option "
		      "value=\"call\">call</option></select></label>\n"
		      "<label>Template <select name=\"template\">",
		      mem);
		if (options(x, SQL_TEMPLATES, "none") < 0)
			return -1;
		fputs("</select></label></p>\n<p><label>Note <textarea name=\"body\" rows=\"4\" "
		      "maxlength=\"20000\">"
		      "</textarea></label></p>\n<p><button type=\"submit\">Add note</button></p>\n</form>\n",
		      mem);
		if (strcmp(x->s->role, "admin") == 0 || strcmp(x->s->role, "lead") == 0) {
			fputs("<p><a class=\"templates\" href=\"", mem);
			esc_attr(mem, x->c->req->script_name);
			fputs("/templates/notes\">Note templates</a></p>\n", mem);
		}
	}
	fputs("<ol class=\"notes\">\n", mem);
	for (int i = 0; i < n; i++) {
		li_open(mem, "note ", PQgetvalue(r, i, 0));
		when(mem, r, i, 3, 4);
		span(mem, "kind", PQgetvalue(r, i, 0));
		span(mem, "who", PQgetvalue(r, i, 2));
		if (PQgetvalue(r, i, 6)[0] != '\0') {
			span(mem, "template", PQgetvalue(r, i, 6));
		}
		if (PQgetvalue(r, i, 5)[0] != '\0') {
			span(mem, "outcome", PQgetvalue(r, i, 5));
		}
		fputc('\n', mem);
		text(mem, "pre", "body", PQgetvalue(r, i, 1));
		fputs("</li>\n", mem);
	}
	fputs("</ol>\n", mem);
	return 0;
}

static void reminders(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	fputs("<ul class=\"reminders\">\n", mem);
	for (int i = 0; i < n; i++) {
		li_open(mem, "reminder ", PQgetvalue(r, i, 3));
		when(mem, r, i, 1, 2);
		span(mem, "state", PQgetvalue(r, i, 3));
		span(mem, "assignee", PQgetvalue(r, i, 4));
		span(mem, "message", PQgetvalue(r, i, 0));
		fputs("</li>\n", mem);
	}
	fputs("</ul>\n", mem);
}

/* task_button - the done / reopen form of task id */
static void task_button(struct sec *x, const char *id, const char *action, const char *label)
{
	char p[48], name[16];
	snprintf(p, sizeof(p), "/t/%s/%s", id, action);
	snprintf(name, sizeof(name), "task-%s", action);
	form_open(x->mem, x->c, x->s, p, name, "class=\"inline\"");
	fprintf(x->mem, "<button type=\"submit\">%s</button></form>", label);
}

static int tasks(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	if (x->can_act) {
		form(x, "task", "customer-task", "id=\"act-task\" class=\"task-form\"");
		fputs("<p><label>Task <input name=\"title\" required maxlength=\"300\"></label>\n"
		      "<label>Due <input type=\"datetime-local\" name=\"due\"></label>\n"
		      "<label>For <select name=\"user\">",
		      mem);
		if (options(x, SQL_USERS, "nobody") < 0)
			return -1;
		fputs("</select></label> <button type=\"submit\">Add task</button></p>\n</form>\n", mem);
	}
	fputs("<ul class=\"tasks\">\n", mem);
	for (int i = 0; i < n; i++) {
		const char *state = PQgetvalue(r, i, 5);
		fputs("<li class=\"task ", mem);
		esc_attr(mem, state);
		fputs("\" data-id=\"", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">", mem);
		text(mem, "span", "title", PQgetvalue(r, i, 1));
		if (PQgetvalue(r, i, 2)[0] != '\0') {
			fputs(" <span class=\"due\">due ", mem);
			when(mem, r, i, 2, 3);
			fputs("</span>", mem);
		}
		span(mem, "assignee", PQgetvalue(r, i, 4));
		span(mem, "state", state);
		if (strcmp(state, "done") == 0) {
			fputs(" <span class=\"done-by\">", mem);
			esc_html(mem, PQgetvalue(r, i, 6));
			fputc(' ', mem);
			esc_html(mem, PQgetvalue(r, i, 7));
			fputs("</span>", mem);
		}
		if (x->can_act) {
			fputc(' ', mem);
			if (strcmp(state, "done") == 0)
				task_button(x, PQgetvalue(r, i, 0), "reopen", "Reopen");
			else
				task_button(x, PQgetvalue(r, i, 0), "done", "Done");
		}
		fputs("</li>\n", mem);
	}
	fputs("</ul>\n", mem);
	return 0;
}

static void files(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	fputs("<ul class=\"files\">\n", mem);
	for (int i = 0; i < n; i++) {
		fputs("<li><a class=\"file\" href=\"", mem);
		esc_attr(mem, x->c->req->script_name);
		fputs("/f/", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(r, i, 1));
		fputs("</a> ", mem);
		text(mem, "span", "type", PQgetvalue(r, i, 2));
		fprintf(mem, " <span class=\"size\">%s B</span> ", PQgetvalue(r, i, 3));
		text(mem, "span", "who", PQgetvalue(r, i, 4));
		fputc(' ', mem);
		when(mem, r, i, 5, 6);
		fputs("</li>\n", mem);
	}
	fputs("</ul>\n", mem);
}

static void labels(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	fputs("<p class=\"labels\">", mem);
	for (int i = 0; i < n; i++) {
		text(mem, "span", "label", PQgetvalue(r, i, 1));
		fputc(' ', mem);
	}
	fputs("</p>\n", mem);
	if (!x->can_act)
		return;
	if (n > 0) {
		form(x, "unlabel", "customer-unlabel", "id=\"act-unlabel\" class=\"inline\"");
		for (int i = 0; i < n; i++) {
			fputs("<button type=\"submit\" name=\"label\" value=\"", mem);
			esc_attr(mem, PQgetvalue(r, i, 0));
			fputs("\">Remove ", mem);
			esc_html(mem, PQgetvalue(r, i, 1));
			fputs("</button>\n", mem);
		}
		fputs("</form>\n", mem);
	}
	form(x, "label", "customer-label", "id=\"act-label\" class=\"inline\"");
	fputs("<label>Label <input name=\"label\" required maxlength=\"64\"></label> "
	      "<button type=\"submit\">Add</button>\n</form>\n",
	      mem);
}

static void timeline(struct sec *x, const PGresult *r, int n)
{
	FILE *mem = x->mem;
	fputs("<ol class=\"timeline\">\n", mem);
	for (int i = 0; i < n; i++) {
		li_open(mem, "", PQgetvalue(r, i, 0));
		when(mem, r, i, 5, 6);
		span(mem, "kind", PQgetvalue(r, i, 0));
		span(mem, "who", PQgetvalue(r, i, 1));
		fputs(" <span class=\"what\">", mem);
		if (PQgetvalue(r, i, 4)[0] != '\0') {
			fputs("<a href=\"", mem);
			esc_attr(mem, x->c->req->script_name);
			fputs("/c/", mem);
			esc_attr(mem, PQgetvalue(r, i, 4));
			fputs("\">", mem);
			esc_html(mem, PQgetvalue(r, i, 2));
			fputs("</a>", mem);
		} else {
			esc_html(mem, PQgetvalue(r, i, 2));
		}
		fputs("</span>", mem);
		if (PQgetvalue(r, i, 3)[0] != '\0') {
			span(mem, "extra", PQgetvalue(r, i, 3));
		}
		fputs("</li>\n", mem);
	}
	fputs("</ol>\n", mem);
}

int cust_section_write(FILE *mem, struct ctx *c, const struct session *s, PGconn *conn,
                       const struct cust_kind *k, const char *id, enum cust_section sec,
                       const char *const f[SEC_N], char *err, size_t errlen)
{
	struct sec x = {mem, c, s, conn, k, id, strcmp(s->role, "auditor") != 0, err, errlen};
	const char *p[3] = {id, conv_tz(c), f[sec]};
	PGresult *r = db_query(conn, sections[sec].sql[k->kind], sections[sec].nparams, p, err, errlen);
	if (r == NULL)
		return -1;
	int n = PQntuples(r), max = sec == SEC_TIMELINE ? TIMELINE_SHOWN : CUST_ROWS_MAX, rc = 0;
	int shown = n < max ? n : max;
	fprintf(mem, "<section id=\"%s\" class=\"customer-section\">\n<h2>%s</h2>\n", cust_section_names[sec],
	        titles[sec]);
	cust_filter_nav(mem, c, k, id, sec, f);
	switch (sec) {
	case SEC_CONV:
		conversations(&x, r, shown);
		break;
	case SEC_NOTES:
		rc = notes(&x, r, shown);
		break;
	case SEC_REMINDERS:
		reminders(&x, r, shown);
		break;
	case SEC_TASKS:
		rc = tasks(&x, r, shown);
		break;
	case SEC_FILES:
		files(&x, r, shown);
		break;
	case SEC_LABELS:
		labels(&x, r, shown);
		break;
	default:
		timeline(&x, r, shown);
		break;
	}
	if (n == 0)
		fputs("<p class=\"empty\">Nothing here.</p>\n", mem);
	if (n > max)
		fprintf(mem, "<p class=\"more\">Only the newest %d are shown.</p>\n", max);
	fputs("</section>\n", mem);
	PQclear(r);
	return rc;
}
