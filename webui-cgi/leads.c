/* leads.c - GET /leads: the work queue of the lead flow. Organisations and
 * contacts never contacted come first (first_contact_at NULL, oldest
 * first), then those whose last contact (their newest note, or the first
 * contact) is oldest. Searchable by name, e-mail and phone (q), filtered
 * by lead status and kind, LEADS_PAGE rows a page, at most LEADS_PAGES
 * pages. A customer reserved by someone else shows "held by NAME".
 */
#include "leads.h"

#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define LEADS_PAGE       50
#define LEADS_PAGE_TEXT  "50"
#define LEADS_PAGES      200
#define LEADS_Q_MAX      200
#define LEADS_DIGITS_MIN 4

/* $1 q or NULL, $2 the digits of a phone-like q or NULL, $3 'o', 'p' or
 * NULL (both), $4 the lead statuses shown (text[]), $5 me, $6 offset */
/* clang-format off */
#define SQL_QUEUE_PART(KIND, T, NAME, EXTRA, MATCH, PHONE)                                      \
	" SELECT '" KIND "' AS kind, x.id, " NAME " AS name, x.lead_status, x.first_contact_at,"    \
	"  greatest(x.first_contact_at, (SELECT max(n.created_at) FROM mailroom.notes n"            \
	"   WHERE n." T "_id = x.id)) AS last_contact, x.created_at, x.reserved_by,"                \
	"  " EXTRA " AS extra"                                                                      \
	" FROM mailroom." T "s x"                                                                   \
	" WHERE x.active AND x.merged_into IS NULL AND x.lead_status = ANY ($4::text[])"            \
	"  AND ($3::text IS NULL OR $3::text = '" KIND "')"                                         \
	"  AND ($1::text IS NULL OR strpos(lower(" NAME "), lower($1::text)) > 0 OR " MATCH         \
	"   OR ($2::text IS NOT NULL AND " PHONE "))"
#define SQL_QUEUE                                                                               \
	"SELECT l.kind, l.id, l.name, l.lead_status,"                                               \
	" to_char(l.last_contact AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"            \
	" to_char(l.last_contact AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"                        \
	" coalesce(l.reserved_by::text, ''), coalesce(u.display_name, ''), l.extra FROM ("          \
	SQL_QUEUE_PART("o", "organisation", "x.name", "coalesce(x.city, '')",                       \
	 "EXISTS (SELECT 1 FROM mailroom.organisation_domains d WHERE d.organisation_id = x.id"     \
	 " AND strpos($1::text, '@') > 0 AND d.domain = lower(split_part($1::text, '@', 2)))",      \
	 "strpos(regexp_replace(coalesce(x.phone, ''), '[^0-9]', '', 'g'), $2::text) > 0")          \
	" UNION ALL"                                                                                \
	SQL_QUEUE_PART("p", "contact",                                                              \
	 "coalesce(nullif(concat_ws(' ', x.first_name, x.last_name), ''), (SELECT min(a.address)"   \
	 " FROM mailroom.contact_addresses a WHERE a.contact_id = x.id), '#' || x.id)",             \
	 "coalesce((SELECT o.name FROM mailroom.organisations o WHERE o.id = x.organisation_id), '')", \
	 "EXISTS (SELECT 1 FROM mailroom.contact_addresses a WHERE a.contact_id = x.id"             \
	 " AND strpos(a.address, lower($1::text)) > 0)",                                            \
	 "EXISTS (SELECT 1 FROM mailroom.contact_phones f WHERE f.contact_id = x.id"                \
	 " AND strpos(regexp_replace(f.phone, '[^0-9]', '', 'g'), $2::text) > 0)")                  \
	") l LEFT JOIN mailroom.users u ON u.id = l.reserved_by AND u.id <> $5::bigint"             \
	" ORDER BY l.first_contact_at IS NOT NULL, coalesce(l.last_contact, l.created_at), l.kind, l.id" \
	" OFFSET $6::integer LIMIT " LEADS_PAGE_TEXT " + 1"
/* clang-format on */

/* the columns of SQL_QUEUE */
enum { COL_KIND, COL_ID, COL_NAME, COL_LEAD, COL_ISO, COL_SHOWN, COL_RESERVED, COL_HELD, COL_EXTRA };

static const char *const queue_keys[] = {"q", "lead", "kind", "page", NULL};
static const char *const lead_values[] = {"open", "none", "in_progress", "closed", "all", NULL};

/* the query of one queue page, checked */
struct queue_filter {
	const char *q;                /* NULL: no search */
	char digits[LEADS_Q_MAX + 1]; /* "" unless q looks like a phone number */
	const char *lead;             /* one of lead_values; default open */
	const char *kind;             /* "org", "contact" or NULL */
	int page;                     /* 1 .. LEADS_PAGES */
};

