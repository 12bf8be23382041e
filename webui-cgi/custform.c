/* custform.c - the organisation and contact forms: field tables, checks,
 * the form page. The caps are the schema's (002, 020): a value that
 * passes here is one the database takes, so a refusal is a 400 with a
 * sentence, never a 500.
 */
#include "custform.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "contactfmt.h"
#include "escape.h"
#include "respond.h"

#define LINE_MAX_BYTES 400

/* phone_check - one phone number: 1-50 characters (the form parser has
 * already refused control characters) */
static const char *phone_check(const char *line)
{
	return text_ok(line, 50, 0) ? NULL : "is not a phone number (at most 50 characters)";
}

static const struct cf_field org_fields[] = {
    {"name", "Name", CF_TEXT, 300, 0, NULL},
    {"kind", "Kind", CF_KIND, 0, 0, NULL},
    {"vip", "VIP", CF_BOOL, 0, 0, NULL},
    {"owner_id", "Owner", CF_ID, 0, 0, NULL},
    {"street", "Street", CF_TEXT, 200, 0, NULL},
    {"postal_code", "Postal code", CF_TEXT, 20, 0, NULL},
    {"city", "City", CF_TEXT, 200, 0, NULL},
    {"country", "Country", CF_TEXT, 100, 0, NULL},
    {"phone", "Phone", CF_TEXT, 50, 0, NULL},
    {"website", "Website", CF_TEXT, 300, 0, NULL},
    {"domains", "Domains (one per line)", CF_LINES, 253, 50, contacts_domain_check},
};
static const struct cf_field contact_fields[] = {
    {"salutation", "Salutation", CF_TEXT, 100, 0, NULL},
    {"first_name", "First name", CF_TEXT, 200, 0, NULL},
    {"last_name", "Last name", CF_TEXT, 200, 0, NULL},
    {"position", "Position", CF_TEXT, 200, 0, NULL},
    {"organisation_id", "Organisation (id)", CF_ID, 0, 0, NULL},
    {"owner_id", "Owner", CF_ID, 0, 0, NULL},
    {"emails", "E-mail addresses (one per line)", CF_LINES, 254, 20, contacts_address_check},
    {"phones", "Phone numbers (one per line)", CF_LINES, 50, 20, phone_check},
};

const struct cf_kind cf_org = {'o', "organisation", "Organisation", org_fields,
                               sizeof(org_fields) / sizeof(org_fields[0])};
const struct cf_kind cf_contact = {'p', "contact", "Contact", contact_fields,
                                   sizeof(contact_fields) / sizeof(contact_fields[0])};

static const char *const org_kinds[] = {"customer", "supplier", "other", NULL};

/* next_line - the next non-empty line of *p, trimmed, into buf (lower
 * case when lower); 1, 0 at the end, -1 when longer than cap */
static int next_line(const char **p, char *buf, size_t cap, int lower)
{
	for (;;) {
		const char *s = *p, *e;
		if (*s == '\0')
			return 0;
		e = s + strcspn(s, "\r\n");
		*p = e + strspn(e, "\r\n");
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s)
			continue;
		if ((size_t)(e - s) >= cap)
			return -1;
		for (size_t i = 0; i < (size_t)(e - s); i++)
			buf[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
		buf[e - s] = '\0';
		return 1;
	}
}

/* check_lines - every line of v passes fl's check; NULL or the message */
static const char *check_lines(const struct cf_field *fl, const char *v, char *msg, size_t msglen)
{
	char line[LINE_MAX_BYTES];
	size_t n = 0;
	int r;
	int lower = fl->line_check != phone_check;
	while ((r = next_line(&v, line, sizeof(line), lower)) == 1) {
		const char *why = fl->line_check(line);
		if (++n > fl->max_lines) {
			snprintf(msg, msglen, "%s: at most %zu lines.", fl->label, fl->max_lines);
			return msg;
		}
		if (why != NULL) {
			snprintf(msg, msglen, "%s: \"%.80s\" %s.", fl->label, line, why);
			return msg;
		}
	}
	if (r < 0) {
		snprintf(msg, msglen, "%s: a line is too long.", fl->label);
		return msg;
	}
	return NULL;
}

const char *cf_read(const struct cf_kind *k, const struct form *f, const char *v[CF_FIELDS_MAX], char *msg,
                    size_t msglen)
{
	for (size_t i = 0; i < k->n; i++) {
		const char *x = form_get(f, k->fields[i].name);
		v[i] = x != NULL ? x : "";
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct cf_field *fl = &k->fields[i];
		if (fl->type == CF_BOOL && v[i][0] != '\0' && strcmp(v[i], "1") != 0)
			return snprintf(msg, msglen, "%s: 1 or nothing.", fl->label), msg;
		if (fl->type == CF_KIND && !one_of(v[i], org_kinds))
			return snprintf(msg, msglen, "Kind: customer, supplier or other."), msg;
		if (fl->type == CF_ID && v[i][0] != '\0' && !id_ok(v[i]))
			return snprintf(msg, msglen, "%s: a number.", fl->label), msg;
		if (fl->type == CF_TEXT && v[i][0] != '\0' && !text_ok(v[i], fl->max, 0))
			return snprintf(msg, msglen, "%s: at most %zu characters on one line.", fl->label,
			                fl->max),
			       msg;
		if (fl->type == CF_LINES && strlen(v[i]) > fl->max_lines * (fl->max + 2))
			return snprintf(msg, msglen, "%s: too long.", fl->label), msg;
		if (fl->type == CF_LINES && check_lines(fl, v[i], msg, msglen) != NULL)
			return msg;
	}
	if (k == &cf_org && v[0][0] == '\0')
		return snprintf(msg, msglen, "An organisation needs a name."), msg;
	if (k == &cf_contact && v[1][0] == '\0' && v[2][0] == '\0' && v[6][strspn(v[6], " \r\n\t")] == '\0')
		return snprintf(msg, msglen, "A contact needs a first or last name or an e-mail address."),
		       msg;
	return NULL;
}

