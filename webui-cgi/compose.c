/* compose.c - the routes of writing mail (compose.h).
 *
 * Order of checks on POST /compose: the session and the CSRF token of form
 * "compose" (403), the role (auditors never send: 403), the fields (400:
 * a header field holding CR or LF is refused outright, every field has a
 * cap), the conversation or customer (404 when not visible), then the
 * addresses (400 with the form again). Without confirm=1 the answer is the
 * preview; with it the mail is sent. Threading headers come from the
 * conversation, never from the form.
 */
#include "compose.h"

#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "composepage.h"
#include "composesend.h"
#include "composesig.h"
#include "db.h"
#include "mailtpl.h"
#include "respond.h"

/* field - a form field, NULL when absent */
static const char *field(const struct form *f, const char *name)
{
	return form_get(f, name);
}

/* bytes_ok - absent, or at most max bytes */
static int bytes_ok(const char *s, size_t max)
{
	return s == NULL || strlen(s) <= max;
}

/* token_ok - COMPOSE_TOKEN_LEN lower-case hex digits */
static int token_ok(const char *t)
{
	return strlen(t) == COMPOSE_TOKEN_LEN && strspn(t, "0123456789abcdef") == COMPOSE_TOKEN_LEN;
}

/* read_form - the posted values into f; 0, or 400 when a field is malformed
 * or too long (why says which) */
static int read_form(const struct form *form, struct compose_form *f, const char **why)
{
	memset(f, 0, sizeof(*f));
	f->inbox = field(form, "inbox");
	f->to = field(form, "to");
	f->cc = field(form, "cc");
	f->subject = field(form, "subject");
	f->body = field(form, "body");
	f->template_id = field(form, "template");
	if (f->template_id != NULL && f->template_id[0] == '\0')
		f->template_id = NULL;
	f->send_token = field(form, "send_token");
	*why = NULL;
	if (!mail_header_safe(f->to) || !mail_header_safe(f->cc) || !mail_header_safe(f->subject) ||
	    !mail_header_safe(f->inbox))
		*why = "A line break in To, Cc, Subject or From is not allowed.";
	else if (!bytes_ok(f->to, COMPOSE_ADDRS_MAX) || !bytes_ok(f->cc, COMPOSE_ADDRS_MAX) ||
	         !bytes_ok(f->inbox, MAIL_ADDR_MAX))
		*why = "An address field is too long.";
	else if (f->subject != NULL && f->subject[0] != '\0' && !text_ok(f->subject, COMPOSE_SUBJECT_MAX, 0))
		*why = "The subject is too long.";
	else if (f->body != NULL && f->body[0] != '\0' && !text_ok(f->body, COMPOSE_BODY_MAX, 1))
		*why = "The text is too long.";
	else if (f->template_id != NULL && !id_ok(f->template_id))
		*why = "Not a template.";
	else if (f->send_token != NULL && !token_ok(f->send_token))
		*why = "Not a send form.";
	for (size_t i = 0; *why == NULL && i < form->n; i++) {
		if (strcmp(form->field[i].name, "attachment") != 0)
			continue;
		if (f->n_att >= MAIL_ATTACH_MAX)
			*why = "Too many attachments.";
		else if (!id_ok(form->field[i].value))
			*why = "Not an attachment.";
		else
			f->att[f->n_att++] = form->field[i].value;
	}
	return *why != NULL ? 400 : 0;
}

/* defaults - the form's values from the context */
static void defaults(const struct compose_ctx *x, struct compose_form *f, char *to, size_t tolen, char *cc,
                     size_t cclen)
{
	const struct mail_addrs *lists[2] = {&x->to, &x->cc};
	char *outs[2] = {to, cc};
	size_t lens[2] = {tolen, cclen};
	for (int k = 0; k < 2; k++) {
		size_t off = 0;
		outs[k][0] = '\0';
		for (size_t i = 0; i < lists[k]->n; i++) {
			/* whole addresses only: what does not fit the field is left out */
			size_t need = strlen(lists[k]->addr[i]) + (i ? 2 : 0);
			if (off + need >= lens[k])
				break;
			off += (size_t)snprintf(outs[k] + off, lens[k] - off, "%s%s", i ? ", " : "",
			                        lists[k]->addr[i]);
		}
	}
	memset(f, 0, sizeof(*f));
	f->inbox = x->n_from > 0 ? x->from[x->from_default] : "";
	f->to = to;
	f->cc = cc;
	f->subject = x->subject;
	f->body = x->body;
}

/* begin - sign in for a page (post: with the CSRF token of "compose"); auditors may not write mail (403) */
static int begin(struct ctx *c, PGconn **conn, struct session *s, int post)
{
	if (!(post ? web_post_begin(c, "compose", conn, s) : web_begin(c, conn, s)))
		return 0;
	if (strcmp(s->role, "auditor") == 0) {
		db_close(conn);
		respond_error(c->out, "403 Forbidden");
		return 0;
	}
	return 1;
}

