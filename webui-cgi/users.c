/* users.c - the user pages, for admins only: the list of users with a
 * form to add one, one user's page (name, e-mail, role, active, shared
 * inboxes) and a new random password.
 *
 * Every change goes through the mailroom.admin_* functions of schema/011,
 * which check again in the database that the acting user is an active
 * admin, and is audited in the same transaction (never a password or a
 * hash). A new password is made here, shown once and stored only as its
 * Argon2id hash.
 */
#include "users.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "password.h"
#include "respond.h"
#include "userfields.h"
#include "userpage.h"

#define USERS_LIST_MAX 1000 /* rows of the list; more are announced, not hidden silently */
#define INBOXES_MAX    1000 /* shared inboxes on a user's page */
#define USER_PATH_MAX  64

static const char SQL_LIST[] =
    "SELECT u.id, u.login, u.display_name, coalesce(u.email, ''), u.role, u.active, "
    "       coalesce(c.totp_secret IS NOT NULL, false), "
    "       coalesce((SELECT string_agg(m.inbox, ', ' ORDER BY m.inbox) FROM mailroom.inbox_members m "
    "                  WHERE m.user_id = u.id), '') "
    "  FROM mailroom.users u LEFT JOIN mailroom.user_credentials c ON c.user_id = u.id "
    " ORDER BY u.login LIMIT $1::int";
static const char SQL_USER[] =
    "SELECT u.login, u.display_name, coalesce(u.email, ''), u.role, u.active, "
    "       coalesce(c.totp_secret IS NOT NULL, false) "
    "  FROM mailroom.users u LEFT JOIN mailroom.user_credentials c ON c.user_id = u.id "
    " WHERE u.id = $1::bigint";
static const char SQL_INBOXES[] = "SELECT i.address, coalesce(i.name, ''), "
                                  "       EXISTS (SELECT 1 FROM mailroom.inbox_members m WHERE m.inbox = "
                                  "i.address AND m.user_id = $1::bigint) "
                                  "  FROM mailroom.inboxes i ORDER BY i.address LIMIT $2::int";
static const char SQL_ADD[] = "SELECT mailroom.admin_user_add($1, $2, nullif($3, ''), $4, $5)";
static const char SQL_UPDATE[] =
    "SELECT mailroom.admin_user_update($1::bigint, $2, nullif($3, ''), $4, $5::boolean)";
static const char SQL_PASSWORD[] = "SELECT mailroom.admin_user_password($1::bigint, $2)";
static const char SQL_MEMBER[] = "SELECT mailroom.admin_inbox_member($1, $2::bigint, $3::boolean)";

/* admin_begin - web_begin for a GET (form NULL) or web_post_begin with the
 * CSRF form name, then 403 unless the user is an admin; 1 to go on */
static int admin_begin(struct ctx *c, const char *form, PGconn **conn, struct session *s)
{
	int r = form == NULL ? web_begin(c, conn, s) : web_post_begin(c, form, conn, s);
	if (r && strcmp(s->role, "admin") != 0) {
		db_close(conn);
		respond_error(c->out, "403 Forbidden");
		return 0;
	}
	return r;
}

/* id_ok - is arg a user id: 1 to 18 digits without a leading zero? */
static int id_ok(const char *arg)
{
	size_t n = strlen(arg);
	return n > 0 && n <= 18 && arg[0] != '0' && strspn(arg, "0123456789") == n;
}

/* rollback - end a failed transaction; the connection is closed after it anyway */
static void rollback(PGconn *conn)
{
	char err[256];
	if (db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "mailroom.cgi: users: %s\n", err);
}

/* refused - after a failed statement of state: roll back, close, and
 * answer what a form can cause with a message (409, 400, 404), else 500 */
