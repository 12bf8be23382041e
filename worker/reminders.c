/* reminders.c - fire reminders, send the notification mail they queue,
 * classify notes' outcomes.
 *
 * Exactly once with several workers: every task locks its rows with FOR
 * UPDATE SKIP LOCKED and commits the state change together with its effect.
 * Mail is sent with libcurl's easy interface under a tight timeout
 * (worker.notify.timeout_ms) while its outbox row is locked, one mail at a
 * time and at most OUTBOX_PER_RUN per run: a slow or absent Postfix delays
 * the worker by that timeout at most, and a mail that failed stays queued
 * with a later next_attempt_at (exponential backoff), never lost.
 */
#include "reminders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "noteoutcome.h"
#include "notifymail.h"
#include "smtpsend.h"

#define FIRE_PER_RUN        "100"
#define OUTBOX_PER_RUN      10
#define OUTBOX_MAX_ATTEMPTS 12 /* then state 'failed': kept, visible, not retried */
#define NOTES_PER_RUN       "200"

/* SQL, named: every statement that touches these tables from the worker. */
static const char SQL_FIRE[] = "SELECT mailroom.reminders_fire($1::integer)";
static const char SQL_OUTBOX_CLAIM[] =
    "SELECT id, to_addr, to_name, subject, body, extract(epoch FROM created_at)::bigint, attempts "
    "  FROM mailroom.outbox WHERE state = 'queued' AND next_attempt_at <= now() "
    " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char SQL_OUTBOX_SENT[] =
    "WITH u AS (UPDATE mailroom.outbox SET state = 'sent', sent_at = now(), attempts = attempts + 1, "
    "  last_error = NULL WHERE id = $1 RETURNING id, reminder_id, to_addr, attempts) "
    "SELECT mailroom.audit_append('worker', 'notify.mail.sent', 'outbox:' || u.id, NULL, "
    "  jsonb_build_object('reminder_id', u.reminder_id, 'to', u.to_addr, 'message_id', $2::text, "
    "  'attempts', u.attempts)) FROM u";
/* Backoff: 30 s doubled per attempt, at most an hour. */
static const char SQL_OUTBOX_FAILED[] =
    "WITH u AS (UPDATE mailroom.outbox SET attempts = attempts + 1, last_error = left($2, 500), "
    "  state = CASE WHEN attempts + 1 >= $3::integer THEN 'failed' ELSE 'queued' END, "
    "  next_attempt_at = now() + least(interval '1 hour', interval '30 seconds' * power(2, attempts)) "
    "  WHERE id = $1 RETURNING id, state, attempts, last_error) "
    "SELECT mailroom.audit_append('worker', 'notify.mail.' || CASE WHEN u.state = 'failed' THEN 'failed' "
    "  ELSE 'retry' END, 'outbox:' || u.id, NULL, jsonb_build_object('attempts', u.attempts, "
    "  'error', u.last_error)) FROM u";
static const char SQL_NOTES_CLAIM[] =
    "SELECT id, body FROM mailroom.notes WHERE outcome IS NULL AND kind IN ('phone', 'call') "
    "   AND created_at > now() - interval '30 days' ORDER BY created_at LIMIT $1::integer "
    "   FOR UPDATE SKIP LOCKED";
static const char SQL_NOTE_SET[] =
    "WITH u AS (UPDATE mailroom.notes SET outcome = $2, outcome_by = $3, outcome_reason = $4, "
    "  outcome_at = now() WHERE id = $1 RETURNING id, outcome, outcome_by, outcome_reason) "
    "SELECT mailroom.audit_append('worker', 'note.outcome', 'note:' || u.id, NULL, "
    "  jsonb_build_object('outcome', u.outcome, 'by', u.outcome_by, 'reason', u.outcome_reason)) FROM u";

/* in_transaction - run fn between BEGIN and COMMIT, ROLLBACK when it fails */
static int in_transaction(PGconn *conn, int (*fn)(PGconn *, const struct mailroom_conf *, char *, size_t),
                          const struct mailroom_conf *conf, char *err, size_t errlen)
{
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	int n = fn(conn, conf, err, errlen);
	if (n < 0) {
		char ignored[256];
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
		return -1;
	}
	if (db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0)
		return -1;
	return n;
}

