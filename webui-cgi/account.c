/* account.c - the signed-in user's own account: what it is, and the
 * second factor (TOTP) set up by QR code, replaced or turned off.
 *
 * Setting up stores nothing until a code confirms the new key: the key
 * travels sealed in the confirming form (totpseal.h), and only a right
 * code stores it through mailroom.web_totp_set(), which acts for the
 * session's user alone. The confirming code's time step is recorded as
 * used, so it cannot sign in a second time. Replacing the factor or
 * turning it off needs the current password; a wrong one counts as a
 * failed sign-in, and the sign-in throttle applies. Every change is audited as user.totp, never with
 * the key in it.
 */
#include "account.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "password.h"
#include "escape.h"
#include "qrsvg.h"
#include "respond.h"
#include "signin.h"
#include "totp.h"
#include "totpseal.h"
#include "userpage.h"

static const char SQL_ACCOUNT[] = "SELECT u.login, u.display_name, coalesce(u.email, ''), u.role, "
                                  "coalesce(c.totp_secret IS NOT NULL, false), "
                                  "       u.calendar_token_hash IS NOT NULL, "
                                  "coalesce(to_char(u.calendar_token_created_at, 'YYYY-MM-DD'), '') "
                                  "  FROM mailroom.users u LEFT JOIN mailroom.user_credentials c ON "
                                  "c.user_id = u.id WHERE u.id = $1::bigint";
static const char SQL_CREDENTIALS[] = "SELECT coalesce(password_hash, ''), totp_secret IS NOT NULL "
                                      "  FROM mailroom.user_credentials WHERE user_id = $1::bigint";
static const char SQL_TOTP_SET[] = "SELECT mailroom.web_totp_set($1::bytea)";
static const char SQL_TOTP_STEP[] =
    "UPDATE mailroom.user_credentials SET totp_last_step = $2::bigint WHERE user_id = $1::bigint";

/* item - <dt>term</dt><dd class=cls>escaped text</dd> */
static void item(FILE *mem, const char *term, const char *cls, const char *text)
{
	fprintf(mem, "<dt>%s</dt><dd class=\"%s\">", term, cls);
	esc_html(mem, text);
	fputs("</dd>\n", mem);
}

