/* timeline.c - one list of a conversation's notes, reminders and actions.
 *
 * Notes and reminders are rows visible through row-level security; the
 * actions come from the audit trail through
 * mailroom.conversation_history(id), which answers nothing for a
 * conversation the user may not see. One query merges the three by time.
 */
#include "timeline.h"

#include <stdio.h>

#include "convpage.h"
#include "db.h"
#include "escape.h"

/* at: sort key; kind: note, phone, call, reminder, action; who; text;
 * extra: reminder due/state/assignee or the action's new value */
#define SQL_TIMELINE                                                                                         \
	"SELECT kind, who, text, extra, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"   \
	" to_char(at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI') FROM ("                                          \
	" SELECT n.created_at AS at, n.kind, coalesce(u.display_name, '') AS who, n.body AS text,"           \
	"   coalesce(n.outcome, '') AS extra"                                                                \
	"   FROM mailroom.notes n LEFT JOIN mailroom.users u ON u.id = n.author"                             \
	"  WHERE n.conversation_id = $1::bigint"                                                             \
	" UNION ALL"                                                                                         \
	" SELECT r.created_at, 'reminder', coalesce(u.display_name, ''), r.message,"                         \
	"   'due ' || to_char(r.due_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI') || ', ' || r.state"            \
	"   || coalesce(', for ' || v.display_name, '')"                                                     \
	"   FROM mailroom.reminders r LEFT JOIN mailroom.users u ON u.id = r.created_by"                     \
	"   LEFT JOIN mailroom.users v ON v.id = r.assignee"                                                 \
	"  WHERE r.conversation_id = $1::bigint"                                                             \
	" UNION ALL"                                                                                         \
	" SELECT h.at, 'action', h.actor, h.action, coalesce(left(h.after::text, 500), '')"                  \
	"   FROM mailroom.conversation_history($1::bigint) h"                                                \
	") t ORDER BY at, kind LIMIT 2001"

int timeline_write(FILE *mem, PGconn *conn, const char *id, const char *tz, char *err, size_t errlen)
{
	const char *p[2] = {id, tz};
	PGresult *r = db_query(conn, SQL_TIMELINE, 2, p, err, errlen);
	if (r == NULL)
		return -1;
	int n = PQntuples(r);
	fputs("<section class=\"history\">\n<h2>Timeline</h2>\n<ol class=\"timeline\">\n", mem);
	for (int i = 0; i < n && i < TIMELINE_MAX; i++) {
		fputs("<li class=\"", mem);
		esc_attr(mem, PQgetvalue(r, i, 0));
		fputs("\">", mem);
		conv_time(mem, PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
		fputs(" <span class=\"kind\">", mem);
		esc_html(mem, PQgetvalue(r, i, 0));
		fputs("</span> <span class=\"who\">", mem);
		esc_html(mem, PQgetvalue(r, i, 1));
		fputs("</span> <span class=\"what\">", mem);
		esc_html(mem, PQgetvalue(r, i, 2));
		fputs("</span>", mem);
		if (PQgetvalue(r, i, 3)[0] != '\0') {
			fputs(" <span class=\"extra\">", mem);
			esc_html(mem, PQgetvalue(r, i, 3));
			fputs("</span>", mem);
		}
		fputs("</li>\n", mem);
	}
	if (n == 0)
		fputs("<li class=\"empty\">Nothing yet.</li>\n", mem);
	fputs("</ol>\n", mem);
	if (n > TIMELINE_MAX)
		fprintf(mem, "<p class=\"more\">Only the first %d entries are shown.</p>\n", TIMELINE_MAX);
	fputs("</section>\n", mem);
	PQclear(r);
	return 0;
}
