/* signin.c - the decision whether a sign-in succeeds (Argon2id by
 * libsodium, TOTP by liboath, throttling in mailroom.login_failures). */
#include "signin.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "password.h"
#include "totp.h"

static const char SQL_THROTTLE[] =
    "SELECT (SELECT count(*) FROM mailroom.login_failures WHERE login = left($1, 64) "
    "         AND at > now() - make_interval(mins => $3::int)) >= $4::int "
    "    OR (SELECT count(*) FROM mailroom.login_failures WHERE addr = left($2, 64) "
    "         AND at > now() - make_interval(mins => $3::int)) >= $5::int";
static const char SQL_FAILURE[] = "SELECT mailroom.login_failure($1, $2, make_interval(mins => $3::int))";
static const char SQL_USER[] =
    "SELECT u.id, c.password_hash, encode(c.totp_secret, 'hex') FROM mailroom.users u "
    "  JOIN mailroom.user_credentials c ON c.user_id = u.id "
    " WHERE u.login = $1 AND u.active AND c.password_hash IS NOT NULL";
static const char SQL_TOTP_STEP[] =
    "UPDATE mailroom.user_credentials SET totp_last_step = $2::bigint "
    " WHERE user_id = $1::bigint AND (totp_last_step IS NULL OR totp_last_step < $2::bigint) RETURNING 1";
static const char SQL_REHASH[] = "UPDATE mailroom.user_credentials SET password_hash = $2, password_set_at = "
                                 "now() WHERE user_id = $1::bigint";
static const char SQL_AUDIT[] =
    "SELECT mailroom.audit_append('web:' || left($1, 64), $2, COALESCE('user:' || $3, 'login:' || left($1, "
    "64)), NULL, jsonb_build_object('addr', $4::text))";

int signin_audit(PGconn *conn, const char *login, const char *action, const char *user_id, const char *addr,
                 char *err, size_t errlen)
{
	const char *p[4] = {login, action, user_id, addr};
	return db_command(conn, SQL_AUDIT, 4, p, err, errlen);
}

enum signin_result signin_failed(PGconn *conn, const struct mailroom_conf *conf, const char *login,
                                 const char *addr, const char *user_id, char *err, size_t errlen)
{
	char window[24];
	snprintf(window, sizeof(window), "%lld", conf->web_login_window_minutes);
	const char *p[3] = {login, addr, window};
	if (db_command(conn, SQL_FAILURE, 3, p, err, errlen) < 0 ||
	    signin_audit(conn, login, "web.signin.fail", user_id, addr, err, errlen) < 0)
		return SIGNIN_ERROR;
	return SIGNIN_FAILED;
}

int signin_throttled(PGconn *conn, const struct mailroom_conf *conf, const char *login, const char *addr,
                     char *err, size_t errlen)
{
	char window[24], per_login[24], per_addr[24];
	snprintf(window, sizeof(window), "%lld", conf->web_login_window_minutes);
	snprintf(per_login, sizeof(per_login), "%lld", conf->web_login_max_failures);
	snprintf(per_addr, sizeof(per_addr), "%lld", conf->web_addr_max_failures);
	const char *p[5] = {login, addr, window, per_login, per_addr};
	PGresult *res = db_query(conn, SQL_THROTTLE, 5, p, err, errlen);
	if (res == NULL)
		return -1;
	int r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return r;
}

/* dummy_verify - the Argon2id work of a real check, for an unknown login */
static int dummy_verify(const char *password)
{
	static char dummy[PASSWORD_HASH_MAX];
	if (dummy[0] == '\0' && password_hash("mailroom", dummy) < 0)
		return -1;
	return password_verify(dummy, password);
}

/* second_factor - 1 when code is a valid, not yet used TOTP code */
static int second_factor(PGconn *conn, const char *user_id, const char *secret_hex, const char *code,
                         char *err, size_t errlen)
{
	unsigned char secret[64];
	size_t n = 0;
	int64_t step = 0;
	if (sodium_hex2bin(secret, sizeof(secret), secret_hex, strlen(secret_hex), NULL, &n, NULL) != 0)
		return -1;
	int r = totp_verify(secret, n, code, time(NULL), &step);
	sodium_memzero(secret, sizeof(secret));
	if (r <= 0)
		return r;
	char stepbuf[24];
	snprintf(stepbuf, sizeof(stepbuf), "%lld", (long long)step);
	const char *p[2] = {user_id, stepbuf};
	PGresult *res = db_query(conn, SQL_TOTP_STEP, 2, p, err, errlen);
	if (res == NULL)
		return -1;
	r = PQntuples(res) == 1;
	PQclear(res);
	return r;
}

/* rehash - store a new hash when the stored one is weaker than today's limits */
static int rehash(PGconn *conn, const char *user_id, const char *stored, const char *password, char *err,
                  size_t errlen)
{
	char fresh[PASSWORD_HASH_MAX];
	if (!password_weak_hash(stored))
		return 0;
	if (password_hash(password, fresh) < 0) {
		snprintf(err, errlen, "password rehash: out of memory");
		return -1;
	}
	const char *p[2] = {user_id, fresh};
	return db_command(conn, SQL_REHASH, 2, p, err, errlen);
}

enum signin_result signin_check(PGconn *conn, const struct mailroom_conf *conf, const char *login,
                                const char *password, const char *code, const char *addr, char user_id[24],
                                char *err, size_t errlen)
{
	user_id[0] = '\0';
	if (strlen(login) > 64 || strlen(password) > PASSWORD_INPUT_MAX)
		return signin_failed(conn, conf, login, addr, NULL, err, errlen);
	int t = signin_throttled(conn, conf, login, addr, err, errlen);
	if (t != 0) {
		if (t > 0 && signin_audit(conn, login, "web.signin.throttled", NULL, addr, err, errlen) < 0)
			return SIGNIN_ERROR;
		return t > 0 ? SIGNIN_THROTTLED : SIGNIN_ERROR;
	}
	const char *p[1] = {login};
	PGresult *res = db_query(conn, SQL_USER, 1, p, err, errlen);
	if (res == NULL)
		return SIGNIN_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		int unused = dummy_verify(password); /* the result does not matter: no such user */
		(void)unused;
		return signin_failed(conn, conf, login, addr, NULL, err, errlen);
	}
	char id[24], stored[PASSWORD_HASH_MAX], secret[129];
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	snprintf(stored, sizeof(stored), "%s", PQgetvalue(res, 0, 1));
	snprintf(secret, sizeof(secret), "%s", PQgetvalue(res, 0, 2));
	int has_totp = !PQgetisnull(res, 0, 2);
	PQclear(res);
	if (!password_verify(stored, password))
		return signin_failed(conn, conf, login, addr, id, err, errlen);
	if (has_totp) {
		int r = second_factor(conn, id, secret, code != NULL ? code : "", err, errlen);
		sodium_memzero(secret, sizeof(secret));
		if (r < 0)
			return SIGNIN_ERROR;
		if (r == 0)
			return signin_failed(conn, conf, login, addr, id, err, errlen);
	}
	if (rehash(conn, id, stored, password, err, errlen) < 0)
		return SIGNIN_ERROR;
	snprintf(user_id, 24, "%s", id);
	return SIGNIN_OK;
}
