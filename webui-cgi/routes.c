/* routes.c - the route table and the handlers of mailroom.cgi: the
 * calendar feed, sign-in and sign-out; the inbox is in inbox.c.
 *
 * Every POST passes the same gate before its handler runs: a same-origin
 * check (Origin and Sec-Fetch-Site), an urlencoded body that parses (or a
 * multipart/form-data one, for the routes with an upload cap), and a CSRF
 * token. GET never changes anything but a session's last_seen.
 */
#include "routes.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "actions.h"
#include "calfeed.h"
#include "compose.h"
#include "mailtpl.h"
#include "conversation.h"
#include "csrf.h"
#include "customers.h"
#include "customer.h"
#include "db.h"
#include "escape.h"
#include "files.h"
#include "handler.h"
#include "import.h"
#include "inbox.h"
#include "multipart.h"
#include "leads.h"
#include "respond.h"
#include "session.h"
#include "signature.h"
#include "signin.h"
#include "stdattach.h"
#include "users.h"

#define PATH_ARG_MAX 256

/* a route: method, a path prefix and suffix around a variable part
 * (arg_max 0: the path is exactly prefix) that may hold slashes when
 * slashes is set (the handler then splits it), a handler */
struct route {
	const char *method;
	const char *prefix, *suffix;
	size_t arg_max;
	int slashes;
	int (*handle)(struct ctx *c, const char *arg);
};

/* login_page - the sign-in form with a fresh login CSRF value in form and cookie */
static int login_page(struct ctx *c, const char *status, const char *message)
{
	char tok[CSRF_HEX + 1], cookie[256];
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len), *ck;
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	random_hex(tok, CSRF_HEX / 2);
	page_head(mem, "Sign in");
	fputs("<main>\n<h1>Sign in to mailroom</h1>\n", mem);
	if (message != NULL) {
		fputs("<p role=\"alert\">", mem);
		esc_html(mem, message);
		fputs("</p>\n", mem);
	}
	fputs("<form method=\"post\" action=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/login\">\n<input type=\"hidden\" name=\"csrf\" value=\"", mem);
	esc_attr(mem, tok);
	fputs(
	    "\">\n<p><label>Login <input name=\"login\" autocomplete=\"username\" required "
	    "maxlength=\"64\"></label></p>\n"
	    "<p><label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
	    "required></label></p>\n"
	    "<p><label>Code (if you use one) <input name=\"code\" inputmode=\"numeric\" "
	    "autocomplete=\"one-time-code\" maxlength=\"6\"></label></p>\n"
	    "<p><button type=\"submit\">Sign in</button></p>\n</form>\n</main>\n",
	    mem);
	page_foot(mem);
	ck = fmemopen(cookie, sizeof(cookie), "w");
	if (ck == NULL) {
		fclose(mem);
		free(body);
		return server_error(c, "page", "out of memory");
	}
	respond_cookie(ck, LOGIN_COOKIE, tok, 3600);
	fclose(ck);
	return send_page(c, mem, &body, &len, status, cookie);
}

/* get_login - GET /login: the form, or home when already signed in */
static int get_login(struct ctx *c, const char *arg)
{
	(void)arg;
	char tok[SESSION_TOKEN_HEX + 1];
	session_token(c->req, tok);
	if (tok[0] != '\0') {
		struct session s;
		PGconn *conn = connect_db(c);
		if (conn == NULL)
			return 0;
		int r = current_session(c, conn, &s);
		db_close(&conn);
		if (r < 0)
			return 0;
		if (r > 0)
			return respond_redirect(c->out, c->req->script_name, "/", NULL);
	}
	return login_page(c, "200 OK", NULL);
}