/* with_template - f with template f->template_id put in: its subject (when
 * it has one) replaces f's, its text goes before f's; answers the form
 * (400 when the template is not there or not for this inbox) */
static int with_template(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                         struct compose_form *f)
{
	char err[1024], *subject = NULL, *text = NULL, *body = NULL;
	if (f->template_id == NULL)
		return compose_page(c, conn, s, x, f, "400 Bad Request", "Choose a template.");
	int r = mailtpl_apply(conn, x, f->template_id, f->inbox, f->subject != NULL ? f->subject : "",
	                      &subject, &text, err, sizeof(err));
	if (r < 0)
		return server_error(c, "compose template", err);
	if (r == 0)
		return compose_page(c, conn, s, x, f, "400 Bad Request", "No such template for this inbox.");
	size_t n = strlen(text) + (f->body != NULL ? strlen(f->body) : 0) + 2;
	if ((body = malloc(n)) == NULL) {
		free(subject);
		free(text);
		return server_error(c, "compose template", "out of memory");
	}
	snprintf(body, n, "%s%s%s", text, f->body != NULL && f->body[0] ? "\n" : "",
	         f->body != NULL ? f->body : "");
	if (subject != NULL)
		f->subject = subject;
	f->body = body;
	int rc = compose_page(c, conn, s, x, f, "200 OK", NULL);
	free(subject);
	free(text);
	free(body);
	return rc;
}

/* show_new_form - load the context and answer the form with its defaults */
static int show_new_form(struct ctx *c, enum compose_kind k, const char *conv, const char *org,
                         const char *person)
{
	const char *tpl = form_get(&c->query, "template");
	if (tpl != NULL && !id_ok(tpl))
		return respond_error(c->out, "400 Bad Request");
	PGconn *conn;
	struct session s;
	struct compose_ctx x;
	struct compose_form f;
	char err[1024], to[COMPOSE_ADDRS_MAX + 1], cc[COMPOSE_ADDRS_MAX + 1];
	if (!begin(c, &conn, &s, 0))
		return 0;
	int r = compose_ctx_load(conn, &s, k, conv, org, person, &x, err, sizeof(err));
	if (r <= 0) {
		db_close(&conn);
		return r < 0 ? server_error(c, "compose", err) : respond_error(c->out, "404 Not Found");
	}
	defaults(&x, &f, to, sizeof(to), cc, sizeof(cc));
	f.template_id = tpl;
	int rc = tpl != NULL ? with_template(c, conn, &s, &x, &f)
	                     : compose_page(c, conn, &s, &x, &f, "200 OK", NULL);
	compose_ctx_free(&x);
	db_close(&conn);
	return rc;
}

int compose_conv_get(struct ctx *c, const char *arg)
{
	enum compose_kind k = COMPOSE_REPLY;
	const char *kind = form_get(&c->query, "kind");
	if (!id_ok(arg) || arg[0] == '0')
		return respond_error(c->out, "404 Not Found");
	if (kind != NULL && (compose_kind_parse(kind, &k) < 0 || k == COMPOSE_NEW))
		return respond_error(c->out, "400 Bad Request");
	return show_new_form(c, k, arg, NULL, NULL);
}

int compose_new_get(struct ctx *c, const char *arg)
{
	(void)arg;
	const char *o = form_get(&c->query, "o"), *p = form_get(&c->query, "p");
	if ((o != NULL && !id_ok(o)) || (p != NULL && !id_ok(p)) || (o != NULL && p != NULL))
		return respond_error(c->out, "400 Bad Request");
	return show_new_form(c, COMPOSE_NEW, NULL, o, p);
}

/* context_of_post - kind and its conversation or customer from the form:
 * 0, or 400 */
static int context_of_post(const struct form *form, enum compose_kind *k, const char **conv, const char **org,
                           const char **person)
{
	*conv = field(form, "conversation");
	*org = field(form, "o");
	*person = field(form, "p");
	if (compose_kind_parse(field(form, "kind"), k) < 0)
		return 400;
	if (*k != COMPOSE_NEW)
		return id_ok(*conv) && (*conv)[0] != '0' && *org == NULL && *person == NULL ? 0 : 400;
	if (*conv != NULL || (*org != NULL && !id_ok(*org)) || (*person != NULL && !id_ok(*person)) ||
	    (*org != NULL && *person != NULL))
		return 400;
	return 0;
}

