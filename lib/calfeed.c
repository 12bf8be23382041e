/* calfeed.c - the iCalendar feed of one user's reminders and deadlines (RFC 5545). */
#include "calfeed.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "ical.h"
#include "utf8.h"

static const char SQL_USER_BY_TOKEN[] =
    "SELECT id, calendar_token_hash FROM mailroom.users WHERE calendar_token_hash = $1::bytea AND active";
static const char SQL_REMINDERS[] =
    "SELECT r.id, extract(epoch FROM r.due_at)::bigint, extract(epoch FROM r.updated_at)::bigint, r.message, "
    "       COALESCE('Conversation ' || c.id || ': ' || c.title, 'Organisation ' || o.id || ': ' || o.name) "
    "  FROM mailroom.reminders r "
    "  LEFT JOIN mailroom.conversations c ON c.id = r.conversation_id "
    "  LEFT JOIN mailroom.organisations o ON o.id = r.organisation_id "
    " WHERE r.state IN ('pending', 'snoozed') AND (r.assignee = $1 OR r.created_by = $1) "
    " ORDER BY r.due_at, r.id LIMIT 5000";
/* Deadlines of the conversations assigned to the user (schema/011). */
static const char SQL_DEADLINES[] =
    "SELECT d.id, extract(epoch FROM d.due_at)::bigint, extract(epoch FROM now())::bigint, "
    "       'Deadline: ' || c.title, 'Conversation ' || c.id || ': ' || c.title "
    "  FROM mailroom.deadlines d JOIN mailroom.conversations c ON c.id = d.conversation_id "
    " WHERE d.state IN ('open', 'warned', 'breached') AND c.assignee_id = $1 "
    " ORDER BY d.due_at LIMIT 5000";
/* The feed shows what its user may see: the web role's row-level
 * security (schema/011) acts for them, so their private conversations'
 * reminders are in it and nobody else's. */
static const char SQL_ACT_AS[] = "SELECT set_config('mailroom.user_id', $1, false)";

/* hash_param - "\x" + hex of SHA-256(raw) as a bytea parameter */
static void hash_param(const unsigned char *raw, size_t len, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, raw, len);
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, 2 * sizeof(h) + 1, h, sizeof(h));
}

void calfeed_new_token(char *hex_r, char *hash_param_r)
{
	unsigned char raw[CALFEED_TOKEN_BYTES];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex_r, CALFEED_TOKEN_HEX + 1, raw, sizeof(raw));
	hash_param(raw, sizeof(raw), hash_param_r);
	sodium_memzero(raw, sizeof(raw));
}

/* find_user - the user id for token into id_r (32 bytes); 1, 0 none, -1 error */
static int find_user(PGconn *conn, const char *token, char *id_r, char *err, size_t errlen)
{
	unsigned char raw[CALFEED_TOKEN_BYTES], want[crypto_hash_sha256_BYTES];
	char param[2 * crypto_hash_sha256_BYTES + 3];
	size_t n = 0;

	if (strlen(token) != CALFEED_TOKEN_HEX ||
	    sodium_hex2bin(raw, sizeof(raw), token, CALFEED_TOKEN_HEX, NULL, &n, NULL) != 0 ||
	    n != sizeof(raw))
		return 0;
	crypto_hash_sha256(want, raw, sizeof(raw));
	hash_param(raw, sizeof(raw), param);
	const char *p[1] = {param};
	PGresult *res = db_query(conn, SQL_USER_BY_TOKEN, 1, p, err, errlen);
	if (res == NULL)
		return -1;
	int found = 0;
	if (PQntuples(res) == 1) {
		size_t blen = 0;
		unsigned char *stored = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &blen);
		/* the index found the row; the comparison that decides is constant-time */
		if (stored != NULL && blen == sizeof(want) &&
		    sodium_memcmp(stored, want, sizeof(want)) == 0) {
			snprintf(id_r, 32, "%s", PQgetvalue(res, 0, 0));
			found = 1;
		}
		PQfreemem(stored);
	}
	PQclear(res);
	return found;
}

/* write_events - one VEVENT per row (id, due, stamp, summary, description) */
static int write_events(FILE *out, PGresult *res, const char *uid_prefix, const char *summary_prefix)
{
	int rc = 0;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		char uid[96], summary_buf[2200];
		time_t due = (time_t)strtoll(PQgetvalue(res, i, 1), NULL, 10);
		time_t stamp = (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10);
		char *summary, *desc;
		snprintf(uid, sizeof(uid), "%s-%s@mailroom", uid_prefix, PQgetvalue(res, i, 0));
		snprintf(summary_buf, sizeof(summary_buf), "%s%s", summary_prefix, PQgetvalue(res, i, 3));
		summary = utf8_sanitize_text(summary_buf, strlen(summary_buf), 2000);
		desc = utf8_sanitize_text(PQgetvalue(res, i, 4), (size_t)PQgetlength(res, i, 4), 2000);
		if (summary == NULL || desc == NULL)
			rc = -1;
		else if (ical_raw(out, "BEGIN", "VEVENT") < 0 || ical_raw(out, "UID", uid) < 0 ||
		         ical_utc(out, "DTSTAMP", stamp) < 0 || ical_utc(out, "DTSTART", due) < 0 ||
		         ical_utc(out, "DTEND", due + 15 * 60) < 0 ||
		         ical_text(out, "SUMMARY", summary) < 0 || ical_text(out, "DESCRIPTION", desc) < 0 ||
		         ical_raw(out, "END", "VEVENT") < 0)
			rc = -1;
		free(summary);
		free(desc);
	}
	return rc;
}

int calfeed_write(PGconn *conn, const char *token, FILE *out, char *err, size_t errlen)
{
	char uid[32];
	int found = find_user(conn, token, uid, err, errlen);
	if (found <= 0)
		return found;

	const char *p[1] = {uid};
	PGresult *act = db_query(conn, SQL_ACT_AS, 1, p, err, errlen);
	if (act == NULL)
		return -1;
	PQclear(act);
	PGresult *rem = db_query(conn, SQL_REMINDERS, 1, p, err, errlen);
	if (rem == NULL)
		return -1;
	PGresult *dl = db_query(conn, SQL_DEADLINES, 1, p, err, errlen);
	if (dl == NULL) {
		PQclear(rem);
		return -1;
	}

	int rc = 0;
	if (ical_raw(out, "BEGIN", "VCALENDAR") < 0 || ical_raw(out, "VERSION", "2.0") < 0 ||
	    ical_raw(out, "PRODID", "-//mailroom//reminders and deadlines//EN") < 0 ||
	    ical_raw(out, "CALSCALE", "GREGORIAN") < 0 || ical_text(out, "X-WR-CALNAME", "mailroom") < 0 ||
	    write_events(out, rem, "reminder", "Reminder: ") < 0 ||
	    (dl != NULL && write_events(out, dl, "deadline", "") < 0) ||
	    ical_raw(out, "END", "VCALENDAR") < 0)
		rc = -1;
	PQclear(rem);
	PQclear(dl);
	if (rc < 0) {
		snprintf(err, errlen, "write error");
		return -1;
	}
	return 1;
}