/* post_login - POST /login: check the form, start a session */
static int post_login(struct ctx *c, const char *arg)
{
	(void)arg;
	char want[CSRF_HEX + 1], err[1024], user_id[24], tok[SESSION_TOKEN_HEX + 1];
	const char *login = form_get(&c->form, "login"), *password = form_get(&c->form, "password");
	const char *code = form_get(&c->form, "code"), *addr = c->req->remote_addr;
	if (cookie_get(c->req->cookie, LOGIN_COOKIE, want, sizeof(want)) != 1 ||
	    !csrf_equal(want, form_get(&c->form, "csrf")))
		return respond_error(c->out, "403 Forbidden");
	if (login == NULL || password == NULL || login[0] == '\0')
		return login_page(c, "400 Bad Request", "Enter your login and password.");
	PGconn *conn = connect_db(c);
	if (conn == NULL)
		return 0;
	enum signin_result r = signin_check(conn, c->conf, login, password, code != NULL ? code : "",
	                                    addr != NULL ? addr : "", user_id, err, sizeof(err));
	int rc = 0;
	if (r == SIGNIN_OK &&
	    (session_prune(conn, c->conf, err, sizeof(err)) < 0 ||
	     session_create(conn, user_id, c->req->user_agent, addr, tok, err, sizeof(err)) < 0 ||
	     signin_audit(conn, login, "web.signin", user_id, addr, err, sizeof(err)) < 0))
		r = SIGNIN_ERROR;
	db_close(&conn);
	if (r == SIGNIN_ERROR)
		rc = server_error(c, "sign-in", err);
	else if (r == SIGNIN_THROTTLED)
		rc = login_page(c, "429 Too Many Requests", "Too many failed sign-ins. Try again later.");
	else if (r == SIGNIN_FAILED)
		rc = login_page(c, "401 Unauthorized", "Sign-in failed.");
	else {
		char cookies[512];
		FILE *ck = fmemopen(cookies, sizeof(cookies), "w");
		if (ck == NULL)
			return server_error(c, "sign-in", "out of memory");
		respond_cookie(ck, SESSION_COOKIE, tok, -1);
		respond_cookie(ck, LOGIN_COOKIE, "", 0);
		fclose(ck);
		rc = respond_redirect(c->out, c->req->script_name, "/", cookies);
	}
	return rc;
}

/* post_logout - POST /logout: delete the session server-side, clear the cookie */
static int post_logout(struct ctx *c, const char *arg)
{
	(void)arg;
	char tok[SESSION_TOKEN_HEX + 1], err[1024], cookies[256];
	struct session s;
	PGconn *conn = connect_db(c);
	if (conn == NULL)
		return 0;
	int r = current_session(c, conn, &s);
	if (r < 0) {
		db_close(&conn);
		return 0;
	}
	if (r == 0 || !csrf_check(s.csrf_key, "logout", form_get(&c->form, "csrf"))) {
		db_close(&conn);
		return respond_error(c->out, "403 Forbidden");
	}
	session_token(c->req, tok);
	if (session_end(conn, tok, err, sizeof(err)) < 0 ||
	    signin_audit(conn, s.login, "web.signout", s.user_id,
	                 c->req->remote_addr != NULL ? c->req->remote_addr : "", err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "sign-out", err);
	}
	db_close(&conn);
	FILE *ck = fmemopen(cookies, sizeof(cookies), "w");
	if (ck == NULL)
		return server_error(c, "sign-out", "out of memory");
	respond_cookie(ck, SESSION_COOKIE, "", 0);
	fclose(ck);
	return respond_redirect(c->out, c->req->script_name, "/login", cookies);
}

