/* deadlineadmin.c - list and snooze deadlines; every statement of the command is here. */
#include "deadlineadmin.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"

#define MAX_ARG 100

/* The session's zone: how times without an offset are read and shown. */
#define SQL_ZONE "SELECT set_config('TimeZone', $1, false)"
#define SQL_LIST                                                                                             \
	"SELECT id, kind, policy, state, to_char(started_at, 'YYYY-MM-DD HH24:MI'),"                         \
	" to_char(due_at, 'YYYY-MM-DD HH24:MI'), COALESCE(to_char(snoozed_until, 'YYYY-MM-DD HH24:MI'), "    \
	"'-')"                                                                                               \
	" FROM mailroom.deadlines WHERE conversation_id = $1::bigint ORDER BY id DESC"
#define SQL_SNOOZE                                                                                           \
	"WITH upd AS (UPDATE mailroom.deadlines d SET snoozed_until = $2::timestamptz, updated_at = now()"   \
	"   WHERE d.conversation_id = $1::bigint AND d.state IN ('open', 'warned', 'breached')"              \
	"   RETURNING d.*),"                                                                                 \
	" ev AS (INSERT INTO mailroom.deadline_events (deadline_id, conversation_id, event, actor, detail)"  \
	"   SELECT id, conversation_id, 'snooze', 'mailroomctl:' || session_user,"                           \
	"   jsonb_build_object('snoozed_until', snoozed_until) FROM upd)"                                    \
	" SELECT id, kind, to_char(snoozed_until, 'YYYY-MM-DD HH24:MI TZ'),"                                 \
	" mailroom.audit_append('mailroomctl:' || session_user, 'deadline.snooze',"                          \
	"   'conversation:' || conversation_id, NULL, jsonb_build_object('deadline', id, 'kind', kind,"      \
	"   'snoozed_until', snoozed_until)) FROM upd"

/* numeric_id - is s a positive decimal id of sane length? */
static int numeric_id(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 19 && strspn(s, "0123456789") == n;
}

/* set_zone - read and show times in tz; 0 or -1 (reported) */
static int set_zone(PGconn *conn, const char *tz, FILE *errout)
{
	char err[512];
	const char *params[1] = {tz};
	PGresult *res = db_query(conn, SQL_ZONE, 1, params, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: deadline: %s\n", err);
		return -1;
	}
	PQclear(res);
	return 0;
}

int deadlineadmin_list(PGconn *conn, const char *conversation, const char *tz, FILE *out, FILE *errout)
{
	char err[512];
	if (!numeric_id(conversation)) {
		fprintf(errout, "mailroomctl: deadline list: \"%.*s\" is not a conversation id\n", MAX_ARG,
		        conversation);
		return -1;
	}
	if (set_zone(conn, tz, errout) < 0)
		return -1;
	const char *params[1] = {conversation};
	PGresult *res = db_query(conn, SQL_LIST, 1, params, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: deadline list: %s\n", err);
		return -1;
	}
	fprintf(out, "%-6s %-8s %-10s %-9s %-16s %-16s %s\n", "id", "kind", "policy", "state", "started",
	        "due", "snoozed until");
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(out, "%-6s %-8s %-10s %-9s %-16s %-16s %s\n", PQgetvalue(res, i, 0),
		        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		        PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	PQclear(res);
	return 0;
}

int deadlineadmin_snooze(PGconn *conn, const char *conversation, const char *until, const char *tz, FILE *out,
                         FILE *errout)
{
	char err[512];
	if (!numeric_id(conversation)) {
		fprintf(errout, "mailroomctl: deadline snooze: \"%.*s\" is not a conversation id\n", MAX_ARG,
		        conversation);
		return -1;
	}
	if (strlen(until) > MAX_ARG) {
		fprintf(errout, "mailroomctl: deadline snooze: the time is longer than %d bytes\n", MAX_ARG);
		return -1;
	}
	if (set_zone(conn, tz, errout) < 0)
		return -1;
	const char *params[2] = {conversation, until};
	PGresult *res = db_query(conn, SQL_SNOOZE, 2, params, err, sizeof(err));
	if (res == NULL) {
		fprintf(errout, "mailroomctl: deadline snooze: %s\n", err);
		return -1;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		fprintf(out, "deadline %s (%s) snoozed until %s\n", PQgetvalue(res, i, 0),
		        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	if (n == 0) {
		fprintf(errout, "mailroomctl: deadline snooze: conversation %s has no running deadline\n",
		        conversation);
		return -1;
	}
	return 0;
}
