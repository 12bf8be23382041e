/* remindersadmin.c - users, reminders and calendar tokens from the command line. */
#include "remindersadmin.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "calfeed.h"
#include "ctlfile.h"
#include "db.h"
#include "reminder.h"

#define USAGE (-2)
#define ACTOR "'mailroomctl:' || session_user"

static const char SQL_USER_ADD[] =
    "WITH u AS (INSERT INTO mailroom.users (login, display_name, email, role) VALUES ($1, $2, NULLIF($3, "
    "''), $4) "
    "  RETURNING id, login, display_name, email, role) "
    "SELECT u.id, mailroom.audit_append(" ACTOR ", 'user.add', 'user:' || u.id, NULL, "
    "  jsonb_build_object('login', u.login, 'name', u.display_name, 'email', u.email, 'role', u.role)) FROM "
    "u";
static const char SQL_DUE_ABSOLUTE[] = "SELECT $1::timestamptz";
static const char SQL_DUE_RELATIVE[] = "SELECT now() + $1::interval";
#define USER_BY_LOGIN(param) "(SELECT id FROM mailroom.users WHERE login = " param ")"
#define INSERT_BY_LOGIN      REMINDER_INSERT(USER_BY_LOGIN("$5"), USER_BY_LOGIN("$6"))
static const char SQL_REMINDER_ADD[] =
    "WITH r AS (" INSERT_BY_LOGIN ") SELECT r.id, "
    "mailroom.audit_append(" ACTOR ", 'reminder.add', 'reminder:' || r.id, NULL, to_jsonb(r)) FROM r";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM mailroom.users WHERE login = $1";
static const char SQL_USER_MAILABLE[] =
    "SELECT 1 FROM mailroom.users WHERE login = $1 AND email IS NOT NULL AND active";
static const char SQL_REMINDER_LIST[] =
    "SELECT r.id, r.state, to_char(r.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || 'Z', "
    "       COALESCE('conversation:' || r.conversation_id, 'organisation:' || r.organisation_id), "
    "       COALESCE(a.login, '-'), r.message "
    "  FROM mailroom.reminders r LEFT JOIN mailroom.users a ON a.id = r.assignee "
    " WHERE r.state IN ('pending', 'snoozed', 'fired') AND (NOT $1::boolean OR r.due_at <= now()) "
    " ORDER BY r.due_at, r.id";
/* done: from any open state; snooze: a new due time, pending again in effect */
static const char SQL_REMINDER_SET[] =
    "WITH old AS (SELECT * FROM mailroom.reminders WHERE id = $1::bigint "
    "  AND state IN ('pending', 'snoozed', 'fired') FOR UPDATE), "
    "new AS (UPDATE mailroom.reminders r SET state = $2, "
    "  due_at = COALESCE($3::timestamptz, r.due_at), fired_at = CASE WHEN $2 = 'snoozed' THEN NULL ELSE "
    "r.fired_at END "
    "  FROM old WHERE r.id = old.id RETURNING r.*) "
    "SELECT new.id, mailroom.audit_append(" ACTOR ", 'reminder.' || CASE WHEN $2 = 'done' THEN 'done' "
    "  ELSE 'snooze' END, 'reminder:' || new.id, to_jsonb(old), to_jsonb(new)) FROM new JOIN old USING (id)";
static const char SQL_TOKEN_SET[] =
    "WITH u AS (UPDATE mailroom.users SET calendar_token_hash = $2::bytea, "
    "  calendar_token_created_at = CASE WHEN $2 IS NULL THEN NULL ELSE now() END WHERE login = $1 "
    "  RETURNING id) "
    "SELECT u.id, mailroom.audit_append(" ACTOR ", CASE WHEN $2 IS NULL THEN 'calendar.revoke' "
    "  ELSE 'calendar.token' END, 'user:' || u.id, NULL, NULL) FROM u";

