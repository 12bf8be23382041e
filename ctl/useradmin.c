/* useradmin.c - users' web sign-in from the command line: passwords as
 * Argon2id strings (libsodium), TOTP keys (printed once, base32 by
 * liboath), disabling a user and ending their sessions. */
#include "useradmin.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "password.h"
#include "remindersadmin.h"

#define USAGE          (-2)
#define ACTOR          "'mailroomctl:' || session_user"
#define PASSWORD_MIN   10
#define PASSWORD_MAX   1024
#define TOTP_KEY_BYTES 20

static const char SQL_SET_PASSWORD[] =
    "WITH u AS (SELECT id FROM mailroom.users WHERE login = $1), "
    "c AS (INSERT INTO mailroom.user_credentials (user_id, password_hash, password_set_at) "
    "  SELECT id, $2, now() FROM u ON CONFLICT (user_id) DO UPDATE SET password_hash = "
    "EXCLUDED.password_hash, "
    "  password_set_at = now() RETURNING user_id), "
    "s AS (DELETE FROM mailroom.web_sessions WHERE user_id IN (SELECT user_id FROM c)) "
    "SELECT c.user_id, mailroom.audit_append(" ACTOR ", 'user.password', 'user:' || c.user_id, NULL, NULL) "
    "  FROM c";
static const char SQL_DISABLE[] =
    "WITH u AS (UPDATE mailroom.users SET active = false WHERE login = $1 RETURNING id), "
    "s AS (DELETE FROM mailroom.web_sessions WHERE user_id IN (SELECT id FROM u)) "
    "SELECT u.id, mailroom.audit_append(" ACTOR ", 'user.disable', 'user:' || u.id, "
    "  jsonb_build_object('active', true), jsonb_build_object('active', false)) FROM u";
static const char SQL_TOTP[] =
    "WITH u AS (SELECT id FROM mailroom.users WHERE login = $1), "
    "c AS (INSERT INTO mailroom.user_credentials (user_id, totp_secret) SELECT id, $2::bytea FROM u "
    "  ON CONFLICT (user_id) DO UPDATE SET totp_secret = EXCLUDED.totp_secret, totp_last_step = NULL "
    "  RETURNING user_id) "
    "SELECT c.user_id, mailroom.audit_append(" ACTOR
    ", 'user.totp', 'user:' || c.user_id, NULL, NULL) FROM c";

/* read_password - the first line of path ("-": stdin) into buf; 0 or -1 reported */
static int read_password(const char *path, char *buf, size_t len, FILE *errout)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		fprintf(errout, "mailroomctl: %s: cannot open\n", path);
		return -1;
	}
	char *got = fgets(buf, (int)len, f);
	if (f != stdin)
		fclose(f);
	if (got == NULL) {
		fprintf(errout, "mailroomctl: %s: no password in it\n", path);
		return -1;
	}
	size_t n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1) {
		fprintf(errout, "mailroomctl: %s: password longer than %d bytes\n", path, PASSWORD_MAX);
		return -1;
	}
	buf[n] = '\0';
	if (n < PASSWORD_MIN) {
		fprintf(errout, "mailroomctl: a password needs at least %d characters\n", PASSWORD_MIN);
		return -1;
	}
	return 0;
}

/* exec_one - run sql in the open transaction; 1 row affected, 0 none, -1 reported */
static int exec_one(PGconn *conn, const char *sql, int n, const char *const *p, FILE *errout,
                    const char *what)
{
	char err[1024];
	PGresult *res = db_query(conn, sql, n, p, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: %s: %s\n", what, err);
		return -1;
	}
	int rows = PQntuples(res);
	PQclear(res);
	return rows > 0 ? 1 : 0;
}

/* set_password - hash the password in path (NULL: a new random one,
 * printed once on out) and store it for login; every session ends */