/* send_it - send the checked mail; answer 303 or the form again */
static int send_it(struct ctx *c, PGconn *conn, const struct session *s, const struct compose_ctx *x,
                   const struct compose_form *f, const struct mail_addrs *to, const struct mail_addrs *cc,
                   const char *text)
{
	char sent_id[24], why[1024] = "", err[1024];
	int from = compose_from_index(x, f->inbox);
	struct compose_mail m = {x,    f->inbox,       x->from_name[from], to,     cc,      f->subject,
	                         text, f->template_id, f->send_token,      f->att, f->n_att};
	enum compose_result r =
	    compose_send(conn, c->conf, s, &m, sent_id, why, sizeof(why), err, sizeof(err));
	if (r == COMPOSE_ERROR)
		return server_error(c, "compose send", err);
	if (r == COMPOSE_REPEATED && strcmp(why, "failed") == 0)
		return compose_page(c, conn, s, x, f, "409 Conflict",
		                    "This form was sent before and the mail could not be sent then. "
		                    "Check the text below and preview it again to send it.");
	/* sending or sent: the first submission answers for it; this one goes where it went */
	if (r == COMPOSE_BAD)
		return compose_page(c, conn, s, x, f, "400 Bad Request", why);
	if (r == COMPOSE_FAILED) {
		char msg[1200];
		fprintf(stderr, "mailroom.cgi: sent_mail %s failed: %s\n", sent_id, why);
		snprintf(msg, sizeof(msg), "The mail could not be sent (%s). Your text is kept below.", why);
		return compose_page(c, conn, s, x, f, "502 Bad Gateway", msg);
	}
	char path[64];
	if (x->conversation[0] != '\0')
		snprintf(path, sizeof(path), "/c/%s", x->conversation);
	else if (x->contact[0] != '\0')
		snprintf(path, sizeof(path), "/p/%s", x->contact);
	else if (x->organisation[0] != '\0')
		snprintf(path, sizeof(path), "/o/%s", x->organisation);
	else
		snprintf(path, sizeof(path), "/");
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

/* handle_post - everything after the context is loaded */
static int handle_post(struct ctx *c, PGconn *conn, const struct session *s, struct compose_ctx *x,
                       struct compose_form *f)
{
	struct mail_addrs to = {.n = 0}, cc = {.n = 0};
	char why[512], err[1024];
	if (field(&c->form, "use_template") != NULL)
		return with_template(c, conn, s, x, f);
	if (compose_from_index(x, f->inbox) < 0)
		return compose_page(c, conn, s, x, f, "400 Bad Request",
		                    "Choose a sender you may write from.");
	if (mail_addrs_add(&to, f->to, why, sizeof(why)) < 0 ||
	    mail_addrs_add(&cc, f->cc, why, sizeof(why)) < 0)
		return compose_page(c, conn, s, x, f, "400 Bad Request", why);
	if (to.n == 0)
		return compose_page(c, conn, s, x, f, "400 Bad Request", "Enter at least one recipient.");
	if (to.n + cc.n > MAIL_RCPT_MAX)
		return compose_page(c, conn, s, x, f, "400 Bad Request", "Too many recipients.");
	if (f->subject == NULL || f->subject[0] == '\0' || f->body == NULL || f->body[0] == '\0')
		return compose_page(c, conn, s, x, f, "400 Bad Request", "Enter a subject and a text.");
	char *text = compose_signed_text(conn, s, f->inbox, f->body, err, sizeof(err));
	if (text == NULL)
		return server_error(c, "compose signature", err);
	const char *confirm = field(&c->form, "confirm");
	int sending = confirm != NULL && strcmp(confirm, "1") == 0;
	if (sending && f->send_token == NULL) {
		free(text);
		return compose_page(c, conn, s, x, f, "400 Bad Request",
		                    "This send form is out of date: preview the mail again to send it.");
	}
	int rc = sending ? send_it(c, conn, s, x, f, &to, &cc, text)
	                 : compose_preview(c, conn, s, x, f, &to, &cc, text);
	free(text);
	return rc;
}

int compose_post(struct ctx *c, const char *arg)
{
	(void)arg;
	PGconn *conn;
	struct session s;
	struct compose_ctx x;
	struct compose_form f;
	enum compose_kind k;
	const char *conv, *org, *person, *bad;
	char err[1024];
	if (!begin(c, &conn, &s, 1))
		return 0;
	if (context_of_post(&c->form, &k, &conv, &org, &person) != 0 ||
	    read_form(&c->form, &f, &bad) == 400) {
		/* a malformed form or a header field with a line break: refused outright */
		db_close(&conn);
		return respond_error(c->out, "400 Bad Request");
	}
	int r = compose_ctx_load(conn, &s, k, conv, org, person, &x, err, sizeof(err));
	if (r <= 0) {
		db_close(&conn);
		return r < 0 ? server_error(c, "compose", err) : respond_error(c->out, "404 Not Found");
	}
	int rc = handle_post(c, conn, &s, &x, &f);
	compose_ctx_free(&x);
	db_close(&conn);
	return rc;
}
