/* custpage.c - GET SN/o/ID and SN/p/ID: the customer file page.
 *
 * The header (name, kind, owner, lead status and reservation, labels,
 * contacts or organisation, addresses) comes first, then one section per
 * part of the file (custsections.c), each filtered on its own with
 * ?SECTION=all|open|done. Every query runs as the web role with the user
 * set, so row-level security decides which conversations show: another
 * user's private conversation is never listed, not even counted. Nothing
 * here writes to the database.
 */
#include <stdlib.h>
#include <string.h>

#include "convpage.h"
#include "customer.h"
#include "db.h"
#include "escape.h"
#include "respond.h"

/* The header: the same columns for both kinds. */
#define HEAD_LABELS(LT, COL, X)                                                                              \
	"coalesce((SELECT string_agg(l.name, ', ' ORDER BY l.name) FROM " LT " x"                            \
	" JOIN mailroom.labels l ON l.id = x.label_id WHERE x." COL " = " X ".id), '')"
/* clang-format off */
#define LOCAL_TIME(x) "coalesce(to_char(" x " AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI'), '')"
#define SQL_HEAD_ORG                                                                               \
	"SELECT o.name, o.kind, o.vip, coalesce(u.display_name, o.owner, ''), o.lead_status,"      \
	" coalesce(r.display_name, ''), " LOCAL_TIME("o.reserved_at") ", "                         \
	LOCAL_TIME("o.first_contact_at") ", o.active, coalesce(o.merged_into::text, ''), '',"      \
	" concat_ws(', ', o.street, concat_ws(' ', o.postal_code, o.city), o.country),"            \
	" coalesce(o.phone, ''), coalesce(o.website, ''),"                                         \
	" coalesce((SELECT string_agg(d.domain, ', ' ORDER BY d.domain)"                           \
	"   FROM mailroom.organisation_domains d WHERE d.organisation_id = o.id), ''), '', '', '', " \
	HEAD_LABELS("mailroom.organisation_labels", "organisation_id", "o")                        \
	" FROM mailroom.organisations o LEFT JOIN mailroom.users u ON u.id = o.owner_id"           \
	" LEFT JOIN mailroom.users r ON r.id = o.reserved_by WHERE o.id = $1::bigint"
#define SQL_HEAD_CONTACT                                                                           \
	"SELECT coalesce(nullif(concat_ws(' ', p.first_name, p.last_name), ''),"                   \
	"  (SELECT min(a.address) FROM mailroom.contact_addresses a WHERE a.contact_id = p.id),"   \
	"  '#' || p.id), 'contact', false, coalesce(u.display_name, ''), p.lead_status,"           \
	" coalesce(r.display_name, ''), " LOCAL_TIME("p.reserved_at") ", "                         \
	LOCAL_TIME("p.first_contact_at") ", p.active, coalesce(p.merged_into::text, ''),"          \
	" coalesce(p.salutation, ''), '',"                                                         \
	" coalesce((SELECT string_agg(ph.phone, ', ' ORDER BY ph.phone)"                           \
	"   FROM mailroom.contact_phones ph WHERE ph.contact_id = p.id), ''), '',"                 \
	" coalesce((SELECT string_agg(a.address, ', ' ORDER BY a.address)"                         \
	"   FROM mailroom.contact_addresses a WHERE a.contact_id = p.id), ''),"                    \
	" coalesce(p.organisation_id::text, ''), coalesce(o.name, ''), coalesce(p.position, ''), " \
	HEAD_LABELS("mailroom.contact_labels", "contact_id", "p")                                  \
	" FROM mailroom.contacts p LEFT JOIN mailroom.users u ON u.id = p.owner_id"                \
	" LEFT JOIN mailroom.users r ON r.id = p.reserved_by"                                      \
	" LEFT JOIN mailroom.organisations o ON o.id = p.organisation_id WHERE p.id = $1::bigint"
/* clang-format on */
#define SQL_ORG_CONTACTS                                                                                     \
	"SELECT p.id, coalesce(nullif(concat_ws(' ', p.first_name, p.last_name), ''), '#' || p.id),"         \
	" coalesce(p.position, ''), coalesce((SELECT string_agg(a.address, ', ' ORDER BY a.address)"         \
	"   FROM mailroom.contact_addresses a WHERE a.contact_id = p.id), '')"                               \
	" FROM mailroom.contacts p WHERE p.organisation_id = $1::bigint AND p.merged_into IS NULL"           \
	" ORDER BY p.active DESC, lower(p.last_name), p.id LIMIT 201"

/* The columns of SQL_HEAD_*. */
enum {
	H_NAME,
	H_KIND,
	H_VIP,
	H_OWNER,
	H_LEAD,
	H_HELD_BY,
	H_HELD_SINCE,
	H_FIRST,
	H_ACTIVE,
	H_MERGED,
	H_SALUTATION,
	H_ADDRESS,
	H_PHONE,
	H_WEBSITE,
	H_MAIL, /* domains of an organisation, addresses of a contact */
	H_ORG_ID,
	H_ORG,
	H_POSITION,
	H_LABELS
};

