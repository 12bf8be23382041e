/* leadreport.c - GET /leads/report?from=&to=&user=: per user and window
 * (days from..to in the configured time zone; default the last 30 days)
 * the notes entered on customers, the distinct leads contacted, the leads
 * closed (schema/028_leads.sql records who closed them) and the notes'
 * outcomes (notes.outcome; a note not yet classified counts as
 * unclassified, so the four outcomes add up to the notes). Row-level
 * security limits the notes a user sees; auditors read it like everyone.
 */
#include "leads.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define REPORT_DAYS_MAX 3660

/* $1 from, $2 to (dates), $3 time zone, $4 user id or NULL (everyone) */
/* clang-format off */
#define SQL_WINDOW(COL)                                                                   \
	COL " >= ($1::date)::timestamp AT TIME ZONE $3::text"                                   \
	" AND " COL " < ($2::date + 1)::timestamp AT TIME ZONE $3::text"
#define SQL_REPORT                                                                        \
	"WITH n AS (SELECT n.author, coalesce('o' || n.organisation_id, 'p' || n.contact_id) AS lead," \
	"  coalesce(n.outcome, 'unclassified') AS outcome FROM mailroom.notes n"                \
	"  WHERE (n.organisation_id IS NOT NULL OR n.contact_id IS NOT NULL) AND n.author IS NOT NULL" \
	"  AND ($4::bigint IS NULL OR n.author = $4::bigint) AND " SQL_WINDOW("n.created_at") "),"  \
	" nn AS (SELECT author, count(*) AS notes, count(DISTINCT lead) AS leads,"               \
	"  count(*) FILTER (WHERE outcome = 'positive') AS pos,"                                \
	"  count(*) FILTER (WHERE outcome = 'negative') AS neg,"                                \
	"  count(*) FILTER (WHERE outcome = 'partial') AS part,"                                \
	"  count(*) FILTER (WHERE outcome = 'unclassified') AS uncl FROM n GROUP BY author),"   \
	" cl AS (SELECT k.changed_by AS author,"                                                \
	"  count(DISTINCT coalesce('o' || k.organisation_id, 'p' || k.contact_id)) AS closed"   \
	"  FROM mailroom.lead_changes k WHERE k.new_status = 'closed' AND k.changed_by IS NOT NULL" \
	"  AND ($4::bigint IS NULL OR k.changed_by = $4::bigint) AND " SQL_WINDOW("k.changed_at") \
	"  GROUP BY k.changed_by)"                                                              \
	" SELECT u.id, u.display_name, u.login, coalesce(nn.notes, 0), coalesce(nn.leads, 0),"  \
	" coalesce(cl.closed, 0), coalesce(nn.pos, 0), coalesce(nn.neg, 0), coalesce(nn.part, 0),"  \
	" coalesce(nn.uncl, 0)"                                                                 \
	" FROM mailroom.users u LEFT JOIN nn ON nn.author = u.id LEFT JOIN cl ON cl.author = u.id" \
	" WHERE nn.author IS NOT NULL OR cl.author IS NOT NULL OR u.id = $4::bigint"            \
	" ORDER BY u.display_name, u.id"
/* clang-format on */
#define SQL_USERS "SELECT id, display_name FROM mailroom.users ORDER BY display_name, id"

/* the columns of SQL_REPORT from the first figure on, and their headings */
#define COL_FIRST 3
static const char *const figures[] = {"notes",    "contacted", "closed",      "positive",
                                      "negative", "partial",   "unclassified"};
static const char *const headings[] = {"Notes",    "Leads contacted", "Leads closed", "Positive",
                                       "Negative", "Partial",         "Unclassified"};
#define FIGURES (sizeof(figures) / sizeof(figures[0]))

static const char *const report_keys[] = {"from", "to", "user", NULL};

/* day_parse - YYYY-MM-DD, a real day of the years 1000-9999, as days since
 * 1970-01-01 into *days; 1 or 0 */
static int day_parse(const char *s, long *days)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789") != 4 ||
	    strspn(s + 5, "0123456789") != 2 || strspn(s + 8, "0123456789") != 2)
		return 0;
	struct tm tm = {0};
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
	if (year < 1000 - 1900)
		return 0;
	time_t t = timegm(&tm);
	/* timegm normalises 02-30 to 03-02: a changed field means no such day */
	if (t == (time_t)-1 || tm.tm_year != year || tm.tm_mon != mon || tm.tm_mday != mday)
		return 0;
	*days = (long)(t / 86400);
	return 1;
}