static int refused(struct ctx *c, PGconn **conn, const struct session *s, const char *state, const char *err,
                   const char *back)
{
	rollback(*conn);
	db_close(conn);
	if (strcmp(state, "23505") == 0)
		return userpage_message(c, s, "409 Conflict", "Not saved", "That login is already taken.",
		                        back);
	if (strcmp(state, "42501") == 0 && strstr(err, "themself") != NULL)
		return userpage_message(c, s, "409 Conflict", "Not saved",
		                        "An admin cannot take away their own admin role or disable themself. "
		                        "Another admin has to do that.",
		                        back);
	if (strcmp(state, "42501") == 0)
		return respond_error(c->out, "403 Forbidden");
	if (strcmp(state, "P0002") == 0)
		return respond_error(c->out, "404 Not Found");
	if (strncmp(state, "23", 2) == 0 || strcmp(state, "22001") == 0)
		return userpage_message(c, s, "400 Bad Request", "Not saved",
		                        "The database did not accept these values.", back);
	return server_error(c, "users", err);
}

/* role_select - <select name=role> with current selected */
static void role_select(FILE *mem, const char *current)
{
	fputs("<select name=\"role\" required>\n", mem);
	for (size_t i = 0; i < sizeof(userfields_roles) / sizeof(userfields_roles[0]); i++)
		fprintf(mem, "<option value=\"%s\"%s>%s</option>\n", userfields_roles[i],
		        strcmp(current, userfields_roles[i]) == 0 ? " selected" : "", userfields_roles[i]);
	fputs("</select>", mem);
}

/* cell - <td class=cls>escaped text</td> */
static void cell(FILE *mem, const char *cls, const char *text)
{
	fprintf(mem, "<td class=\"%s\">", cls);
	esc_html(mem, text);
	fputs("</td>", mem);
}

/* yes_no - "yes" for PostgreSQL's true */
static const char *yes_no(const char *pg_bool)
{
	return strcmp(pg_bool, "t") == 0 ? "yes" : "no";
}