int leads_query_ok(const struct form *q, const char *const *allowed, char *why, size_t whylen)
{
	for (size_t i = 0; i < q->n; i++) {
		if (!one_of(q->field[i].name, allowed)) {
			size_t used = (size_t)snprintf(why, whylen, "unknown parameter; allowed:");
			for (const char *const *k = allowed; *k != NULL && used < whylen; k++)
				used += (size_t)snprintf(why + used, whylen - used, " %s", *k);
			return 0;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(q->field[i].name, q->field[j].name) == 0) {
				snprintf(why, whylen, "a parameter is given twice");
				return 0;
			}
	}
	return 1;
}

int leads_bad_request(struct ctx *c, const char *why)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return respond_error(c->out, "400 Bad Request");
	page_head(mem, "400 Bad Request");
	fputs("<h1>400 Bad Request</h1>\n<p class=\"error\">", mem);
	esc_html(mem, why);
	fputs("</p>\n", mem);
	page_foot(mem);
	if (fclose(mem) != 0) {
		free(body);
		return respond_error(c->out, "400 Bad Request");
	}
	int rc = respond_page(c->out, "400 Bad Request", NULL, body, len);
	free(body);
	return rc;
}

/* phone_digits - the digits of q when q looks like a phone number (only
 * digits, spaces and + ( ) - / . with at least LEADS_DIGITS_MIN digits), else "" */
static void phone_digits(const char *q, char out[LEADS_Q_MAX + 1])
{
	size_t n = 0;
	out[0] = '\0';
	if (strspn(q, "0123456789+()-/. ") != strlen(q))
		return;
	for (; *q != '\0' && n < LEADS_Q_MAX; q++)
		if (*q >= '0' && *q <= '9')
			out[n++] = *q;
	out[n >= LEADS_DIGITS_MIN ? n : 0] = '\0';
}

/* queue_parse - check the query of the queue: 1, or 0 with why */
static int queue_parse(const struct form *q, struct queue_filter *f, char *why, size_t whylen)
{
	memset(f, 0, sizeof(*f));
	f->lead = "open";
	f->page = 1;
	if (!leads_query_ok(q, queue_keys, why, whylen))
		return 0;
	const char *v;
	if ((v = form_get(q, "q")) != NULL && v[0] != '\0') {
		if (!text_ok(v, LEADS_Q_MAX, 0)) {
			snprintf(why, whylen, "q: 1 to %d characters of text", LEADS_Q_MAX);
			return 0;
		}
		f->q = v;
		phone_digits(v, f->digits);
	}
	if ((v = form_get(q, "lead")) != NULL && v[0] != '\0') {
		if (!one_of(v, lead_values)) {
			snprintf(why, whylen, "lead: open, none, in_progress, closed or all");
			return 0;
		}
		f->lead = v;
	}
	if ((v = form_get(q, "kind")) != NULL && v[0] != '\0') {
		if (strcmp(v, "org") != 0 && strcmp(v, "contact") != 0) {
			snprintf(why, whylen, "kind: org or contact");
			return 0;
		}
		f->kind = v;
	}
	if ((v = form_get(q, "page")) != NULL) {
		size_t len = strlen(v);
		if (len == 0 || len > 3 || strspn(v, "0123456789") != len || atoi(v) < 1 ||
		    atoi(v) > LEADS_PAGES) {
			snprintf(why, whylen, "page: 1 to %d", LEADS_PAGES);
			return 0;
		}
		f->page = atoi(v);
	}
	return 1;
}

/* lead_array - the lead statuses shown for filter value lead, as text[] */
static const char *lead_array(const char *lead)
{
	if (strcmp(lead, "open") == 0)
		return "{none,in_progress}";
	if (strcmp(lead, "all") == 0)
		return "{none,in_progress,closed}";
	if (strcmp(lead, "none") == 0)
		return "{none}";
	return strcmp(lead, "closed") == 0 ? "{closed}" : "{in_progress}";
}

/* queue_href - a link to this queue with page p */
static void queue_href(FILE *m, const struct ctx *c, const struct queue_filter *f, int p)
{
	esc_attr(m, c->req->script_name);
	fputs("/leads?lead=", m);
	esc_url(m, f->lead);
	if (f->kind != NULL) {
		fputs("&amp;kind=", m);
		esc_url(m, f->kind);
	}
	if (f->q != NULL) {
		fputs("&amp;q=", m);
		esc_url(m, f->q);
	}
	fprintf(m, "&amp;page=%d", p);
}

/* queue_form - the search and filter form */
static void queue_form(FILE *m, const struct ctx *c, const struct queue_filter *f)
{
	fputs("<form method=\"get\" class=\"lead-search\" action=\"", m);
	esc_attr(m, c->req->script_name);
	fputs("/leads\">\n<label>Name, e-mail or phone <input name=\"q\" maxlength=\"200\" value=\"", m);
	esc_attr(m, f->q != NULL ? f->q : "");
	fputs("\"></label>\n<label>Lead <select name=\"lead\">", m);
	for (const char *const *v = lead_values; *v != NULL; v++) {
		fputs("<option", m);
		if (strcmp(*v, f->lead) == 0)
			fputs(" selected", m);
		fputs(">", m);
		esc_html(m, *v);
		fputs("</option>", m);
	}
	fprintf(m,
	        "</select></label>\n<label>Kind <select name=\"kind\"><option value=\"\">all</option>"
	        "<option value=\"org\"%s>organisations</option><option value=\"contact\"%s>contacts</option>"
	        "</select></label>\n<button type=\"submit\">Show</button>\n</form>\n",
	        f->kind != NULL && strcmp(f->kind, "org") == 0 ? " selected" : "",
	        f->kind != NULL && strcmp(f->kind, "contact") == 0 ? " selected" : "");
}