/* calendar_feed - GET /calendar/<token>.ics: the user's feed, or 404 */
static int calendar_feed(struct ctx *c, const char *token)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	PGconn *conn = connect_db(c);
	if (conn == NULL)
		return 0;
	FILE *mem = open_memstream(&body, &len);
	int r = mem != NULL ? calfeed_write(conn, token, mem, err, sizeof(err)) : -1;
	if (mem != NULL && fclose(mem) != 0)
		r = -1;
	db_close(&conn);
	if (r < 0)
		fprintf(stderr, "mailroom.cgi: calendar: %s\n", mem != NULL ? err : "out of memory");
	if (r != 1) {
		free(body);
		return respond_error(c->out, r == 0 ? "404 Not Found" : "500 Internal Server Error");
	}
	fputs("Status: 200 OK\r\n", c->out);
	respond_headers(c->out);
	fprintf(c->out, "Content-Type: text/calendar; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", len);
	fwrite(body, 1, len, c->out);
	free(body);
	return 0;
}

static const struct route routes[] = {
    {"GET", "/calendar/", ".ics", CALFEED_TOKEN_HEX, 0, calendar_feed},
    {"GET", "/login", "", 0, 0, get_login},
    {"POST", "/login", "", 0, 0, post_login},
    {"POST", "/logout", "", 0, 0, post_logout},
    {"GET", "/", "", 0, 0, inbox_get},
    {"GET", "/c/", "/compose", 18, 0, compose_conv_get},
    {"GET", "/c/", "", 200, 1, conversation_get},
    {"GET", "/users", "", 0, 0, users_list},
    {"POST", "/users", "", 0, 0, users_add},
    {"GET", "/users/", "", 20, 0, users_edit},
    {"POST", "/users/", "", 20, 0, users_update},
    {"POST", "/users/", "/reset", 20, 0, users_reset},
    {"GET", "/account", "", 0, 0, account_page},
    {"POST", "/account/totp", "", 0, 0, account_totp_start},
    {"POST", "/account/totp/confirm", "", 0, 0, account_totp_confirm},
    {"POST", "/account/totp/off", "", 0, 0, account_totp_off},
    {"POST", "/c/", "", 80, 1, actions_post},
    {"POST", "/bulk", "", 0, 0, bulk_post},
    {"GET", "/orgs", "", 0, 0, orgs_page},
    {"POST", "/o/", "/files", 20, 0, files_post_org},
    {"POST", "/p/", "/files", 20, 0, files_post_contact},
    {"GET", "/f/", "", 20, 0, files_get},
    {"POST", "/f/", "/delete", 20, 0, files_delete},
    {"GET", "/attachments", "", 0, 0, stdattach_list},
    {"POST", "/attachments", "", 0, 0, stdattach_add},
    {"GET", "/attachments/", "", 20, 0, stdattach_get},
    {"POST", "/attachments/", "/active", 20, 0, stdattach_active},
    {"GET", "/import", "", 0, 0, import_page},
    {"POST", "/import", "", 0, 0, import_post},
    {"GET", "/leads", "", 0, 0, leads_page},
    {"GET", "/leads/report", "", 0, 0, leads_report},
    {"GET", "/customers", "", 0, 0, customers_search},
    {"GET", "/o/new", "", 0, 0, org_new_get},
    {"POST", "/o", "", 0, 0, org_create},
    {"GET", "/o/", "/edit", 20, 0, org_edit_get},
    {"POST", "/o/", "/edit", 20, 0, org_edit_post},
    {"GET", "/p/new", "", 0, 0, contact_new_get},
    {"POST", "/p", "", 0, 0, contact_create},
    {"GET", "/p/", "/edit", 20, 0, contact_edit_get},
    {"POST", "/p/", "/edit", 20, 0, contact_edit_post},
    {"POST", "/o/", "/merge", 20, 0, org_merge},
    {"POST", "/p/", "/merge", 20, 0, contact_merge},
    {"POST", "/o/", "/active", 20, 0, org_active},
    {"POST", "/p/", "/active", 20, 0, contact_active},
    {"GET", "/export/customers.csv", "", 0, 0, export_customers_csv},
    {"GET", "/export/contacts.vcf", "", 0, 0, export_contacts_vcf},
    {"GET", "/p/", "/export", 20, 0, export_contact},
    /* the customer file: keep these after any fixed path under /o/ or /p/
     * (e.g. GET /o/new), which they would otherwise take (the first match wins) */
    {"GET", "/o/", "", 18, 0, custpage_org},
    {"GET", "/p/", "", 18, 0, custpage_contact},
    {"POST", "/o/", "/note", 18, 0, custact_org_note},
    {"POST", "/o/", "/task", 18, 0, custact_org_task},
    {"POST", "/o/", "/label", 18, 0, custact_org_label},
    {"POST", "/o/", "/unlabel", 18, 0, custact_org_unlabel},
    {"POST", "/o/", "/lead", 18, 0, custact_org_lead},
    {"POST", "/p/", "/note", 18, 0, custact_contact_note},
    {"POST", "/p/", "/task", 18, 0, custact_contact_task},
    {"POST", "/p/", "/label", 18, 0, custact_contact_label},
    {"POST", "/p/", "/unlabel", 18, 0, custact_contact_unlabel},
    {"POST", "/p/", "/lead", 18, 0, custact_contact_lead},
    {"POST", "/t/", "/done", 18, 0, custtask_done},
    {"POST", "/t/", "/reopen", 18, 0, custtask_reopen},
    {"GET", "/templates/notes", "", 0, 0, notetpl_list},
    {"POST", "/templates/notes", "", 0, 0, notetpl_add},
    {"GET", "/templates/notes/", "", 18, 0, notetpl_edit},
    {"POST", "/templates/notes/", "", 18, 0, notetpl_update},
    {"GET", "/compose", "", 0, 0, compose_new_get},
    {"POST", "/compose", "", 0, 0, compose_post},
    {"GET", "/templates/mail", "", 0, 0, mailtpl_list},
    {"POST", "/templates/mail", "", 0, 0, mailtpl_create},
    {"GET", "/templates/mail/", "", 18, 0, mailtpl_edit},
    {"POST", "/templates/mail/", "", 18, 0, mailtpl_update},
    {"GET", "/account/signature", "", 0, 0, signature_mine_get},
    {"POST", "/account/signature", "", 0, 0, signature_mine_post},
    {"GET", "/inboxes/", "/signature", 256, 0, signature_inbox_get},
    {"POST", "/inboxes/", "/signature", 256, 0, signature_inbox_post},
};

