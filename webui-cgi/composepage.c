/* composepage.c - render the compose form and its preview. Every value
 * goes through the escaping of its context; nothing here writes to the
 * database. */
#include "composepage.h"

#include "compose.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "respond.h"

static const char SQL_TEMPLATES[] =
    "SELECT id, name FROM mailroom.mail_templates"
    " WHERE active AND (inbox IS NULL OR inbox = ANY (mailroom.web_inboxes())) ORDER BY name LIMIT 200";
static const char SQL_ATTACHED[] = "SELECT name, filename, size_bytes FROM mailroom.standard_attachments"
                                   " WHERE active AND id = ANY ($1::bigint[]) ORDER BY name";
static const char SQL_ATTACHMENTS[] =
    "SELECT id, name, filename, size_bytes FROM mailroom.standard_attachments"
    " WHERE active ORDER BY name LIMIT 200";

static const char *const titles[] = {"Reply", "Reply to all", "Forward", "New mail"};

/* hidden - <input type=hidden name value> unless value is NULL or "" */
static void hidden(FILE *mem, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	fprintf(mem, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	esc_attr(mem, value);
	fputs("\">\n", mem);
}

/* context_fields - what the form is about: kind and conversation or customer */
static void context_fields(FILE *mem, const struct compose_ctx *x)
{
	hidden(mem, "kind", compose_kind_name(x->kind));
	hidden(mem, "conversation", x->conversation);
	hidden(mem, "o", x->organisation);
	hidden(mem, "p", x->contact);
}

/* attached - was attachment id ticked? */
static int attached(const struct compose_form *f, const char *id)
{
	for (size_t i = 0; i < f->n_att; i++)
		if (strcmp(f->att[i], id) == 0)
			return 1;
	return 0;
}

/* sender_select - the From choice: shared inboxes, then the user's address */
static void sender_select(FILE *mem, const struct compose_ctx *x, const struct compose_form *f)
{
	int chosen = compose_from_index(x, f->inbox);
	fputs("<p><label>From <select name=\"inbox\">\n", mem);
	for (size_t i = 0; i < x->n_from; i++) {
		fputs("<option value=\"", mem);
		esc_attr(mem, x->from[i]);
		fputs((chosen >= 0 ? (size_t)chosen == i : x->from_default == i) ? "\" selected>" : "\">",
		      mem);
		if (x->from_name[i][0] != '\0') {
			esc_html(mem, x->from_name[i]);
			fputs(" &lt;", mem);
			esc_html(mem, x->from[i]);
			fputs("&gt;", mem);
		} else {
			esc_html(mem, x->from[i]);
		}
		fputs("</option>\n", mem);
	}
	fputs("</select></label></p>\n", mem);
}

/* template_select - the mail templates the user may use and the button
 * that puts one into the text */
static int template_select(FILE *mem, PGconn *conn, const struct compose_form *f, char *err, size_t errlen)
{
	PGresult *r = db_query(conn, SQL_TEMPLATES, 0, NULL, err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) > 0) {
		fputs("<p><label>Template <select name=\"template\">\n<option value=\"\">(none)</option>\n",
		      mem);
		for (int i = 0; i < PQntuples(r); i++) {
			fputs("<option value=\"", mem);
			esc_attr(mem, PQgetvalue(r, i, 0));
			fputs(f->template_id != NULL && strcmp(f->template_id, PQgetvalue(r, i, 0)) == 0
			          ? "\" selected>"
			          : "\">",
			      mem);
			esc_html(mem, PQgetvalue(r, i, 1));
			fputs("</option>\n", mem);
		}
		fputs("</select></label> <button type=\"submit\" name=\"use_template\" value=\"1\">Insert "
		      "template</button></p>\n",
		      mem);
	}
	PQclear(r);
	return 0;
}

/* attachment_boxes - a checkbox per active standard attachment */
static int attachment_boxes(FILE *mem, PGconn *conn, const struct compose_form *f, char *err, size_t errlen)
{
	PGresult *r = db_query(conn, SQL_ATTACHMENTS, 0, NULL, err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) > 0) {
		fputs("<fieldset class=\"attachments\"><legend>Standard attachments</legend>\n", mem);
		for (int i = 0; i < PQntuples(r); i++) {
			fputs("<label><input type=\"checkbox\" name=\"attachment\" value=\"", mem);
			esc_attr(mem, PQgetvalue(r, i, 0));
			fputs(attached(f, PQgetvalue(r, i, 0)) ? "\" checked> " : "\"> ", mem);
			esc_html(mem, PQgetvalue(r, i, 1));
			fputs(" (", mem);
			esc_html(mem, PQgetvalue(r, i, 2));
			fprintf(mem, ", %lld bytes)</label>\n", strtoll(PQgetvalue(r, i, 3), NULL, 10));
		}
		fputs("</fieldset>\n", mem);
	}
	PQclear(r);
	return 0;
}