int users_list(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024], limit[24];
	if (!admin_begin(c, NULL, &conn, &s))
		return 0;
	snprintf(limit, sizeof(limit), "%d", USERS_LIST_MAX + 1);
	const char *p[1] = {limit};
	PGresult *res = db_query(conn, SQL_LIST, 1, p, err, sizeof(err));
	db_close(&conn);
	if (res == NULL)
		return server_error(c, "users", err);
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		PQclear(res);
		return server_error(c, "page", "out of memory");
	}
	app_head(mem, c, &s, "Users");
	fputs("<h1>Users</h1>\n<table class=\"users\">\n<thead><tr><th>Login</th><th>Name</th><th>E-mail</th>"
	      "<th>Role</th><th>Active</th><th>Second factor</th><th>Inboxes</th></tr></thead>\n<tbody>\n",
	      mem);
	int rows = PQntuples(res);
	for (int i = 0; i < rows && i < USERS_LIST_MAX; i++) {
		fputs("<tr data-id=\"", mem);
		esc_attr(mem, PQgetvalue(res, i, 0));
		fputs("\"><td class=\"login\"><a href=\"", mem);
		esc_attr(mem, c->req->script_name);
		fputs("/users/", mem);
		esc_attr(mem, PQgetvalue(res, i, 0));
		fputs("\">", mem);
		esc_html(mem, PQgetvalue(res, i, 1));
		fputs("</a></td>", mem);
		cell(mem, "name", PQgetvalue(res, i, 2));
		cell(mem, "email", PQgetvalue(res, i, 3));
		cell(mem, "role", PQgetvalue(res, i, 4));
		cell(mem, "active", yes_no(PQgetvalue(res, i, 5)));
		cell(mem, "totp", yes_no(PQgetvalue(res, i, 6)));
		cell(mem, "inboxes", PQgetvalue(res, i, 7));
		fputs("</tr>\n", mem);
	}
	fputs("</tbody>\n</table>\n", mem);
	if (rows > USERS_LIST_MAX)
		fprintf(mem, "<p class=\"more\">Only the first %d users (by login) are listed.</p>\n",
		        USERS_LIST_MAX);
	PQclear(res);
	fputs("<h2>Add a user</h2>\n", mem);
	form_open(mem, c, &s, "/users", "users-add", "id=\"users-add\"");
	fputs("<p><label>Login <input name=\"login\" required maxlength=\"64\" "
	      "autocomplete=\"off\"></label></p>\n"
	      "<p><label>Name <input name=\"name\" required maxlength=\"200\"></label></p>\n"
	      "<p><label>E-mail <input type=\"email\" name=\"email\" maxlength=\"320\"></label></p>\n"
	      "<p><label>Role ",
	      mem);
	role_select(mem, "agent");
	fputs("</label></p>\n<p><button type=\"submit\">Add user</button></p>\n</form>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* password_page - the page that shows a new password once */
static int password_page(struct ctx *c, const struct session *s, const char *title, const char *id,
                         const char *login, const char *password)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	app_head(mem, c, s, title);
	fputs("<h1>", mem);
	esc_html(mem, title);
	fputs("</h1>\n", mem);
	userpage_password(mem, login, password);
	fputs("<p><a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/users/", mem);
	esc_attr(mem, id);
	fputs("\">The user's page</a> · <a href=\"", mem);
	esc_attr(mem, c->req->script_name);
	fputs("/users\">All users</a></p>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* new_password - a random password and its hash; 0, or -1 after a 500 */
static int new_password(struct ctx *c, char pw[PASSWORD_RANDOM_LEN + 1], char hash[PASSWORD_HASH_MAX])
{
	if (password_random(pw, PASSWORD_RANDOM_LEN) < 0 || password_hash(pw, hash) < 0) {
		server_error(c, "users", "password: no random numbers or out of memory");
		return -1;
	}
	return 0;
}

int users_add(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	PGconn *conn;
	char err[1024], state[6], pw[PASSWORD_RANDOM_LEN + 1], hash[PASSWORD_HASH_MAX], id[24];
	const char *login = form_get(&c->form, "login"), *name = form_get(&c->form, "name");
	const char *email = form_get(&c->form, "email"), *role = form_get(&c->form, "role");
	if (!admin_begin(c, "users-add", &conn, &s))
		return 0;
	email = email != NULL ? email : "";
	const char *bad = userfields_check(login != NULL ? login : "", name, email, role);
	if (bad != NULL) {
		db_close(&conn);
		return userpage_message(c, &s, "400 Bad Request", "User not added", bad, "/users");
	}
	if (new_password(c, pw, hash) < 0) {
		db_close(&conn);
		return 0;
	}
	const char *p[5] = {login, name, email, role, hash};
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	PGresult *res = userpage_exec(conn, SQL_ADD, 5, p, state, err, sizeof(err));
	if (res == NULL)
		return refused(c, &conn, &s, state, err, "/users");
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	char object[32];
	snprintf(object, sizeof(object), "user:%s", id);
	json_t *after = json_pack("{s:s, s:s, s:s?, s:s, s:b}", "login", login, "name", name, "email",
	                          email[0] != '\0' ? email : NULL, "role", role, "active", 1);
	if (userpage_audit(conn, &s, "user.add", object, NULL, after, err, sizeof(err)) < 0 ||
	    db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	db_close(&conn);
	int r = password_page(c, &s, "User added", id, login, pw);
	sodium_memzero(pw, sizeof(pw));
	return r;
}

/* inbox_boxes - the checkboxes of shared inbox membership */
static void inbox_boxes(FILE *mem, PGresult *inboxes)
{
	int n = PQntuples(inboxes);
	fputs("<fieldset class=\"inboxes\">\n<legend>Shared inboxes</legend>\n", mem);
	if (n == 0)
		fputs("<p>There are no shared inboxes (gateway.shared_inboxes).</p>\n", mem);
	for (int i = 0; i < n; i++) {
		fputs("<p><label><input type=\"checkbox\" name=\"inbox\" value=\"", mem);
		esc_attr(mem, PQgetvalue(inboxes, i, 0));
		fputs("\"", mem);
		if (strcmp(PQgetvalue(inboxes, i, 2), "t") == 0)
			fputs(" checked", mem);
		fputs("> ", mem);
		esc_html(mem, PQgetvalue(inboxes, i, 0));
		if (PQgetvalue(inboxes, i, 1)[0] != '\0') {
			fputs(" (", mem);
			esc_html(mem, PQgetvalue(inboxes, i, 1));
			fputs(")", mem);
		}
		fputs("</label></p>\n", mem);
	}
	fputs("</fieldset>\n", mem);
}

/* edit_page - one user's page: user is SQL_USER's row, inboxes SQL_INBOXES' */
static int edit_page(struct ctx *c, const struct session *s, const char *id, PGresult *user,
                     PGresult *inboxes)
{
	char path[USER_PATH_MAX];
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return server_error(c, "page", "out of memory");
	app_head(mem, c, s, PQgetvalue(user, 0, 0));
	fputs("<h1>User <span class=\"login\">", mem);
	esc_html(mem, PQgetvalue(user, 0, 0));
	fprintf(mem, "</span></h1>\n<p>Second factor: <span class=\"totp\">%s</span></p>\n",
	        yes_no(PQgetvalue(user, 0, 5)));
	snprintf(path, sizeof(path), "/users/%s", id);
	form_open(mem, c, s, path, "user-edit", "id=\"user-edit\"");
	fputs("<p><label>Name <input name=\"name\" required maxlength=\"200\" value=\"", mem);
	esc_attr(mem, PQgetvalue(user, 0, 1));
	fputs("\"></label></p>\n<p><label>E-mail <input type=\"email\" name=\"email\" maxlength=\"320\" "
	      "value=\"",
	      mem);
	esc_attr(mem, PQgetvalue(user, 0, 2));
	fputs("\"></label></p>\n<p><label>Role ", mem);
	role_select(mem, PQgetvalue(user, 0, 3));
	fprintf(mem,
	        "</label></p>\n<p><label><input type=\"checkbox\" name=\"active\" value=\"1\"%s> Active (may "
	        "sign in)</label></p>\n",
	        strcmp(PQgetvalue(user, 0, 4), "t") == 0 ? " checked" : "");
	inbox_boxes(mem, inboxes);
	fputs("<p><button type=\"submit\">Save</button></p>\n</form>\n<h2>Password</h2>\n", mem);
	snprintf(path, sizeof(path), "/users/%s/reset", id);
	form_open(mem, c, s, path, "user-reset", "id=\"user-reset\"");
	fputs("<p>A new random password is shown once; the old one and every session of the user end.</p>\n"
	      "<p><button type=\"submit\">Set a new password</button></p>\n</form>\n<p><a href=\"",
	      mem);
	esc_attr(mem, c->req->script_name);
	fputs("/users\">All users</a></p>\n", mem);
	app_foot(mem);
	return send_page(c, mem, &body, &len, "200 OK", NULL);
}

/* load_user - SQL_USER and SQL_INBOXES for id: 1 both set, 0 no such user,
 * -1 error in err */
static int load_user(PGconn *conn, const char *id, PGresult **user, PGresult **inboxes, char *err,
                     size_t errlen)
{
	char limit[24];
	const char *p[2] = {id, limit};
	snprintf(limit, sizeof(limit), "%d", INBOXES_MAX);
	*inboxes = NULL;
	if ((*user = db_query(conn, SQL_USER, 1, p, err, errlen)) == NULL)
		return -1;
	if (PQntuples(*user) != 1) {
		PQclear(*user);
		*user = NULL;
		return 0;
	}
	if ((*inboxes = db_query(conn, SQL_INBOXES, 2, p, err, errlen)) == NULL) {
		PQclear(*user);
		*user = NULL;
		return -1;
	}
	return 1;
}

int users_edit(struct ctx *c, const char *arg)
{
	struct session s;
	PGconn *conn;
	PGresult *user, *inboxes;
	char err[1024];
	if (!admin_begin(c, NULL, &conn, &s))
		return 0;
	if (!id_ok(arg)) {
		db_close(&conn);
		return respond_error(c->out, "404 Not Found");
	}
	int r = load_user(conn, arg, &user, &inboxes, err, sizeof(err));
	db_close(&conn);
	if (r <= 0)
		return r < 0 ? server_error(c, "users", err) : respond_error(c->out, "404 Not Found");
	r = edit_page(c, &s, arg, user, inboxes);
	PQclear(user);
	PQclear(inboxes);
	return r;
}

/* posted_inbox - is address among the form's "inbox" fields? */
static int posted_inbox(const struct form *f, const char *address)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->field[i].name, "inbox") == 0 && strcmp(f->field[i].value, address) == 0)
			return 1;
	return 0;
}

