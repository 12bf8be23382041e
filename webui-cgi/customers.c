/* customers.c - GET /customers: search organisations and contacts.
 *
 * q is read in one of four ways, decided here so that each query's plan
 * uses the index that fits (schema/020: pattern indexes on names, postal
 * code and city; the primary keys of addresses and domains):
 *   "doc*"          a name prefix (organisation name, first or last name)
 *   an @ in it      an e-mail address (exact) or "@domain"
 *   phone-like      digits, spaces and + ( ) / . - with 6 or more digits:
 *                   a phone number compared by its digits, or a postal code
 *   anything else   every word in the name, or a city or postal code prefix
 * The other filters (kind, lead, owner, active, label) narrow it down.
 * Merged records are never listed; without active, only active ones.
 */
#include "customers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

#define CUST_MAX      100
#define CUST_MAX_TEXT "100"
#define Q_MAX         200
#define WORDS_MAX     8

/* $1 mode, $2 q, $3 LIKE prefix pattern, $4 words, $5 kind, $6 lead,
 * $7 owner, $8 active, $9 label, $10 phone digits */
#define SQL_FILTERS(t, labels, col)                                                                          \
	" AND ($6::text IS NULL OR " t ".lead_status = $6) AND ($7::bigint IS NULL OR " t ".owner_id = $7)"  \
	" AND " t ".active = coalesce($8::boolean, " t ".active)"                                            \
	" AND ($9::bigint IS NULL OR EXISTS (SELECT 1 FROM mailroom." labels " l WHERE l." col " = " t       \
	".id AND l.label_id = $9))"
#define SQL_SEARCH                                                                                           \
	"SELECT * FROM (SELECT 'o' AS k, o.id, o.name AS name, o.kind, NULL::text AS org, o.city,"           \
	" o.postal_code, (SELECT string_agg(d.domain, ' ' ORDER BY d.domain)"                                \
	"  FROM mailroom.organisation_domains d WHERE d.organisation_id = o.id) AS mail, o.phone,"           \
	" u.display_name AS owner, o.lead_status, o.active"                                                  \
	" FROM mailroom.organisations o LEFT JOIN mailroom.users u ON u.id = o.owner_id"                     \
	" WHERE o.merged_into IS NULL AND coalesce($5::text, 'org') = 'org'" SQL_FILTERS(                    \
	    "o", "organisation_labels",                                                                      \
	    "organisation_id") " AND ($1::text = 'all' OR ($1 = 'prefix' AND lower(o.name) LIKE lower($3))"  \
	                       "  OR ($1 = 'email' AND o.id = (SELECT d.organisation_id FROM "               \
	                       "mailroom.organisation_domains d"                                             \
	                       "   WHERE d.domain = split_part(lower($2), '@', 2)))"                         \
	                       "  OR ($1 = 'phone' AND (regexp_replace(o.phone, '[^0-9]', '', 'g') = $10 "   \
	                       "OR o.postal_code LIKE $3))"                                                  \
	                       "  OR ($1 = 'words' AND (NOT EXISTS (SELECT 1 FROM unnest($4::text[]) w"      \
	                       "   WHERE strpos(lower(o.name), lower(w)) = 0) OR lower(o.city) LIKE "        \
	                       "lower($3) OR "                                                               \
	                       "o.postal_code LIKE $3)))"                                                    \
	                       " UNION ALL SELECT 'p', c.id, concat_ws(' ', c.first_name, c.last_name), "    \
	                       "'contact', po.name,"                                                         \
	                       " po.city, po.postal_code, (SELECT string_agg(a.address, ' ' ORDER BY "       \
	                       "a.address)"                                                                  \
	                       "  FROM mailroom.contact_addresses a WHERE a.contact_id = c.id),"             \
	                       " (SELECT string_agg(ph.phone, ', ' ORDER BY ph.phone) FROM "                 \
	                       "mailroom.contact_phones ph"                                                  \
	                       "  WHERE ph.contact_id = c.id), u.display_name, c.lead_status, c.active"      \
	                       " FROM mailroom.contacts c LEFT JOIN mailroom.organisations po ON po.id = "   \
	                       "c.organisation_id"                                                           \
	                       " LEFT JOIN mailroom.users u ON u.id = c.owner_id"                            \
	                       " WHERE c.merged_into IS NULL AND coalesce($5::text, 'contact') = "           \
	                       "'contact'" SQL_FILTERS(                                                      \
	                           "c", "contact_labels",                                                    \
	                           "contact_id") " AND ($1 = 'all' OR ($1 = 'prefix' AND "                   \
	                                         "(lower(c.last_name) LIKE lower($3) OR "                    \
	                                         "lower(c.first_name) LIKE "                                 \
	                                         "lower($3)))"                                               \
	                                         "  OR ($1 = 'email' AND (c.id = (SELECT a.contact_id FROM " \
	                                         "mailroom.contact_addresses a"                              \
	                                         " WHERE a.address = lower($2)) OR (left(lower($2), 1) = "   \
	                                         "'@' AND c.id IN (SELECT a.contact_id"                      \
	                                         " FROM mailroom.contact_addresses a WHERE a.address LIKE "  \
	                                         "'%' || lower($3)))))"                                      \
	                                         "  OR ($1 = 'phone' AND c.id IN (SELECT ph.contact_id "     \
	                                         "FROM mailroom.contact_phones ph"                           \
	                                         "   WHERE regexp_replace(ph.phone, '[^0-9]', '', 'g') = "   \
	                                         "$10))"                                                     \
	                                         "  OR ($1 = 'words' AND NOT EXISTS (SELECT 1 FROM "         \
	                                         "unnest($4::text[]) w"                                      \
	                                         "   WHERE strpos(lower(concat_ws(' ', c.first_name, "       \
	                                         "c.last_name)), lower(w)) = 0)))"                           \
	                                         ") r ORDER BY lower(name), k, id LIMIT " CUST_MAX_TEXT      \
	                                         " + 1"

