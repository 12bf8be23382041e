/* session.c - create, find, renew and end web sessions; tokens are
 * compared by their SHA-256 in the database, never stored. */
#include "session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

static const char SQL_CREATE[] =
    "INSERT INTO mailroom.web_sessions (token_hash, user_id, csrf_key, user_agent, addr) "
    "VALUES ($1::bytea, $2::bigint, $3::bytea, left($4, 512), left($5, 64))";
static const char SQL_LOOKUP[] = "UPDATE mailroom.web_sessions s SET last_seen = now() FROM mailroom.users u "
                                 " WHERE s.token_hash = $1::bytea AND u.id = s.user_id AND u.active "
                                 "   AND s.last_seen > now() - make_interval(mins => $2::int) "
                                 "   AND s.created_at > now() - make_interval(hours => $3::int) "
                                 "RETURNING u.id, u.login, u.display_name, u.role, encode(s.csrf_key, 'hex')";
static const char SQL_END[] =
    "DELETE FROM mailroom.web_sessions WHERE token_hash = $1::bytea RETURNING user_id";
static const char SQL_PRUNE[] =
    "DELETE FROM mailroom.web_sessions WHERE last_seen <= now() - make_interval(mins => $1::int) "
    "   OR created_at <= now() - make_interval(hours => $2::int)";

/* token_hash_param - "\x<sha256 of the token's bytes>" for a bytea
 * parameter; -1 when token is not 64 hex digits */
static int token_hash_param(const char *token, char out[2 + 64 + 1])
{
	unsigned char raw[32], hash[crypto_hash_sha256_BYTES];
	size_t n = 0;
	if (token == NULL || strlen(token) != SESSION_TOKEN_HEX ||
	    sodium_hex2bin(raw, sizeof(raw), token, SESSION_TOKEN_HEX, NULL, &n, NULL) != 0 || n != 32)
		return -1;
	crypto_hash_sha256(hash, raw, sizeof(raw));
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, 65, hash, sizeof(hash));
	return 0;
}

int session_create(PGconn *conn, const char *user_id, const char *user_agent, const char *addr,
                   char token[SESSION_TOKEN_HEX + 1], char *err, size_t errlen)
{
	char hash[67], key[2 + 64 + 1] = "\\x";
	random_hex(token, 32);
	random_hex(key + 2, CSRF_KEY_BYTES);
	if (token_hash_param(token, hash) < 0) {
		snprintf(err, errlen, "session token");
		return -1;
	}
	const char *p[5] = {hash, user_id, key, user_agent != NULL ? user_agent : "",
	                    addr != NULL ? addr : ""};
	return db_command(conn, SQL_CREATE, 5, p, err, errlen);
}

int session_lookup(PGconn *conn, const struct mailroom_conf *conf, const char *token, struct session *s,
                   char *err, size_t errlen)
{
	char hash[67], idle[24], max[24];
	memset(s, 0, sizeof(*s));
	if (token_hash_param(token, hash) < 0)
		return 0;
	snprintf(idle, sizeof(idle), "%lld", conf->web_session_idle_minutes);
	snprintf(max, sizeof(max), "%lld", conf->web_session_max_hours);
	const char *p[3] = {hash, idle, max};
	PGresult *res = db_query(conn, SQL_LOOKUP, 3, p, err, errlen);
	if (res == NULL)
		return -1;
	int found = PQntuples(res) == 1;
	if (found) {
		size_t n = 0;
		snprintf(s->user_id, sizeof(s->user_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(s->login, sizeof(s->login), "%s", PQgetvalue(res, 0, 1));
		snprintf(s->name, sizeof(s->name), "%s", PQgetvalue(res, 0, 2));
		snprintf(s->role, sizeof(s->role), "%s", PQgetvalue(res, 0, 3));
		if (sodium_hex2bin(s->csrf_key, sizeof(s->csrf_key), PQgetvalue(res, 0, 4), 64, NULL, &n,
		                   NULL) != 0 ||
		    n != CSRF_KEY_BYTES)
			found = 0;
	}
	PQclear(res);
	return found;
}

int session_end(PGconn *conn, const char *token, char *err, size_t errlen)
{
	char hash[67];
	if (token_hash_param(token, hash) < 0)
		return 0;
	const char *p[1] = {hash};
	PGresult *res = db_query(conn, SQL_END, 1, p, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

int session_prune(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	char idle[24], max[24];
	snprintf(idle, sizeof(idle), "%lld", conf->web_session_idle_minutes);
	snprintf(max, sizeof(max), "%lld", conf->web_session_max_hours);
	const char *p[2] = {idle, max};
	return db_command(conn, SQL_PRUNE, 2, p, err, errlen);
}