/* unknown_inbox - 1 when the form names an inbox that is not in inboxes */
static int unknown_inbox(const struct form *f, PGresult *inboxes)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->field[i].name, "inbox") != 0)
			continue;
		int found = 0;
		for (int k = 0; k < PQntuples(inboxes) && !found; k++)
			found = strcmp(f->field[i].value, PQgetvalue(inboxes, k, 0)) == 0;
		if (!found)
			return 1;
	}
	return 0;
}

/* user_json - name, e-mail (null when none), role and active as audit JSON */
static json_t *user_json(const char *name, const char *email, const char *role, int active)
{
	return json_pack("{s:s, s:s?, s:s, s:b}", "name", name, "email", email[0] != '\0' ? email : NULL,
	                 "role", role, "active", active);
}

/* save_fields - admin_user_update and its audit row when a field changed;
 * 0, or -1 with state and err set */
static int save_fields(PGconn *conn, const struct session *s, const char *id, const char *object,
                       PGresult *user, const char *const now[4], char state[6], char *err, size_t errlen)
{
	int was_active = strcmp(PQgetvalue(user, 0, 4), "t") == 0, active = strcmp(now[3], "true") == 0;
	if (strcmp(PQgetvalue(user, 0, 1), now[0]) == 0 && strcmp(PQgetvalue(user, 0, 2), now[1]) == 0 &&
	    strcmp(PQgetvalue(user, 0, 3), now[2]) == 0 && was_active == active)
		return 0;
	const char *p[5] = {id, now[0], now[1], now[2], now[3]};
	PGresult *res = userpage_exec(conn, SQL_UPDATE, 5, p, state, err, errlen);
	if (res == NULL)
		return -1;
	PQclear(res);
	json_t *before =
	    user_json(PQgetvalue(user, 0, 1), PQgetvalue(user, 0, 2), PQgetvalue(user, 0, 3), was_active);
	return userpage_audit(conn, s, "user.update", object, before,
	                      user_json(now[0], now[1], now[2], active), err, errlen);
}