const struct cust_kind cust_kinds[2] = {
    {CUST_ORG, "/o/", "organisation"},
    {CUST_CONTACT, "/p/", "contact"},
};
void cust_filter_nav(FILE *mem, struct ctx *c, const struct cust_kind *k, const char *id,
                     enum cust_section sec, const char *const f[SEC_N])
{
	fputs("<nav class=\"filter\">", mem);
	for (const char *const *v = cust_filter_values; *v != NULL; v++) {
		fputs("<a href=\"", mem);
		esc_attr(mem, c->req->script_name);
		esc_attr(mem, k->path);
		esc_attr(mem, id);
		const char *sep = "?";
		for (int i = 0; i < SEC_N; i++) {
			const char *val = i == (int)sec ? *v : f[i];
			if (strcmp(val, "all") == 0)
				continue;
			fprintf(mem, "%s%s=%s", sep, cust_section_names[i], val);
			sep = "&amp;";
		}
		fprintf(mem, "#%s\"%s>%s</a> ", cust_section_names[sec],
		        strcmp(f[sec], *v) == 0 ? " aria-current=\"true\"" : "", *v);
	}
	fputs("</nav>\n", mem);
}

int cust_message_page(struct ctx *c, const char *status, const char *cls, const char *text)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	page_head(mem, status);
	fputs("<main>\n<h1>", mem);
	esc_html(mem, status);
	fprintf(mem, "</h1>\n<p class=\"%s\" role=\"alert\">", cls);
	esc_html(mem, text);
	fputs("</p>\n</main>\n", mem);
	page_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

/* fact - one <dt>/<dd> pair, left out when the value is empty */
static void fact(FILE *mem, const char *cls, const char *label, const char *value)
{
	if (value[0] == '\0')
		return;
	fprintf(mem, "<dt>%s</dt><dd class=\"%s\">", label, cls);
	esc_html(mem, value);
	fputs("</dd>\n", mem);
}

/* link - <a class=cls href=SN+path+id>text</a> */
static void link(FILE *mem, struct ctx *c, const char *cls, const char *path, const char *id,
                 const char *text)
{
	fprintf(mem, "<a class=\"%s\" href=\"", cls);
	esc_attr(mem, c->req->script_name);
	esc_attr(mem, path);
	esc_attr(mem, id);
	fputs("\">", mem);
	esc_html(mem, text);
	fputs("</a>", mem);
}

/* lead_form - the lead status as a form to change it */
static void lead_form(FILE *mem, struct ctx *c, const struct session *s, const struct cust_kind *k,
                      const char *id, const char *lead)
{
	char path[48];
	snprintf(path, sizeof(path), "%s%s/lead", k->path, id);
	form_open(mem, c, s, path, "customer-lead", "id=\"act-lead\" class=\"inline\"");
	fputs("<select name=\"lead_status\" aria-label=\"Lead status\">", mem);
	for (const char *const *v = cust_lead_statuses; *v != NULL; v++)
		fprintf(mem, "<option value=\"%s\"%s>%s</option>", *v,
		        strcmp(*v, lead) == 0 ? " selected" : "", *v);
	fputs("</select> <button type=\"submit\">Set</button>\n</form>", mem);
}