/* run_one - a statement that must return one row; its first value into
 * first_r (may be NULL); 1, 0 no row, -1 reported */
static int run_one(PGconn *conn, const char *sql, int n, const char *const *p, char *first_r, size_t len,
                   FILE *errout, const char *what)
{
	char err[1024];
	PGresult *res = db_query(conn, sql, n, p, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: %s: %s\n", what, err);
		return -1;
	}
	int rows = PQntuples(res);
	if (rows > 0 && first_r != NULL)
		snprintf(first_r, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rows > 0 ? 1 : 0;
}

/* resolve_time - "+1 hour" / "-5 minutes" (from now) or a timestamp into a
 * timestamptz text; 0 or -1 reported */
static int resolve_time(PGconn *conn, const char *when, char *out, size_t len, FILE *errout)
{
	const char *p[1] = {when};
	int relative = when[0] == '+' || when[0] == '-';
	int r = run_one(conn, relative ? SQL_DUE_RELATIVE : SQL_DUE_ABSOLUTE, 1, p, out, len, errout, "time");
	return r == 1 ? 0 : -1;
}

/* user_known - 0 when login exists (or is NULL), else -1 reported */
static int user_known(PGconn *conn, const char *login, FILE *errout)
{
	if (login == NULL)
		return 0;
	const char *p[1] = {login};
	int r = run_one(conn, SQL_USER_EXISTS, 1, p, NULL, 0, errout, "user");
	if (r == 0)
		fprintf(errout, "mailroomctl: no user '%s' (mailroomctl user add)\n", login);
	return r == 1 ? 0 : -1;
}

/* option_value - argv[*i] is name: take the next word as its value */
static const char *option_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int remindersadmin_user(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout)
{
	const char *name = NULL, *email = "", *role = "agent";
	char id[32];

	if (argc < 3 || strcmp(argv[1], "add") != 0)
		return USAGE;
	for (int i = 3; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--name") == 0    ? &name
		                   : strcmp(argv[i], "--email") == 0 ? &email
		                   : strcmp(argv[i], "--role") == 0  ? &role
		                                                     : NULL;
		if (dst == NULL || (*dst = option_value(argc, argv, &i)) == NULL)
			return USAGE;
	}
	const char *p[4] = {argv[2], name != NULL ? name : argv[2], email, role};
	if (run_one(conn, SQL_USER_ADD, 4, p, id, sizeof(id), errout, "user add") < 0)
		return -1;
	fprintf(out, "%s\n", id);
	return 0;
}

/* reminder_add - `reminder add ...` */
static int reminder_add(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout)
{
	const char *conv = NULL, *org = NULL, *due = NULL, *msg = NULL, *by = NULL, *assignee = NULL;
	int mail = 0;
	char due_at[64], id[32];

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--mail") == 0) {
			mail = 1;
			continue;
		}
		const char **dst = strcmp(argv[i], "--conversation") == 0   ? &conv
		                   : strcmp(argv[i], "--organisation") == 0 ? &org
		                   : strcmp(argv[i], "--due") == 0          ? &due
		                   : strcmp(argv[i], "--message") == 0      ? &msg
		                   : strcmp(argv[i], "--by") == 0           ? &by
		                   : strcmp(argv[i], "--assignee") == 0     ? &assignee
		                                                            : NULL;
		if (dst == NULL || (*dst = option_value(argc, argv, &i)) == NULL)
			return USAGE;
	}
	if ((conv == NULL) == (org == NULL) || due == NULL || msg == NULL || (mail && assignee == NULL)) {
		fprintf(errout,
		        "mailroomctl: reminder add: say one of --conversation and --organisation, --due and "
		        "--message; --mail needs --assignee\n");
		return USAGE;
	}
	if (user_known(conn, by, errout) < 0 || user_known(conn, assignee, errout) < 0 ||
	    resolve_time(conn, due, due_at, sizeof(due_at), errout) < 0)
		return -1;
	if (mail) {
		const char *up[1] = {assignee};
		int r = run_one(conn, SQL_USER_MAILABLE, 1, up, NULL, 0, errout, "user");
		if (r == 0)
			fprintf(
			    errout,
			    "mailroomctl: reminder add: --mail, but %s has no mail address or is inactive\n",
			    assignee);
		if (r != 1)
			return -1;
	}
	const char *p[7] = {conv, org, due_at, msg, by, assignee, mail ? "true" : "false"};
	if (run_one(conn, SQL_REMINDER_ADD, 7, p, id, sizeof(id), errout, "reminder add") < 0)
		return -1;
	fprintf(out, "%s\n", id);
	return 0;
}