/* day_format - days since 1970-01-01 as YYYY-MM-DD into out[11] */
static void day_format(long days, char out[11])
{
	time_t t = (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* the window and user of a report, checked */
struct report_query {
	char from[11], to[11];
	const char *user; /* NULL: everyone */
};

/* report_parse - check the report's query: 1, or 0 with why */
static int report_parse(const struct form *q, struct report_query *rq, char *why, size_t whylen)
{
	long from, to;
	const char *v;
	memset(rq, 0, sizeof(*rq));
	if (!leads_query_ok(q, report_keys, why, whylen))
		return 0;
	to = (long)(time(NULL) / 86400);
	if ((v = form_get(q, "to")) != NULL && v[0] != '\0' && !day_parse(v, &to)) {
		snprintf(why, whylen, "to: a day as YYYY-MM-DD");
		return 0;
	}
	from = to - 29;
	if ((v = form_get(q, "from")) != NULL && v[0] != '\0' && !day_parse(v, &from)) {
		snprintf(why, whylen, "from: a day as YYYY-MM-DD");
		return 0;
	}
	if (from > to) {
		snprintf(why, whylen, "from is after to");
		return 0;
	}
	if (to - from >= REPORT_DAYS_MAX) {
		snprintf(why, whylen, "the window is longer than %d days", REPORT_DAYS_MAX);
		return 0;
	}
	if ((v = form_get(q, "user")) != NULL && v[0] != '\0') {
		if (!id_ok(v)) {
			snprintf(why, whylen, "user: a user id");
			return 0;
		}
		rq->user = v;
	}
	day_format(from, rq->from);
	day_format(to, rq->to);
	return 1;
}

/* report_form - the window and user form; users lists every user */
static void report_form(FILE *m, const struct ctx *c, const struct report_query *rq, PGresult *users)
{
	fputs("<form method=\"get\" class=\"lead-report\" action=\"", m);
	esc_attr(m, c->req->script_name);
	fputs("/leads/report\">\n<label>From <input type=\"date\" name=\"from\" value=\"", m);
	esc_attr(m, rq->from);
	fputs("\"></label>\n<label>To <input type=\"date\" name=\"to\" value=\"", m);
	esc_attr(m, rq->to);
	fputs("\"></label>\n<label>User <select name=\"user\"><option value=\"\">everyone</option>", m);
	for (int i = 0; i < PQntuples(users); i++) {
		fputs("<option value=\"", m);
		esc_attr(m, PQgetvalue(users, i, 0));
		fputs("\"", m);
		if (rq->user != NULL && strcmp(rq->user, PQgetvalue(users, i, 0)) == 0)
			fputs(" selected", m);
		fputs(">", m);
		esc_html(m, PQgetvalue(users, i, 1));
		fputs("</option>", m);
	}
	fputs("</select></label>\n<button type=\"submit\">Show</button>\n</form>\n", m);
}

/* report_table - one row per user with the figures, and their sum */
static void report_table(FILE *m, PGresult *r)
{
	long long sum[FIGURES] = {0};
	fputs("<table class=\"lead-report\">\n<thead><tr><th>User</th>", m);
	for (size_t k = 0; k < FIGURES; k++)
		fprintf(m, "<th>%s</th>", headings[k]);
	fputs("</tr></thead>\n<tbody>\n", m);
	for (int i = 0; i < PQntuples(r); i++) {
		fputs("<tr class=\"agent\" data-user=\"", m);
		esc_attr(m, PQgetvalue(r, i, 0));
		fputs("\"><td class=\"name\">", m);
		esc_html(m, PQgetvalue(r, i, 1));
		fputs(" <span class=\"login\">", m);
		esc_html(m, PQgetvalue(r, i, 2));
		fputs("</span></td>", m);
		for (size_t k = 0; k < FIGURES; k++) {
			const char *v = PQgetvalue(r, i, COL_FIRST + (int)k);
			sum[k] += strtoll(v, NULL, 10);
			fprintf(m, "<td class=\"%s\">", figures[k]);
			esc_html(m, v);
			fputs("</td>", m);
		}
		fputs("</tr>\n", m);
	}
	fputs("</tbody>\n<tfoot><tr class=\"total\"><th>All</th>", m);
	for (size_t k = 0; k < FIGURES; k++)
		fprintf(m, "<td class=\"%s\">%lld</td>", figures[k], sum[k]);
	fputs("</tr></tfoot>\n</table>\n", m);
}

int leads_report(struct ctx *c, const char *arg)
{
	(void)arg;
	struct report_query rq;
	struct session s;
	PGconn *conn;
	char why[160], err[1024], *body = NULL;
	size_t len = 0;
	if (!report_parse(&c->query, &rq, why, sizeof(why)))
		return leads_bad_request(c, why);
	if (!web_begin(c, &conn, &s))
		return 0;
	const char *p[4] = {rq.from, rq.to, c->conf->deadlines_timezone, rq.user};
	PGresult *r = db_query(conn, SQL_REPORT, 4, p, err, sizeof(err)), *users = NULL;
	if (r != NULL)
		users = db_query(conn, SQL_USERS, 0, NULL, err, sizeof(err));
	db_close(&conn);
	if (users == NULL) {
		PQclear(r);
		return server_error(c, "lead report", err);
	}
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(r);
		PQclear(users);
		return server_error(c, "page", "out of memory");
	}
	app_head(mem, c, &s, "Lead report");
	fputs("<h1>Lead report</h1>\n<p class=\"lead-links\"><a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/leads\">Lead queue</a></p>\n", mem);
	report_form(mem, c, &rq, users);
	fputs("<p class=\"window\">From <time datetime=\"", mem);
	esc_attr(mem, rq.from);
	fputs("\">", mem);
	esc_html(mem, rq.from);
	fputs("</time> to <time datetime=\"", mem);
	esc_attr(mem, rq.to);
	fputs("\">", mem);
	esc_html(mem, rq.to);
	fputs("</time>, days in ", mem);
	esc_html(mem, c->conf->deadlines_timezone);
	fputs("</p>\n", mem);
	report_table(mem, r);
	PQclear(r);
	PQclear(users);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}