/* fire_in_tx - the firing itself, in the caller's transaction */
static int fire_in_tx(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	const char *params[1] = {FIRE_PER_RUN};
	(void)conf;
	PGresult *res = db_query(conn, SQL_FIRE, 1, params, err, errlen);
	if (res == NULL)
		return -1;
	int n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

int reminders_fire_due(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now;
	return in_transaction(conn, fire_in_tx, conf, err, errlen);
}

/* smtp_send - hand one notification to the SMTP server of worker.notify; 0 or -1 with err */
static int smtp_send(const struct mailroom_conf *conf, const char *to, const char *msg, size_t len, char *err,
                     size_t errlen)
{
	const char *rcpt[1] = {to};
	struct smtpsend s = {conf->notify_smtp_url, (long)conf->notify_timeout_ms, conf->notify_from, rcpt,
	                     1};
	return smtpsend_message(&s, msg, len, err, errlen);
}

/* outbox_one - claim, build and send one queued mail in the caller's
 * transaction; 1 sent, 0 nothing due, 2 failed (recorded), -1 database error */
static int outbox_one(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, SQL_OUTBOX_CLAIM, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	const char *id = PQgetvalue(res, 0, 0);
	const char *domain = strrchr(conf->notify_from, '@');
	char msgid[300], why[600] = "", *msg = NULL;
	size_t msglen = 0;
	int sent = 0;

	snprintf(msgid, sizeof(msgid), "mailroom-notify-%s.%s@%s", id, PQgetvalue(res, 0, 5),
	         domain != NULL ? domain + 1 : "localhost");
	struct notifymail m = {conf->notify_from,
	                       PQgetvalue(res, 0, 1),
	                       PQgetvalue(res, 0, 2),
	                       PQgetvalue(res, 0, 3),
	                       PQgetvalue(res, 0, 4),
	                       msgid,
	                       time(NULL)};
	FILE *mem = open_memstream(&msg, &msglen);
	if (mem == NULL) {
		snprintf(why, sizeof(why), "out of memory");
	} else {
		int built = notifymail_build(mem, &m, why, sizeof(why));
		if (fclose(mem) != 0 && built == 0) {
			snprintf(why, sizeof(why), "out of memory");
			built = -1;
		}
		if (built == 0 && smtp_send(conf, m.to_addr, msg, msglen, why, sizeof(why)) == 0)
			sent = 1;
	}
	free(msg);

	char attempts_max[16];
	snprintf(attempts_max, sizeof(attempts_max), "%d", OUTBOX_MAX_ATTEMPTS);
	const char *sp[2] = {id, msgid};
	const char *fp[3] = {id, why, attempts_max};
	PGresult *upd = sent ? db_query(conn, SQL_OUTBOX_SENT, 2, sp, err, errlen)
	                     : db_query(conn, SQL_OUTBOX_FAILED, 3, fp, err, errlen);
	if (!sent)
		log_warnx("notification mail %s: %s", id, why);
	PQclear(res);
	if (upd == NULL)
		return -1;
	PQclear(upd);
	return sent ? 1 : 2;
}

int outbox_send_due(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	int sent = 0;
	(void)now;
	if (conf->notify_smtp_url[0] == '\0')
		return 0;
	for (int i = 0; i < OUTBOX_PER_RUN; i++) {
		int r = in_transaction(conn, outbox_one, conf, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0 || r == 2) /* nothing due, or the server is failing: try again next run */
			break;
		sent++;
	}
	return sent;
}

/* notes_in_tx - classify the claimed notes, each update audited */
static int notes_in_tx(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	const char *params[1] = {NOTES_PER_RUN};
	(void)conf;
	PGresult *res = db_query(conn, SQL_NOTES_CLAIM, 1, params, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct noteoutcome o;
		if (noteoutcome_decide(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), &o, err,
		                       errlen) < 0) {
			PQclear(res);
			return -1;
		}
		const char *p[4] = {PQgetvalue(res, i, 0), o.outcome, o.by, o.reason};
		PGresult *u = db_query(conn, SQL_NOTE_SET, 4, p, err, errlen);
		if (u == NULL) {
			PQclear(res);
			return -1;
		}
		PQclear(u);
	}
	PQclear(res);
	return n;
}

int notes_classify_recent(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err,
                          size_t errlen)
{
	(void)now;
	return in_transaction(conn, notes_in_tx, conf, err, errlen);
}