/* reminder_list - `reminder list [--due]`: one line per open reminder */
static int reminder_list(PGconn *conn, int due_only, FILE *out, FILE *errout)
{
	char err[1024];
	const char *p[1] = {due_only ? "true" : "false"};
	PGresult *res = db_query(conn, SQL_REMINDER_LIST, 1, p, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: reminder list: %s\n", err);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		char *shown = ctlfile_shown(PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5), 200);
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		        PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		        shown ? shown : "");
		free(shown);
	}
	PQclear(res);
	return 0;
}

/* reminder_set - done or snoozed until a new time */
static int reminder_set(PGconn *conn, const char *id, const char *state, const char *until, FILE *errout)
{
	char due_at[64];
	if (until != NULL && resolve_time(conn, until, due_at, sizeof(due_at), errout) < 0)
		return -1;
	const char *p[3] = {id, state, until != NULL ? due_at : NULL};
	int r = run_one(conn, SQL_REMINDER_SET, 3, p, NULL, 0, errout, "reminder");
	if (r == 0)
		fprintf(errout, "mailroomctl: reminder %s: no such open reminder\n", id);
	return r == 1 ? 0 : -1;
}

int remindersadmin_reminder(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "add") == 0)
		return reminder_add(conn, argc, argv, out, errout);
	if (strcmp(sub, "list") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "--due") == 0)))
		return reminder_list(conn, argc == 3, out, errout);
	if (strcmp(sub, "done") == 0 && argc == 3)
		return reminder_set(conn, argv[2], "done", NULL, errout);
	if (strcmp(sub, "snooze") == 0 && argc == 4)
		return reminder_set(conn, argv[2], "snoozed", argv[3], errout);
	return USAGE;
}

int remindersadmin_calendar(PGconn *conn, int argc, char **argv, FILE *out, FILE *errout)
{
	const char *sub = argc > 1 ? argv[1] : "";
	char err[1024];

	if (argc != 3)
		return USAGE;
	if (sodium_init() < 0) {
		fprintf(errout, "mailroomctl: sodium_init failed\n");
		return -1;
	}
	if (strcmp(sub, "feed") == 0) {
		int r = calfeed_write(conn, argv[2], out, err, sizeof(err));
		if (r < 0)
			fprintf(errout, "mailroomctl: calendar feed: %s\n", err);
		else if (r == 0)
			fprintf(errout, "mailroomctl: calendar feed: no such token\n");
		return r == 1 ? 0 : -1;
	}
	if (strcmp(sub, "token") != 0 && strcmp(sub, "revoke") != 0)
		return USAGE;
	char token[CALFEED_TOKEN_HEX + 1], hash[2 * 32 + 3];
	int issue = sub[0] == 't';
	if (issue)
		calfeed_new_token(token, hash);
	const char *p[2] = {argv[2], issue ? hash : NULL};
	int r = run_one(conn, SQL_TOKEN_SET, 2, p, NULL, 0, errout, "calendar");
	if (r == 0)
		fprintf(errout, "mailroomctl: no user '%s'\n", argv[2]);
	if (r == 1 && issue)
		fprintf(out, "%s\n", token);
	sodium_memzero(token, sizeof(token));
	return r == 1 ? 0 : -1;
}