/* queue_row - one customer of the queue */
static void queue_row(FILE *m, const struct ctx *c, const struct session *s, PGresult *r, int i)
{
	const char *kind = PQgetvalue(r, i, COL_KIND), *id = PQgetvalue(r, i, COL_ID);
	const char *reserved = PQgetvalue(r, i, COL_RESERVED);
	int org = strcmp(kind, "o") == 0;
	fprintf(m, "<tr class=\"lead\" data-kind=\"%s\" data-id=\"", org ? "org" : "contact");
	esc_attr(m, id);
	fputs("\"><td><a class=\"customer\" href=\"", m);
	esc_attr(m, c->req->script_name);
	fputs(org ? "/o/" : "/p/", m);
	esc_url(m, id);
	fputs("\">", m);
	esc_html(m, PQgetvalue(r, i, COL_NAME));
	fprintf(m, "</a></td>\n<td class=\"kind\">%s</td>\n<td class=\"extra\">",
	        org ? "organisation" : "contact");
	esc_html(m, PQgetvalue(r, i, COL_EXTRA));
	fputs("</td>\n<td><span class=\"lead-status\">", m);
	esc_html(m, PQgetvalue(r, i, COL_LEAD));
	fputs("</span></td>\n<td class=\"contacted\">", m);
	if (PQgetisnull(r, i, COL_ISO))
		fputs("<span class=\"never\">never</span>", m);
	else {
		fputs("<time datetime=\"", m);
		esc_attr(m, PQgetvalue(r, i, COL_ISO));
		fputs("\">", m);
		esc_html(m, PQgetvalue(r, i, COL_SHOWN));
		fputs(" UTC</time>", m);
	}
	fputs("</td>\n<td>", m);
	if (reserved[0] != '\0' && strcmp(reserved, s->user_id) != 0) {
		fputs("<span class=\"held\">held by ", m);
		esc_html(m, PQgetvalue(r, i, COL_HELD));
		fputs("</span>", m);
	} else if (reserved[0] != '\0')
		fputs("<span class=\"mine\">reserved for you</span>", m);
	fputs("</td></tr>\n", m);
}

int leads_page(struct ctx *c, const char *arg)
{
	(void)arg;
	struct queue_filter f;
	struct session s;
	PGconn *conn;
	char why[160], err[1024], offset[16], *body = NULL;
	size_t len = 0;
	if (!queue_parse(&c->query, &f, why, sizeof(why)))
		return leads_bad_request(c, why);
	if (!web_begin(c, &conn, &s))
		return 0;
	snprintf(offset, sizeof(offset), "%d", (f.page - 1) * LEADS_PAGE);
	const char *kind = f.kind == NULL ? NULL : strcmp(f.kind, "org") == 0 ? "o" : "p";
	const char *p[6] = {f.q,   f.digits[0] != '\0' ? f.digits : NULL, kind, lead_array(f.lead), s.user_id,
	                    offset};
	PGresult *r = db_query(conn, SQL_QUEUE, 6, p, err, sizeof(err));
	db_close(&conn);
	if (r == NULL)
		return server_error(c, "lead queue", err);
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(r);
		return server_error(c, "page", "out of memory");
	}
	int n = PQntuples(r), shown = n > LEADS_PAGE ? LEADS_PAGE : n;
	app_head(mem, c, &s, "Leads");
	fputs("<h1>Leads</h1>\n<p class=\"lead-links\"><a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/leads/report\">Report</a></p>\n", mem);
	queue_form(mem, c, &f);
	fprintf(mem, "<p class=\"count\">%d lead%s on page %d</p>\n", shown, shown == 1 ? "" : "s", f.page);
	fputs("<table class=\"leads\">\n<thead><tr><th>Name</th><th>Kind</th><th>City / organisation</th>"
	      "<th>Lead</th><th>Last contact</th><th>Reserved</th></tr></thead>\n<tbody>\n",
	      mem);
	for (int i = 0; i < shown; i++)
		queue_row(mem, c, &s, r, i);
	fputs("</tbody>\n</table>\n<p class=\"pages\">", mem);
	if (f.page > 1) {
		fputs("<a rel=\"prev\" href=\"", mem);
		queue_href(mem, c, &f, f.page - 1);
		fputs("\">Previous page</a> ", mem);
	}
	if (n > LEADS_PAGE && f.page < LEADS_PAGES) {
		fputs("<a rel=\"next\" href=\"", mem);
		queue_href(mem, c, &f, f.page + 1);
		fputs("\">Next page</a>", mem);
	}
	fputs("</p>\n", mem);
	PQclear(r);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}