/* header - the facts of the customer at the top of its page */
static void header(FILE *mem, struct ctx *c, const struct session *s, const struct cust_kind *k,
                   const char *id, const PGresult *h, const PGresult *contacts, int can_act)
{
	const char *lead = PQgetvalue(h, 0, H_LEAD);
	fputs("<dl class=\"facts customer-facts\">\n", mem);
	fact(mem, "salutation", "Salutation", PQgetvalue(h, 0, H_SALUTATION));
	fact(mem, "position", "Position", PQgetvalue(h, 0, H_POSITION));
	if (PQgetvalue(h, 0, H_ORG_ID)[0] != '\0') {
		fputs("<dt>Organisation</dt><dd class=\"org\">", mem);
		link(mem, c, "customer", "/o/", PQgetvalue(h, 0, H_ORG_ID), PQgetvalue(h, 0, H_ORG));
		fputs("</dd>\n", mem);
	}
	fact(mem, "kind", "Kind", PQgetvalue(h, 0, H_KIND));
	if (strcmp(PQgetvalue(h, 0, H_VIP), "t") == 0)
		fputs("<dt>VIP</dt><dd class=\"vip\">yes</dd>\n", mem);
	fact(mem, "owner", "Owner", PQgetvalue(h, 0, H_OWNER));
	fputs("<dt>Lead status</dt><dd class=\"lead\">", mem);
	if (can_act)
		lead_form(mem, c, s, k, id, lead);
	else
		esc_html(mem, lead);
	fputs("</dd>\n", mem);
	if (PQgetvalue(h, 0, H_HELD_BY)[0] != '\0') {
		fputs("<dt>Reserved</dt><dd class=\"held\">held by ", mem);
		esc_html(mem, PQgetvalue(h, 0, H_HELD_BY));
		fputs(" since ", mem);
		esc_html(mem, PQgetvalue(h, 0, H_HELD_SINCE));
		fputs("</dd>\n", mem);
	}
	fact(mem, "first-contact", "First contact", PQgetvalue(h, 0, H_FIRST));
	fact(mem, "address", "Address", PQgetvalue(h, 0, H_ADDRESS));
	fact(mem, "phone", "Phone", PQgetvalue(h, 0, H_PHONE));
	fact(mem, "website", "Website", PQgetvalue(h, 0, H_WEBSITE));
	fact(mem, "mail", k->kind == CUST_ORG ? "Domains" : "E-mail", PQgetvalue(h, 0, H_MAIL));
	fact(mem, "labels", "Labels", PQgetvalue(h, 0, H_LABELS));
	if (strcmp(PQgetvalue(h, 0, H_ACTIVE), "t") != 0)
		fputs("<dt>Active</dt><dd class=\"inactive\">no</dd>\n", mem);
	fputs("</dl>\n", mem);
	if (PQgetvalue(h, 0, H_MERGED)[0] != '\0') {
		fputs("<p class=\"merged\">Merged into ", mem);
		link(mem, c, "customer", k->path, PQgetvalue(h, 0, H_MERGED), "another entry");
		fputs(".</p>\n", mem);
	}
	if (contacts == NULL)
		return;
	int n = PQntuples(contacts);
	fputs("<section id=\"contacts\">\n<h2>Contacts</h2>\n<ul class=\"contacts\">\n", mem);
	for (int i = 0; i < n && i < CUST_ROWS_MAX; i++) {
		fputs("<li>", mem);
		link(mem, c, "customer", "/p/", PQgetvalue(contacts, i, 0), PQgetvalue(contacts, i, 1));
		if (PQgetvalue(contacts, i, 2)[0] != '\0') {
			fputs(" <span class=\"position\">", mem);
			esc_html(mem, PQgetvalue(contacts, i, 2));
			fputs("</span>", mem);
		}
		fputs(" <span class=\"mail\">", mem);
		esc_html(mem, PQgetvalue(contacts, i, 3));
		fputs("</span></li>\n", mem);
	}
	if (n == 0)
		fputs("<li class=\"empty\">No contacts.</li>\n", mem);
	fputs("</ul>\n", mem);
	if (n > CUST_ROWS_MAX)
		fprintf(mem, "<p class=\"more\">Only the first %d are shown.</p>\n", CUST_ROWS_MAX);
	fputs("</section>\n", mem);
}

/* page - the whole page of customer id of kind k */
static int page(struct ctx *c, const struct cust_kind *k, const char *arg)
{
	const char *f[SEC_N];
	char err[1024], *body = NULL;
	size_t len = 0;
	struct session s;
	PGconn *conn;
	if (!cust_id_ok(arg))
		return respond_error(c->out, "404 Not Found");
	if (cust_filters(&c->query, f) < 0)
		return respond_error(c->out, "400 Bad Request");
	if (!web_begin(c, &conn, &s))
		return 0;
	const char *p[2] = {arg, conv_tz(c)};
	PGresult *h =
	    db_query(conn, k->kind == CUST_ORG ? SQL_HEAD_ORG : SQL_HEAD_CONTACT, 2, p, err, sizeof(err));
	PGresult *contacts = NULL;
	int r;
	if (h == NULL || (k->kind == CUST_ORG && PQntuples(h) == 1 &&
	                  (contacts = db_query(conn, SQL_ORG_CONTACTS, 1, p, err, sizeof(err))) == NULL)) {
		r = server_error(c, "customer", err);
		goto out;
	}
	if (PQntuples(h) != 1) {
		r = respond_error(c->out, "404 Not Found");
		goto out;
	}
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		r = server_error(c, "customer", "out of memory");
		goto out;
	}
	app_head(mem, c, &s, PQgetvalue(h, 0, H_NAME));
	fprintf(mem, "<h1 class=\"title customer-name\" data-kind=\"%s\">", k->object);
	esc_html(mem, PQgetvalue(h, 0, H_NAME));
	fputs("</h1>\n", mem);
	header(mem, c, &s, k, arg, h, contacts, strcmp(s.role, "auditor") != 0);
	for (int i = 0; i < SEC_N; i++)
		if (cust_section_write(mem, c, &s, conn, k, arg, (enum cust_section)i, f, err, sizeof(err)) <
		    0) {
			fclose(mem);
			free(body);
			r = server_error(c, "customer", err);
			goto out;
		}
	app_foot(mem);
	r = send_page(c, mem, &body, &len, "200 OK", NULL);
out:
	PQclear(h);
	PQclear(contacts);
	db_close(&conn);
	return r;
}

int custpage_org(struct ctx *c, const char *arg)
{
	return page(c, &cust_kinds[CUST_ORG], arg);
}

int custpage_contact(struct ctx *c, const char *arg)
{
	return page(c, &cust_kinds[CUST_CONTACT], arg);
}