static const char *const kinds[] = {"org", "contact", NULL};
static const char *const leads[] = {"none", "in_progress", "closed", NULL};

/* like_prefix - s with LIKE's % _ \ escaped, then % */
static char *like_prefix(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(2 * n + 2), *o = out;
	if (out == NULL)
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* phone_digits - the digits of q when q looks like a phone number or a
 * postal code (only digits, spaces and + ( ) / . -, at least 4 digits) */
static int phone_digits(const char *q, char *digits, size_t cap)
{
	size_t n = 0;
	for (const char *p = q; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= cap)
				return 0;
			digits[n++] = *p;
		} else if (strchr(" +()/.-", *p) == NULL)
			return 0;
	}
	digits[n] = '\0';
	return n >= 4;
}

/* words_array - the words of q as a PostgreSQL text[] literal
 * (sent as a parameter); NULL when out of memory or too many words */
static char *words_array(const char *q)
{
	char *out = malloc(2 * strlen(q) + 4 * WORDS_MAX + 3), *o = out;
	int n = 0;
	if (out == NULL)
		return NULL;
	*o++ = '{';
	for (const char *p = q; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (++n > WORDS_MAX) {
			free(out);
			return NULL;
		}
		if (n > 1)
			*o++ = ',';
		*o++ = '"';
		for (; *p && *p != ' ' && *p != '\t'; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* cell - one escaped table cell of class cls */
static void cell(FILE *mem, const char *cls, const char *v)
{
	fprintf(mem, "<td class=\"%s\">", cls);
	esc_html(mem, v);
	fputs("</td>", mem);
}

/* result_row - one tr.customer */
static void result_row(FILE *mem, struct ctx *c, PGresult *r, int i)
{
	const char *k = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 2);
	fprintf(mem, "<tr class=\"customer%s\" data-kind=\"%s\" data-id=\"",
	        k[0] == 'o' ? " org" : " contact", k[0] == 'o' ? "org" : "contact");
	esc_attr(mem, PQgetvalue(r, i, 1));
	fputs("\"><td class=\"name\"><a class=\"customer\" href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs(k[0] == 'o' ? "/o/" : "/p/", mem);
	esc_attr(mem, PQgetvalue(r, i, 1));
	fputs("\">", mem);
	esc_html(mem, name[0] != '\0'                  ? name
	              : PQgetvalue(r, i, 7)[0] != '\0' ? PQgetvalue(r, i, 7)
	                                               : "(no name)");
	fputs("</a></td>", mem);
	cell(mem, "kind", PQgetvalue(r, i, 3));
	cell(mem, "org", PQgetvalue(r, i, 4));
	cell(mem, "place", PQgetvalue(r, i, 6));
	fputs("<td class=\"city\">", mem);
	esc_html(mem, PQgetvalue(r, i, 5));
	fputs("</td>", mem);
	cell(mem, "mail", PQgetvalue(r, i, 7));
	cell(mem, "phone", PQgetvalue(r, i, 8));
	cell(mem, "owner", PQgetvalue(r, i, 9));
	cell(mem, "lead", PQgetvalue(r, i, 10));
	cell(mem, "active", strcmp(PQgetvalue(r, i, 11), "t") == 0 ? "active" : "inactive");
	fputs("</tr>\n", mem);
}

/* search_form - the GET form with the current values */
static void search_form(FILE *mem, struct ctx *c, const char *q, const char *kind, const char *lead)
{
	fputs("<form method=\"get\" class=\"customer-search\" action=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/customers\">\n<label>Search <input name=\"q\" maxlength=\"200\" value=\"", mem);
	esc_attr(mem, q != NULL ? q : "");
	fputs("\"></label>\n<select name=\"kind\"><option value=\"\">all</option>", mem);
	for (int i = 0; kinds[i] != NULL; i++)
		fprintf(mem, "<option%s>%s</option>",
		        kind != NULL && strcmp(kind, kinds[i]) == 0 ? " selected" : "", kinds[i]);
	fputs("</select>\n<select name=\"lead\"><option value=\"\">any lead status</option>", mem);
	for (int i = 0; leads[i] != NULL; i++)
		fprintf(mem, "<option%s>%s</option>",
		        lead != NULL && strcmp(lead, leads[i]) == 0 ? " selected" : "", leads[i]);
	fputs("</select>\n<button type=\"submit\">Search</button>\n</form>\n<p class=\"new\"><a href=\"",
	      mem);
	esc_attr(mem, c->req->script_name);
	fputs("/o/new\">New organisation</a> <a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/p/new\">New contact</a></p>\n", mem);
}

/* opt - a query parameter, NULL when absent or empty */
static const char *opt(struct ctx *c, const char *name)
{
	const char *v = form_get(&c->query, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

int customers_search(struct ctx *c, const char *arg)
{
	(void)arg;
	const char *q = opt(c, "q"), *kind = opt(c, "kind"), *lead = opt(c, "lead"), *owner = opt(c, "owner");
	const char *active = opt(c, "active"), *label = opt(c, "label");
	static const char *const bools[] = {"1", "0", NULL};
	if ((q != NULL && !text_ok(q, Q_MAX, 0)) || (kind != NULL && !one_of(kind, kinds)) ||
	    (lead != NULL && !one_of(lead, leads)) || (owner != NULL && !id_ok(owner)) ||
	    (active != NULL && !one_of(active, bools)) || (label != NULL && !id_ok(label)))
		return respond_error(c->out, "400 Bad Request");
	char digits[64] = "", *lower = NULL, *pattern = NULL, *words = NULL;
	const char *mode = "all";
	if (q != NULL) {
		size_t n = strlen(q);
		lower = strdup(q); /* lower case in SQL: lower() knows more than ASCII */
		if (n > 1 && q[n - 1] == '*') {
			mode = "prefix";
			if (lower != NULL)
				lower[n - 1] = '\0';
		} else if (strchr(q, '@') != NULL)
			mode = "email";
		else if (phone_digits(q, digits, sizeof(digits)))
			mode = "phone";
		else
			mode = "words";
		pattern = lower != NULL ? like_prefix(lower) : NULL;
		words = lower != NULL ? words_array(lower) : NULL;
		if (lower == NULL || pattern == NULL || (words == NULL && strcmp(mode, "words") == 0)) {
			free(lower);
			free(pattern);
			free(words);
			return respond_error(c->out, "400 Bad Request");
		}
	}
	struct session s;
	PGconn *conn;
	char err[1024], *body = NULL;
	size_t len = 0;
	if (!web_begin(c, &conn, &s)) {
		free(lower);
		free(pattern);
		free(words);
		return 0;
	}
	const char *p[10] = {mode,
	                     lower,
	                     pattern,
	                     words != NULL ? words : "{}",
	                     kind == NULL               ? NULL
	                     : strcmp(kind, "org") == 0 ? "org"
	                                                : "contact",
	                     lead,
	                     owner,
	                     active != NULL ? active : "1",
	                     label,
	                     digits};
	PGresult *r = db_query(conn, SQL_SEARCH, 10, p, err, sizeof(err));
	free(lower);
	free(pattern);
	free(words);
	db_close(&conn);
	if (r == NULL)
		return server_error(c, "customers", err);
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(r);
		return server_error(c, "page", "out of memory");
	}
	app_head(mem, c, &s, "Customers");
	fputs("<h1>Customers</h1>\n", mem);
	search_form(mem, c, q, kind, lead);
	int n = PQntuples(r);
	fprintf(mem, "<p class=\"count\">%d match%s%s</p>\n", n > CUST_MAX ? CUST_MAX : n, n == 1 ? "" : "es",
	        n > CUST_MAX ? " (the first " CUST_MAX_TEXT "; narrow the search)" : "");
	fputs("<table class=\"customers\">\n<thead><tr><th>Name</th><th>Kind</th><th>Organisation</th>"
	      "<th>Postal code</th><th>City</th><th>E-mail / domains</th><th>Phone</th><th>Owner</th>"
	      "<th>Lead</th><th>Active</th></tr></thead>\n<tbody>\n",
	      mem);
	for (int i = 0; i < n && i < CUST_MAX; i++)
		result_row(mem, c, r, i);
	fputs("</tbody>\n</table>\n", mem);
	PQclear(r);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}