static int set_password(PGconn *conn, const char *login, const char *path, FILE *out, FILE *errout)
{
	char pw[PASSWORD_MAX + 2], hash[PASSWORD_HASH_MAX];
	int r = 0;
	if (path != NULL)
		r = read_password(path, pw, sizeof(pw), errout);
	else if (password_random(pw, PASSWORD_RANDOM_LEN) < 0) {
		fprintf(errout, "mailroomctl: no random numbers\n");
		r = -1;
	}
	if (r == 0 && password_hash(pw, hash) < 0) {
		fprintf(errout, "mailroomctl: password hashing: out of memory\n");
		r = -1;
	}
	const char *p[2] = {login, hash};
	if (r == 0) {
		r = exec_one(conn, SQL_SET_PASSWORD, 2, p, errout, "password");
		if (r == 0)
			fprintf(errout, "mailroomctl: no user %s\n", login);
		r = r > 0 ? 0 : -1;
	}
	if (r == 0 && path == NULL)
		fprintf(out, "password for %s: %s\n", login, pw);
	sodium_memzero(pw, sizeof(pw));
	return r;
}

/* new_totp - a new random key for login, printed as an otpauth:// URI */
static int new_totp(PGconn *conn, const char *login, FILE *out, FILE *errout)
{
	unsigned char key[TOTP_KEY_BYTES];
	char hex[2 + 2 * TOTP_KEY_BYTES + 1] = "\\x", *b32 = NULL;
	size_t b32len = 0;
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex + 2, sizeof(hex) - 2, key, sizeof(key));
	if (oath_init() != OATH_OK ||
	    oath_base32_encode((const char *)key, sizeof(key), &b32, &b32len) != OATH_OK) {
		fprintf(errout, "mailroomctl: totp: base32 encoding failed\n");
		return -1;
	}
	oath_done();
	const char *p[2] = {login, hex};
	int r = exec_one(conn, SQL_TOTP, 2, p, errout, "totp");
	if (r == 0)
		fprintf(errout, "mailroomctl: no user %s\n", login);
	if (r > 0) {
		/* base32 padding is not part of the URI form authenticator apps read */
		b32[strcspn(b32, "=")] = '\0';
		fprintf(out,
		        "otpauth://totp/"
		        "mailroom:%s?secret=%s&issuer=mailroom&algorithm=SHA1&digits=6&period=30\n",
		        login, b32);
	}
	sodium_memzero(key, sizeof(key));
	free(b32);
	return r > 0 ? 0 : -1;
}

/* take_password_option - remove "--password-file F" from argv; F or NULL */
static const char *take_password_option(int *argc, char **argv)
{
	for (int i = 0; i + 1 < *argc; i++) {
		if (strcmp(argv[i], "--password-file") != 0)
			continue;
		const char *f = argv[i + 1];
		memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) * sizeof(*argv));
		*argc -= 2;
		return f;
	}
	return NULL;
}

/* finish - COMMIT when r is 0, else ROLLBACK; r, or -1 when that failed */
static int finish(PGconn *conn, int r, FILE *errout)
{
	char err[1024];
	if (db_command(conn, r == 0 ? "COMMIT" : "ROLLBACK", 0, NULL, err, sizeof(err)) < 0) {
		fprintf(errout, "mailroomctl: %s\n", err);
		return -1;
	}
	return r;
}

int useradmin_user(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout)
{
	char err[1024];
	if (argc < 3)
		return USAGE;
	const char *sub = argv[1], *login = argv[2];
	const char *pwfile = take_password_option(&argc, argv);
	int r;
	if (strcmp(sub, "add") != 0 && strcmp(sub, "disable") != 0 && strcmp(sub, "reset") != 0 &&
	    strcmp(sub, "totp") != 0)
		return USAGE;
	if ((pwfile != NULL && strcmp(sub, "add") != 0 && strcmp(sub, "reset") != 0) ||
	    (strcmp(sub, "add") != 0 && argc != 3))
		return USAGE;
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
		fprintf(errout, "mailroomctl: %s\n", err);
		return -1;
	}
	if (strcmp(sub, "add") == 0) {
		r = remindersadmin_user(conn, argc, argv, out, errout);
		if (r == 0 && pwfile != NULL)
			r = set_password(conn, login, pwfile, out, errout);
	} else if (strcmp(sub, "reset") == 0)
		r = set_password(conn, login, pwfile, out, errout);
	else if (strcmp(sub, "totp") == 0)
		r = new_totp(conn, login, out, errout);
	else {
		const char *p[1] = {login};
		r = exec_one(conn, SQL_DISABLE, 1, p, errout, "disable");
		if (r == 0)
			fprintf(errout, "mailroomctl: no user %s\n", login);
		r = r > 0 ? 0 : -1;
	}
	if (r == USAGE) {
		finish(conn, -1, errout);
		return USAGE;
	}
	return finish(conn, r, errout);
}