/* attached_list - the ticked attachments as they will go out */
static int attached_list(FILE *mem, PGconn *conn, const struct compose_form *f, char *err, size_t errlen)
{
	if (f->n_att == 0)
		return 0;
	char *ids = db_array_literal(f->att, f->n_att);
	if (ids == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *p[1] = {ids};
	PGresult *r = db_query(conn, SQL_ATTACHED, 1, p, err, errlen);
	free(ids);
	if (r == NULL)
		return -1;
	fputs("<ul class=\"attached\">\n", mem);
	for (int i = 0; i < PQntuples(r); i++) {
		fputs("<li>", mem);
		esc_html(mem, PQgetvalue(r, i, 1));
		fputs(" (", mem);
		esc_html(mem, PQgetvalue(r, i, 0));
		fprintf(mem, ", %lld bytes)</li>\n", strtoll(PQgetvalue(r, i, 2), NULL, 10));
	}
	fputs("</ul>\n", mem);
	PQclear(r);
	return 0;
}

/* the_form - the editable form with f's values */
static int the_form(FILE *mem, struct ctx *c, PGconn *conn, const struct session *s,
                    const struct compose_ctx *x, const struct compose_form *f, char *err, size_t errlen)
{
	form_open(mem, c, s, "/compose", "compose", "id=\"compose\" class=\"compose\"");
	context_fields(mem, x);
	sender_select(mem, x, f);
	fprintf(mem, "<p><label>To <input name=\"to\" maxlength=\"%d\" required value=\"", COMPOSE_ADDRS_MAX);
	esc_attr(mem, f->to != NULL ? f->to : "");
	fprintf(mem, "\"></label></p>\n<p><label>Cc <input name=\"cc\" maxlength=\"%d\" value=\"",
	        COMPOSE_ADDRS_MAX);
	esc_attr(mem, f->cc != NULL ? f->cc : "");
	fprintf(
	    mem,
	    "\"></label></p>\n<p><label>Subject <input name=\"subject\" maxlength=\"%d\" required value=\"",
	    COMPOSE_SUBJECT_MAX);
	esc_attr(mem, f->subject != NULL ? f->subject : "");
	fputs("\"></label></p>\n", mem);
	if (template_select(mem, conn, f, err, errlen) < 0)
		return -1;
	fprintf(mem, "<p><label>Text <textarea name=\"body\" rows=\"18\" maxlength=\"%d\">",
	        COMPOSE_BODY_MAX);
	esc_html(mem, f->body != NULL ? f->body : "");
	fputs("</textarea></label></p>\n", mem);
	if (attachment_boxes(mem, conn, f, err, errlen) < 0)
		return -1;
	fputs("<p><button type=\"submit\">Preview</button></p>\n</form>\n", mem);
	return 0;
}

/* back_link - to the conversation or the customer the mail is about */
static void back_link(FILE *mem, struct ctx *c, const struct compose_ctx *x)
{
	const char *path = x->conversation[0]   ? "/c/"
	                   : x->contact[0]      ? "/p/"
	                   : x->organisation[0] ? "/o/"
	                                        : NULL;
	if (path == NULL)
		return;
	fputs("<p><a class=\"back\" href=\"", mem);
	esc_attr(mem, c->req->script_name);
	esc_attr(mem, path);
	esc_attr(mem, x->conversation[0] ? x->conversation : x->contact[0] ? x->contact : x->organisation);
	fputs("\">Back</a></p>\n", mem);
}

void compose_links(FILE *mem, struct ctx *c, const char *id)
{
	static const char *const kinds[3][2] = {
	    {"reply", "Reply"}, {"reply-all", "Reply to all"}, {"forward", "Forward"}};
	fputs("<nav class=\"compose\">\n", mem);
	for (int i = 0; i < 3; i++) {
		fprintf(mem, "<a class=\"compose-%s\" href=\"", kinds[i][0]);
		esc_attr(mem, c->req->script_name);
		fputs("/c/", mem);
		esc_attr(mem, id);
		fprintf(mem, "/compose?kind=%s\">%s</a>\n", kinds[i][0], kinds[i][1]);
	}
	fputs("</nav>\n", mem);
}

/* settings_links - where templates and signatures are kept */
static void settings_links(FILE *mem, struct ctx *c)
{
	fputs("<p class=\"compose-settings\"><a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/templates/mail\">Mail templates</a> <a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/account/signature\">My signature</a></p>\n", mem);
}

int compose_page(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                 const struct compose_form *f, const char *status, const char *error)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "compose", "out of memory");
	app_head(mem, c, s, titles[x->kind]);
	fprintf(mem, "<h1>%s</h1>\n", titles[x->kind]);
	back_link(mem, c, x);
	if (error != NULL) {
		fputs("<p class=\"error\" role=\"alert\">", mem);
		esc_html(mem, error);
		fputs("</p>\n", mem);
	}
	if (the_form(mem, c, conn, s, x, f, err, sizeof(err)) < 0) {
		fclose(mem);
		free(body);
		return server_error(c, "compose", err);
	}
	settings_links(mem, c);
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