int account_page(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024];
	if (!web_begin(c, &conn, &s))
		return 0;
	const char *p[1] = {s.user_id};
	PGresult *res = db_query(conn, SQL_ACCOUNT, 1, p, err, sizeof(err));
	db_close(&conn);
	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		return server_error(c, "account", res == NULL ? err : "no user row");
	}
	int totp_on = strcmp(PQgetvalue(res, 0, 4), "t") == 0, feed = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(res);
		return server_error(c, "page", "out of memory");
	}
	app_head(mem, c, &s, "Account");
	fputs("<h1>Your account</h1>\n<dl class=\"account\">\n", mem);
	item(mem, "Login", "login", PQgetvalue(res, 0, 0));
	item(mem, "Name", "name", PQgetvalue(res, 0, 1));
	item(mem, "E-mail", "email", PQgetvalue(res, 0, 2));
	item(mem, "Role", "role", PQgetvalue(res, 0, 3));
	item(mem, "Second factor", "totp", totp_on ? "on" : "off");
	fputs("<dt>Calendar feed</dt><dd class=\"calendar\">", mem);
	if (feed) {
		fputs("set up on ", mem);
		esc_html(mem, PQgetvalue(res, 0, 6));
	} else
		fputs("none", mem);
	fputs("</dd>\n</dl>\n", mem);
	PQclear(res);
	fputs("<h2>Second factor</h2>\n<p>With a second factor, signing in needs the six-digit code of an "
	      "authenticator app as well as the password.</p>\n",
	      mem);
	form_open(mem, c, &s, "/account/totp", "totp-start", "id=\"totp-start\"");
	fprintf(mem, "<p><button type=\"submit\">%s</button></p>\n</form>\n",
	        totp_on ? "Replace the second factor" : "Set up a second factor");
	if (totp_on) {
		form_open(mem, c, &s, "/account/totp/off", "totp-off", "id=\"totp-off\"");
		fputs("<p><label>Password <input type=\"password\" name=\"password\" required "
		      "autocomplete=\"current-password\"></label></p>\n"
		      "<p><button type=\"submit\">Turn the second factor off</button></p>\n</form>\n",
		      mem);
	}
	fputs("<h2>Calendar feed</h2>\n<p>The feed of your reminders is a secret address shown once when it "
	      "is made; an administrator makes a new one (the old one then stops working) with "
	      "<code>mailroomctl calendar token</code>.</p>\n",
	      mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* otpauth_uri - the URI authenticator apps read for key (b32 without
 * padding); login is safe in a URI (mailroom.users' CHECK: a-z 0-9 . _ -) */
static char *otpauth_uri(const char *login, const char *b32)
{
	char *uri = NULL;
	if (strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(login))
		return NULL;
	if (asprintf(&uri,
	             "otpauth://totp/mailroom:%s?secret=%s&issuer=mailroom&algorithm=SHA1&digits=6&period=30",
	             login, b32) < 0)
		return NULL;
	return uri;
}

/* enrol_body - the QR code and text of key and the form totp-confirm
 * carrying it sealed, with a password field when a factor is to be
 * replaced (replace set); -1 when encoding failed */
static int enrol_body(FILE *mem, struct ctx *c, const struct session *s,
                      const unsigned char key[TOTP_KEY_BYTES], const char *sealed, int replace,
                      const char *message)
{
	char *b32 = NULL, *uri = NULL;
	size_t b32len = 0;
	int r = -1;
	if (oath_init() != OATH_OK)
		return -1;
	if (oath_base32_encode((const char *)key, TOTP_KEY_BYTES, &b32, &b32len) == OATH_OK) {
		b32[strcspn(b32, "=")] = '\0'; /* padding is not part of the URI form */
		uri = otpauth_uri(s->login, b32);
	}
	oath_done();
	fputs("<h1>Set up a second factor</h1>\n", mem);
	if (message != NULL) {
		fputs("<p role=\"alert\" class=\"message\">", mem);
		esc_html(mem, message);
		fputs("</p>\n", mem);
	}
	fputs("<p>Scan this code with an authenticator app (any app for TOTP codes), or type the key below "
	      "into it. Then enter the six-digit code the app shows. Nothing changes until the code is "
	      "confirmed, within 15 minutes.</p>\n",
	      mem);
	if (uri != NULL && qrsvg_text(mem, uri) == 0) {
		fputs("<p>Key: <code class=\"totp-secret\">", mem);
		esc_html(mem, b32);
		fputs("</code></p>\n", mem);
		form_open(mem, c, s, "/account/totp/confirm", "totp-confirm", "id=\"totp-confirm\"");
		fputs("<input type=\"hidden\" name=\"pending\" value=\"", mem);
		esc_attr(mem, sealed);
		fputs("\">\n", mem);
		if (replace)
			fputs("<p><label>Password <input type=\"password\" name=\"password\" required "
			      "autocomplete=\"current-password\"></label></p>\n",
			      mem);
		fputs("<p><label>Code <input name=\"code\" inputmode=\"numeric\" "
		      "autocomplete=\"one-time-code\" "
		      "required maxlength=\"6\" pattern=\"[0-9]{6}\"></label></p>\n"
		      "<p><button type=\"submit\">Turn on</button></p>\n</form>\n<p><a href=\"",
		      mem);
		esc_attr(mem, c->req->script_name);
		fputs("/account\">Cancel</a></p>\n", mem);
		r = 0;
	}
	if (b32 != NULL) {
		sodium_memzero(b32, b32len);
		free(b32);
	}
	if (uri != NULL) {
		sodium_memzero(uri, strlen(uri));
		free(uri);
	}
	return r;
}

/* enrol_page - the set-up page for key with status and message (may be NULL) */
static int enrol_page(struct ctx *c, const struct session *s, const unsigned char key[TOTP_KEY_BYTES],
                      const char *sealed, int replace, const char *status, const char *message)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	app_head(mem, c, s, "Second factor");
	if (enrol_body(mem, c, s, key, sealed, replace, message) < 0) {
		fclose(mem);
		free(body);
		return server_error(c, "account", "the TOTP key could not be encoded");
	}
	app_foot(mem);
	return send_page(c, mem, &body, &len, status, NULL);
}

/* totp_on - 1 when the user has a second factor, 0 not, -1 error */
static int totp_on(PGconn *conn, const struct session *s, char *hash, size_t hashlen, char *err,
                   size_t errlen)
{
	const char *p[1] = {s->user_id};
	PGresult *res = db_query(conn, SQL_CREDENTIALS, 1, p, err, errlen);
	if (res == NULL)
		return -1;
	int on = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (hash != NULL)
		snprintf(hash, hashlen, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return on;
}

/* password_gate - when the user has a second factor, the form's password
 * must be right, within the sign-in throttle (a wrong one counts as a
 * failed sign-in). *on gets whether a factor is on. 1 to go on; 0 when the
 * answer (403, 429, 500) is sent and conn closed */
static int password_gate(struct ctx *c, PGconn **conn, const struct session *s, int *on)
{
	char err[1024], hash[PASSWORD_HASH_MAX];
	const char *addr = c->req->remote_addr != NULL ? c->req->remote_addr : "";
	*on = totp_on(*conn, s, hash, sizeof(hash), err, sizeof(err));
	if (*on == 0)
		return 1;
	int throttled = *on > 0 ? signin_throttled(*conn, c->conf, s->login, addr, err, sizeof(err)) : 0;
	enum signin_result f = SIGNIN_OK;
	if (*on > 0 && throttled == 0 && !password_verify(hash, form_get(&c->form, "password")))
		f = signin_failed(*conn, c->conf, s->login, addr, s->user_id, err, sizeof(err));
	sodium_memzero(hash, sizeof(hash));
	if (f == SIGNIN_OK && *on > 0 && throttled == 0)
		return 1;
	db_close(conn);
	if (*on < 0 || throttled < 0 || f == SIGNIN_ERROR)
		server_error(c, "account", err);
	else if (throttled > 0)
		userpage_message(c, s, "429 Too Many Requests", "Second factor unchanged",
		                 "Too many wrong passwords. Try again later.", "/account");
	else
		userpage_message(c, s, "403 Forbidden", "Second factor unchanged",
		                 "The password is not right.", "/account");
	return 0;
}

int account_totp_start(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	unsigned char key[TOTP_KEY_BYTES];
	char sealed[TOTP_SEAL_HEX + 1];
	char err[1024];
	if (!web_post_begin(c, "totp-start", &conn, &s))
		return 0;
	int on = totp_on(conn, &s, NULL, 0, err, sizeof(err));
	db_close(&conn);
	if (on < 0)
		return server_error(c, "account", err);
	randombytes_buf(key, sizeof(key));
	int r = totp_seal(s.csrf_key, key, time(NULL), sealed) < 0
	            ? server_error(c, "account", "sealing the TOTP key failed")
	            : enrol_page(c, &s, key, sealed, on, "200 OK", NULL);
	sodium_memzero(key, sizeof(key));
	return r;
}

/* store_totp - in one transaction: the key (hex "\x..." or NULL for none),
 * the step already used (or NULL) and the audit row; 0 or -1 with err */
static int store_totp(PGconn *conn, const struct session *s, const char *key_hex, const char *step, char *err,
                      size_t errlen)
{
	char object[32];
	snprintf(object, sizeof(object), "user:%s", s->user_id);
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	int was = totp_on(conn, s, NULL, 0, err, errlen);
	const char *p1[1] = {key_hex}, *p2[2] = {s->user_id, step};
	if (was < 0 || db_command(conn, SQL_TOTP_SET, 1, p1, err, errlen) < 0 ||
	    (step != NULL && db_command(conn, SQL_TOTP_STEP, 2, p2, err, errlen) < 0) ||
	    userpage_audit(conn, s, "user.totp", object, json_pack("{s:b}", "totp", was),
	                   json_pack("{s:b}", "totp", key_hex != NULL), err, errlen) < 0 ||
	    db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0)
		return -1;
	return 0;
}

int account_totp_confirm(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	unsigned char key[TOTP_KEY_BYTES];
	char err[1024], hex[2 + 2 * TOTP_KEY_BYTES + 1] = "\\x", step[24];
	const char *sealed = form_get(&c->form, "pending"), *code = form_get(&c->form, "code");
	int64_t matched = 0;
	time_t now = time(NULL);
	if (!web_post_begin(c, "totp-confirm", &conn, &s))
		return 0;
	if (!totp_unseal(s.csrf_key, sealed, now, key)) {
		db_close(&conn);
		return userpage_message(
		    c, &s, "400 Bad Request", "Second factor not set up",
		    "This set-up form was changed, belongs to another sign-in or is older "
		    "than 15 minutes. Start again.",
		    "/account");
	}
	int on = 0;
	if (!password_gate(c, &conn, &s, &on)) {
		sodium_memzero(key, sizeof(key));
		return 0;
	}
	int r = totp_verify(key, sizeof(key), code, now, &matched);
	if (r <= 0) {
		db_close(&conn);
		r = r < 0 ? server_error(c, "account", "TOTP check failed")
		          : enrol_page(
		                c, &s, key, sealed, on, "400 Bad Request",
		                "That code is not right. Check that your device's clock is right, then enter "
		                "the code the app shows now.");
		sodium_memzero(key, sizeof(key));
		return r;
	}
	sodium_bin2hex(hex + 2, sizeof(hex) - 2, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	snprintf(step, sizeof(step), "%lld", (long long)matched);
	r = store_totp(conn, &s, hex, step, err, sizeof(err));
	sodium_memzero(hex, sizeof(hex));
	db_close(&conn);
	if (r < 0)
		return server_error(c, "account", err);
	return respond_redirect(c->out, c->req->script_name, "/account", NULL);
}

int account_totp_off(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024];
	int on = 0;
	if (!web_post_begin(c, "totp-off", &conn, &s))
		return 0;
	if (!password_gate(c, &conn, &s, &on))
		return 0;
	if (on == 0) {
		db_close(&conn);
		return userpage_message(c, &s, "409 Conflict", "Second factor",
		                        "The second factor is already off.", "/account");
	}
	int r = store_totp(conn, &s, NULL, NULL, err, sizeof(err));
	db_close(&conn);
	if (r < 0)
		return server_error(c, "account", err);
	return respond_redirect(c->out, c->req->script_name, "/account", NULL);
}