char *cf_lines_array(const char *s, int lower)
{
	size_t cap = 2 * strlen(s) + 3;
	char *out = malloc(cap), *o = out, line[LINE_MAX_BYTES];
	int first = 1;
	if (out == NULL)
		return NULL;
	*o++ = '{';
	while (next_line(&s, line, sizeof(line), lower) == 1) {
		if (!first)
			*o++ = ',';
		first = 0;
		*o++ = '"';
		for (const char *p = line; *p; p++) {
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

/* field_input - one field of the form with its value */
static void field_input(FILE *mem, const struct cf_field *fl, const char *v, PGresult *users)
{
	fprintf(mem, "<p><label>%s ", fl->label);
	if (fl->type == CF_LINES) {
		fprintf(mem, "<textarea name=\"%s\" rows=\"4\">", fl->name);
		esc_html(mem, v);
		fputs("</textarea>", mem);
	} else if (fl->type == CF_BOOL) {
		fprintf(mem, "<input type=\"checkbox\" name=\"%s\" value=\"1\"%s>", fl->name,
		        v[0] != '\0' ? " checked" : "");
	} else if (fl->type == CF_KIND) {
		fprintf(mem, "<select name=\"%s\">", fl->name);
		for (int i = 0; org_kinds[i] != NULL; i++)
			fprintf(mem, "<option%s>%s</option>", strcmp(v, org_kinds[i]) == 0 ? " selected" : "",
			        org_kinds[i]);
		fputs("</select>", mem);
	} else if (fl->type == CF_ID && strcmp(fl->name, "owner_id") == 0 && users != NULL) {
		fprintf(mem, "<select name=\"%s\"><option value=\"\">nobody</option>", fl->name);
		for (int i = 0; i < PQntuples(users); i++) {
			fputs("<option value=\"", mem);
			esc_attr(mem, PQgetvalue(users, i, 0));
			fputs(strcmp(v, PQgetvalue(users, i, 0)) == 0 ? "\" selected>" : "\">", mem);
			esc_html(mem, PQgetvalue(users, i, 1));
			fputs("</option>", mem);
		}
		fputs("</select>", mem);
	} else {
		fprintf(mem, "<input name=\"%s\"", fl->name);
		if (fl->type == CF_TEXT)
			fprintf(mem, " maxlength=\"%zu\"", fl->max);
		else
			fputs(" inputmode=\"numeric\"", mem);
		fputs(" value=\"", mem);
		esc_attr(mem, v);
		fputs("\">", mem);
	}
	fputs("</label></p>\n", mem);
}

/* lead_forms - for admins and leads: merge into another record, and
 * deactivate or reactivate (POST /o/ID/merge, /o/ID/active) */
static void lead_forms(FILE *mem, struct ctx *c, const struct session *s, const struct cf_kind *k,
                       const char *id)
{
	char path[64];
	snprintf(path, sizeof(path), "/%c/%s/merge", k->letter, id);
	fprintf(mem, "<h2>Merge</h2>\n");
	form_open(mem, c, s, path, "customer-merge", "id=\"customer-merge\"");
	fprintf(mem,
	        "<p><label>Merge this %s into %s (id) <input name=\"into\" inputmode=\"numeric\" required>"
	        "</label> <button type=\"submit\">Merge</button></p>\n</form>\n",
	        k->noun, k->noun);
	snprintf(path, sizeof(path), "/%c/%s/active", k->letter, id);
	form_open(mem, c, s, path, "customer-active", "id=\"customer-active\"");
	fputs("<p><select name=\"active\"><option value=\"0\">deactivate</option>"
	      "<option value=\"1\">reactivate</option></select> <button type=\"submit\">Apply</button></p>\n"
	      "</form>\n",
	      mem);
}

int cf_page(struct ctx *c, const struct session *s, const struct cf_kind *k, const char *id,
            const char *const *v, PGresult *users, const char *msg, const char *status)
{
	char *body = NULL, path[64], title[64], formname[32];
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	snprintf(title, sizeof(title), "%s %s", id != NULL ? "Edit" : "New", k->noun);
	app_head(mem, c, s, title);
	fprintf(mem, "<h1>%s</h1>\n", title);
	if (msg != NULL) {
		fputs("<p role=\"alert\" class=\"error\">", mem);
		esc_html(mem, msg);
		fputs("</p>\n", mem);
	}
	if (id != NULL)
		snprintf(path, sizeof(path), "/%c/%s/edit", k->letter, id);
	else
		snprintf(path, sizeof(path), "/%c", k->letter);
	snprintf(formname, sizeof(formname), "%s-%s", k->noun, id != NULL ? "edit" : "new");
	char attrs[64];
	snprintf(attrs, sizeof(attrs), "id=\"%s\" class=\"customer-form\"", formname);
	form_open(mem, c, s, path, formname, attrs);
	for (size_t i = 0; i < k->n; i++)
		field_input(mem, &k->fields[i], v != NULL ? v[i] : "", users);
	fputs("<p><button type=\"submit\">Save</button></p>\n</form>\n", mem);
	if (id != NULL && (strcmp(s->role, "admin") == 0 || strcmp(s->role, "lead") == 0))
		lead_forms(mem, c, s, k, id);
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}