/* recipient_items - one li per address, marked when not usual; how many were */
static int recipient_items(FILE *mem, const struct compose_ctx *x, const char *field,
                           const struct mail_addrs *a)
{
	int unusual = 0;
	for (size_t i = 0; i < a->n; i++) {
		int usual = compose_is_usual(x, a->addr[i]);
		unusual += !usual;
		fprintf(mem, "<li class=\"%s%s\">%s: ", field, usual ? "" : " recipient-warning",
		        strcmp(field, "to") == 0 ? "To" : "Cc");
		esc_html(mem, a->addr[i]);
		if (!usual)
			fputs(" <strong>(not in this conversation before)</strong>", mem);
		fputs("</li>\n", mem);
	}
	return unusual;
}

int compose_preview(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                    const struct compose_form *f, const struct mail_addrs *to, const struct mail_addrs *cc,
                    const char *text)
{
	char err[1024], *body = NULL, *list = NULL;
	size_t len = 0, list_len = 0;
	FILE *mem = open_memstream(&body, &len), *lm = open_memstream(&list, &list_len);
	if (mem == NULL || lm == NULL) {
		if (mem != NULL)
			fclose(mem), free(body);
		if (lm != NULL)
			fclose(lm), free(list);
		return server_error(c, "compose", "out of memory");
	}
	int unusual = recipient_items(lm, x, "to", to) + recipient_items(lm, x, "cc", cc);
	fclose(lm);
	app_head(mem, c, s, "Check before sending");
	fputs("<h1>Check before sending</h1>\n", mem);
	back_link(mem, c, x);
	fputs("<section class=\"preview\">\n", mem);
	if (unusual > 0)
		fprintf(mem,
		        "<p class=\"recipient-warning\" role=\"alert\">%d recipient%s never wrote or "
		        "received mail in "
		        "this %s: check before sending.</p>\n",
		        unusual, unusual == 1 ? "" : "s",
		        x->kind == COMPOSE_NEW ? "customer's file" : "conversation");
	fputs("<ul class=\"recipients\">\n", mem);
	fputs(list != NULL ? list : "", mem);
	free(list);
	fputs("</ul>\n<p class=\"from\">From: ", mem);
	esc_html(mem, f->inbox);
	fputs("</p>\n<p class=\"subject\">Subject: ", mem);
	esc_html(mem, f->subject);
	fputs("</p>\n<pre class=\"mail-text\">", mem);
	esc_html(mem, text);
	fputs("</pre>\n", mem);
	if (attached_list(mem, conn, f, err, sizeof(err)) < 0) {
		fclose(mem);
		free(body);
		return server_error(c, "compose", err);
	}
	form_open(mem, c, s, "/compose", "compose", "id=\"compose-send\"");
	context_fields(mem, x);
	hidden(mem, "inbox", f->inbox);
	hidden(mem, "to", f->to);
	hidden(mem, "cc", f->cc);
	hidden(mem, "subject", f->subject);
	hidden(mem, "body", f->body);
	hidden(mem, "template", f->template_id);
	for (size_t i = 0; i < f->n_att; i++)
		hidden(mem, "attachment", f->att[i]);
	unsigned char raw[COMPOSE_TOKEN_LEN / 2];
	char token[COMPOSE_TOKEN_LEN + 1];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
	hidden(mem, "send_token", token);
	fputs("<input type=\"hidden\" name=\"confirm\" value=\"1\">\n"
	      "<p><button type=\"submit\">Send</button></p>\n</form>\n</section>\n<h2>Edit</h2>\n",
	      mem);
	if (the_form(mem, c, conn, s, x, f, err, sizeof(err)) < 0) {
		fclose(mem);
		free(body);
		return server_error(c, "compose", err);
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}