/* the POST handlers that take a multipart/form-data upload, and the cap
 * of its file in bytes; every other POST takes urlencoded forms only */
static const struct {
	int (*handle)(struct ctx *c, const char *arg);
	size_t max;
} upload_caps[] = {
    {files_post_org, UPLOAD_FILE_MAX},
    {files_post_contact, UPLOAD_FILE_MAX},
    {stdattach_add, UPLOAD_IMPORT_MAX},
    {import_post, UPLOAD_IMPORT_MAX},
};

/* upload_max - the upload cap of route r, 0 when it takes none */
static size_t upload_max(const struct route *r)
{
	for (size_t i = 0; i < sizeof(upload_caps) / sizeof(upload_caps[0]); i++)
		if (upload_caps[i].handle == r->handle)
			return upload_caps[i].max;
	return 0;
}

/* same_origin - may this POST come from our own pages? Sec-Fetch-Site, when
 * sent, must say same-origin; Origin, when sent, must be ours; one of the
 * two must be there (every current browser sends Origin with a POST). */
static int same_origin(const struct mailroom_conf *conf, const struct web_request *req)
{
	char want[REQ_HEADER_MAX + 16];
	if (req->fetch_site != NULL && strcmp(req->fetch_site, "same-origin") != 0)
		return 0;
	if (req->origin == NULL)
		return req->fetch_site != NULL;
	if (conf->web_origin[0] != '\0')
		snprintf(want, sizeof(want), "%s", conf->web_origin);
	else if (req->host != NULL && header_ok(req->host, REQ_HEADER_MAX))
		snprintf(want, sizeof(want), "%s://%s", req->https ? "https" : "http", req->host);
	else
		return 0;
	return strcmp(req->origin, want) == 0;
}