/* save_inboxes - admin_inbox_member and an audit row for each inbox whose
 * membership the form changes; 0, or -1 with state and err set */
static int save_inboxes(PGconn *conn, const struct session *s, const char *id, const char *object,
                        const struct form *f, PGresult *inboxes, char state[6], char *err, size_t errlen)
{
	for (int i = 0; i < PQntuples(inboxes); i++) {
		const char *address = PQgetvalue(inboxes, i, 0);
		int have = strcmp(PQgetvalue(inboxes, i, 2), "t") == 0, want = posted_inbox(f, address);
		if (have == want)
			continue;
		const char *p[3] = {address, id, want ? "true" : "false"};
		PGresult *res = userpage_exec(conn, SQL_MEMBER, 3, p, state, err, errlen);
		if (res == NULL)
			return -1;
		PQclear(res);
		json_t *before = json_pack("{s:s, s:b}", "inbox", address, "member", have);
		json_t *after = json_pack("{s:s, s:b}", "inbox", address, "member", want);
		if (userpage_audit(conn, s, "user.inbox", object, before, after, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int users_update(struct ctx *c, const char *arg)
{
	struct session s;
	PGconn *conn;
	PGresult *user, *inboxes;
	char err[1024], state[6] = "", object[32], path[USER_PATH_MAX];
	const char *name = form_get(&c->form, "name"), *email = form_get(&c->form, "email");
	const char *role = form_get(&c->form, "role"), *active = form_get(&c->form, "active");
	if (!admin_begin(c, "user-edit", &conn, &s))
		return 0;
	if (!id_ok(arg)) {
		db_close(&conn);
		return respond_error(c->out, "404 Not Found");
	}
	snprintf(path, sizeof(path), "/users/%s", arg);
	snprintf(object, sizeof(object), "user:%s", arg);
	email = email != NULL ? email : "";
	const char *bad = userfields_check(NULL, name, email, role);
	if (bad == NULL && active != NULL && strcmp(active, "1") != 0)
		bad = "Active is a checkbox with the value 1.";
	if (bad != NULL) {
		db_close(&conn);
		return userpage_message(c, &s, "400 Bad Request", "Not saved", bad, path);
	}
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	int r = load_user(conn, arg, &user, &inboxes, err, sizeof(err));
	if (r <= 0) {
		rollback(conn);
		db_close(&conn);
		return r < 0 ? server_error(c, "users", err) : respond_error(c->out, "404 Not Found");
	}
	const char *now[4] = {name, email, role, active != NULL ? "true" : "false"};
	int bad_inbox = unknown_inbox(&c->form, inboxes);
	if (!bad_inbox)
		r = save_fields(conn, &s, arg, object, user, now, state, err, sizeof(err)) == 0 &&
		            save_inboxes(conn, &s, arg, object, &c->form, inboxes, state, err, sizeof(err)) ==
		                0
		        ? 0
		        : -1;
	PQclear(user);
	PQclear(inboxes);
	if (bad_inbox) {
		rollback(conn);
		db_close(&conn);
		return userpage_message(c, &s, "400 Bad Request", "Not saved",
		                        "There is no such shared inbox.", path);
	}
	if (r < 0)
		return refused(c, &conn, &s, state, err, path);
	if (db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	db_close(&conn);
	return respond_redirect(c->out, c->req->script_name, path, NULL);
}

int users_reset(struct ctx *c, const char *arg)
{
	struct session s;
	PGconn *conn;
	char err[1024], state[6], pw[PASSWORD_RANDOM_LEN + 1], hash[PASSWORD_HASH_MAX], object[32],
	    login[USER_LOGIN_MAX + 1];
	if (!admin_begin(c, "user-reset", &conn, &s))
		return 0;
	if (!id_ok(arg)) {
		db_close(&conn);
		return respond_error(c->out, "404 Not Found");
	}
	if (new_password(c, pw, hash) < 0) {
		db_close(&conn);
		return 0;
	}
	snprintf(object, sizeof(object), "user:%s", arg);
	const char *p[2] = {arg, hash};
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	PGresult *res = db_query(conn, SQL_USER, 1, p, err, sizeof(err));
	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		rollback(conn);
		db_close(&conn);
		return res == NULL ? server_error(c, "users", err) : respond_error(c->out, "404 Not Found");
	}
	snprintf(login, sizeof(login), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((res = userpage_exec(conn, SQL_PASSWORD, 2, p, state, err, sizeof(err))) == NULL)
		return refused(c, &conn, &s, state, err, "/users");
	PQclear(res);
	json_t *after = json_pack("{s:s, s:s}", "login", login, "sessions", "ended");
	if (userpage_audit(conn, &s, "user.reset", object, NULL, after, err, sizeof(err)) < 0 ||
	    db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		db_close(&conn);
		return server_error(c, "users", err);
	}
	db_close(&conn);
	int r = password_page(c, &s, "New password", arg, login, pw);
	sodium_memzero(pw, sizeof(pw));
	return r;
}