/* post_gate - the checks every POST passes; 0 to go on, else the refusal is sent */
static int post_gate(struct ctx *c, const struct route *r)
{
	const struct web_request *req = c->req;
	if (!same_origin(c->conf, req))
		return respond_error(c->out, "403 Forbidden") == 0 ? 1 : -1;
	size_t max = upload_max(r);
	if (max > 0 && multipart_is(req->content_type)) {
		enum multipart_result m =
		    multipart_parse(req->content_type, req->body != NULL ? req->body : "", req->body_len, max,
		                    &c->form, &c->upload);
		if (m == MULTIPART_TOO_LARGE)
			return upload_too_large(c->out, max) == 0 ? 1 : -1;
		if (m != MULTIPART_OK)
			return respond_error(c->out, "400 Bad Request") == 0 ? 1 : -1;
		return 0;
	}
	if (req->content_type == NULL ||
	    strncmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0)
		return respond_error(c->out, "415 Unsupported Media Type") == 0 ? 1 : -1;
	if (form_parse(req->body != NULL ? req->body : "", req->body_len, &c->form) < 0)
		return respond_error(c->out, "400 Bad Request") == 0 ? 1 : -1;
	return 0;
}

/* match - does path fit route r? arg gets the variable part */
static int match(const struct route *r, const char *path, char arg[PATH_ARG_MAX + 1])
{
	size_t plen = strlen(r->prefix), slen = strlen(r->suffix), len = strlen(path);
	arg[0] = '\0';
	if (r->arg_max == 0)
		return strcmp(path, r->prefix) == 0;
	if (len < plen + slen || strncmp(path, r->prefix, plen) != 0 ||
	    strcmp(path + len - slen, r->suffix) != 0)
		return 0;
	size_t alen = len - plen - slen;
	if (alen == 0 || alen > r->arg_max || alen > PATH_ARG_MAX ||
	    (!r->slashes && memchr(path + plen, '/', alen) != NULL))
		return 0;
	memcpy(arg, path + plen, alen);
	arg[alen] = '\0';
	return 1;
}

int route_request(const struct mailroom_conf *conf, const struct web_request *req, FILE *out)
{
	struct ctx c = {conf, req, out, {.n = 0}, {.n = 0}, {.field = NULL}};
	char arg[PATH_ARG_MAX + 1];
	int path_known = 0;
	const char *q = req->query != NULL ? req->query : "";
	if (strlen(q) > REQ_QUERY_MAX || form_parse(q, strlen(q), &c.query) < 0) {
		form_free(&c.query);
		return respond_error(out, "400 Bad Request");
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(&routes[i], req->path, arg))
			continue;
		path_known = 1;
		if (strcmp(req->method, routes[i].method) != 0)
			continue;
		int r = 0;
		if (strcmp(req->method, "POST") != 0 || (r = post_gate(&c, &routes[i])) == 0)
			r = routes[i].handle(&c, arg);
		form_free(&c.form);
		upload_free(&c.upload);
		form_free(&c.query);
		return r < 0 ? -1 : 0;
	}
	form_free(&c.query);
	return respond_error(out, path_known ? "405 Method Not Allowed" : "404 Not Found");
}

size_t route_body_max(const struct web_request *req, size_t *max)
{
	char arg[PATH_ARG_MAX + 1];
	*max = 0;
	if (req->method == NULL || strcmp(req->method, "POST") != 0 || !multipart_is(req->content_type))
		return REQ_BODY_MAX;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].method, "POST") == 0 && match(&routes[i], req->path, arg)) {
			*max = upload_max(&routes[i]);
			return *max > 0 ? *max + MULTIPART_OVERHEAD : REQ_BODY_MAX;
		}
	return REQ_BODY_MAX;
}
