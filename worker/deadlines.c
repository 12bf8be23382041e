/* deadlines.c - maintain mailroom.deadlines: every statement of the task is here.
 *
 * Each pass, in this order: close what was answered, cancel what no longer
 * runs (conversation closed or merged), open what is missing, then fire what
 * is due. Opening computes due times on the business calendar, so it reads
 * candidates first and inserts each with ON CONFLICT DO NOTHING: two workers
 * computing the same deadline insert it once. Every other change is one
 * statement that claims its rows FOR UPDATE SKIP LOCKED, changes their state,
 * writes the event and the audit row: another worker skips the locked rows
 * and, once they commit, no longer finds them in the state it looks for.
 *
 * Every worker runs this; none assumes it is alone.
 */
#include "deadlines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"
#include "db.h"
#include "deadpolicy.h"
#include "log.h"
#include "mailclass.h"
#include "priority.h"

/* Conversations idle longer than this get no new deadline: a first start on
 * an old database must not fire a breach for every forgotten thread. */
#define LOOKBACK     "30 days"
#define MAX_POLICIES 64
#define MAX_PER_PASS "200"

/* A message that counts: not a bounce, auto-reply or out-of-office. */
#define COUNTS "NOT (mm.flags && '{bounce,auto-reply,out-of-office}')"
#define MSGS   " FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"

/* The first inbound message after our last outbound one, of conversations
 * that wait on us, that some policy covers, and that have no running
 * response deadline for it. What the policies cover comes as every
 * (class, level, vip) they match, in three parallel arrays ($1 classes, ''
 * for none; $2 levels; $3 vip): a hash join, where matching each
 * conversation against each policy's wildcards took 0.7 s at 220,000 open
 * conversations. So conversations no policy covers (newsletters) never
 * fill the pass's LIMIT, and the message lookups run for covered ones only. */
#define SQL_RESPONSE_CANDIDATES                                                                              \
	"SELECT c.id, c.class, c.priority_level, COALESCE(o.vip, false), s.t::text,"                         \
	" floor(extract(epoch FROM s.t))::bigint"                                                            \
	" FROM mailroom.conversations c"                                                                     \
	" LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"                                    \
	" CROSS JOIN LATERAL (SELECT min(m.received_at) AS t" MSGS                                           \
	"   WHERE mm.conversation_id = c.id AND m.direction = 'inbound' AND " COUNTS                         \
	"   AND m.received_at > COALESCE((SELECT max(m.received_at)" MSGS                                    \
	"     WHERE mm.conversation_id = c.id AND m.direction = 'outbound' AND " COUNTS "),"                 \
	"     '-infinity')) s"                                                                               \
	" WHERE c.status = 'open' AND c.waiting_on = 'us' AND c.merged_into IS NULL"                         \
	"   AND c.last_activity_at > now() - interval '" LOOKBACK "' AND s.t IS NOT NULL"                    \
	"   AND (COALESCE(c.class, ''), COALESCE(c.priority_level, 'normal'), COALESCE(o.vip, false))"       \
	"     IN (SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[]))"                              \
	"   AND NOT EXISTS (SELECT 1 FROM mailroom.deadlines d WHERE d.conversation_id = c.id"               \
	"     AND d.kind = 'response' AND (d.state IN ('open', 'warned', 'breached') OR d.started_at >= "    \
	"s.t))"                                                                                              \
	" ORDER BY s.t LIMIT " MAX_PER_PASS

/* Our last outbound message, of conversations that wait on them (of the
 * follow-up classes $1), not answered since and without a follow-up for it. */
#define SQL_FOLLOWUP_CANDIDATES                                                                              \
	"SELECT c.id, s.t::text, floor(extract(epoch FROM s.t))::bigint"                                     \
	" FROM mailroom.conversations c"                                                                     \
	" CROSS JOIN LATERAL (SELECT max(m.received_at) AS t" MSGS                                           \
	"   WHERE mm.conversation_id = c.id AND m.direction = 'outbound' AND " COUNTS ") s"                  \
	" WHERE c.status = 'open' AND c.waiting_on = 'them' AND c.merged_into IS NULL"                       \
	"   AND c.last_activity_at > now() - interval '" LOOKBACK "' AND s.t IS NOT NULL"                    \
	"   AND c.class = ANY($1::text[])"                                                                   \
	"   AND NOT EXISTS (SELECT 1" MSGS " WHERE mm.conversation_id = c.id"                                \
	"     AND m.direction = 'inbound' AND " COUNTS " AND m.received_at > s.t)"                           \
	"   AND NOT EXISTS (SELECT 1 FROM mailroom.deadlines d WHERE d.conversation_id = c.id"               \
	"     AND d.kind = 'followup' AND (d.state = 'open' OR d.started_at >= s.t))"                        \
	" ORDER BY s.t LIMIT " MAX_PER_PASS

/* Insert one deadline, its 'open' event and audit row, unless it exists. */
#define SQL_OPEN                                                                                             \
	"WITH ins AS (INSERT INTO mailroom.deadlines (conversation_id, kind, policy, business_minutes,"      \
	"   started_at, due_at, warn_at) VALUES ($1::bigint, $2, $3, $4::integer, $5::timestamptz,"          \
	"   to_timestamp($6::bigint), to_timestamp($7::bigint)) ON CONFLICT DO NOTHING RETURNING *),"        \
	" ev AS (INSERT INTO mailroom.deadline_events (deadline_id, conversation_id, event, actor, detail)"  \
	"   SELECT id, conversation_id, 'open', 'worker',"                                                   \
	"   jsonb_build_object('kind', kind, 'policy', policy, 'due_at', due_at, 'warn_at', warn_at)"        \
	"   FROM ins)"                                                                                       \
	" SELECT mailroom.audit_append('worker', 'deadline.open', 'conversation:' || conversation_id, NULL," \
	"   jsonb_build_object('deadline', id, 'kind', kind, 'policy', policy, 'started_at', started_at,"    \
	"     'due_at', due_at, 'warn_at', warn_at)) FROM ins"

/* The common tail of a state change: claimed rows in `due`, changed in
 * `upd`; an event and an audit row for each. */
#define CHANGE_TAIL(event, action, state)                                                                    \
	" ev AS (INSERT INTO mailroom.deadline_events (deadline_id, conversation_id, event, actor,"          \
	"   escalated_to, detail) SELECT upd.id, upd.conversation_id, '" event "', 'worker',"                \
	"   upd.escalated_to, jsonb_build_object('kind', upd.kind, 'policy', upd.policy, 'due_at',"          \
	"   upd.due_at) FROM upd)"                                                                           \
	" SELECT mailroom.audit_append('worker', '" action "', 'conversation:' || upd.conversation_id,"      \
	"   jsonb_build_object('deadline', upd.id, 'state', due.state), jsonb_build_object('deadline',"      \
	"   upd.id, 'kind', upd.kind, 'state', '" state "', 'policy', upd.policy, 'due_at', upd.due_at,"     \
	"   'escalated_to', upd.escalated_to)) FROM upd JOIN due ON due.id = upd.id"

#define NOT_SNOOZED "(d.snoozed_until IS NULL OR d.snoozed_until <= now())"

#define SQL_WARN                                                                                             \
	"WITH due AS (SELECT d.id, d.state FROM mailroom.deadlines d WHERE d.kind = 'response'"              \
	"   AND d.state = 'open' AND d.warn_at <= now() AND " NOT_SNOOZED                                    \
	"   ORDER BY d.warn_at LIMIT " MAX_PER_PASS " FOR UPDATE SKIP LOCKED),"                              \
	" upd AS (UPDATE mailroom.deadlines d SET state = 'warned', warned_at = now(), updated_at = now()"   \
	"   FROM due WHERE d.id = due.id RETURNING d.*)," CHANGE_TAIL("warn", "deadline.warn", "warned")

/* $1: whom to escalate to (NULL: nobody configured). A deadline with a
 * warning time is breached only once warned: SQL_WARN runs first in a pass,
 * so one overdue on both counts gets its warning, then its breach. */
#define SQL_BREACH                                                                                           \
	"WITH due AS (SELECT d.id, d.state FROM mailroom.deadlines d WHERE d.kind = 'response'"              \
	"   AND (d.state = 'warned' OR (d.state = 'open' AND d.warn_at IS NULL))"                            \
	"   AND d.due_at <= now() AND " NOT_SNOOZED "   ORDER BY d.due_at LIMIT " MAX_PER_PASS               \
	" FOR UPDATE SKIP LOCKED),"                                                                          \
	" upd AS (UPDATE mailroom.deadlines d SET state = 'breached', breached_at = now(),"                  \
	"   escalated_to = $1, updated_at = now() FROM due WHERE d.id = due.id RETURNING d.*)," CHANGE_TAIL( \
	    "breach", "deadline.breach", "breached")

#define SQL_FOLLOWUP_FIRE                                                                                    \
	"WITH due AS (SELECT d.id, d.state FROM mailroom.deadlines d WHERE d.kind = 'followup'"              \
	"   AND d.state = 'open' AND d.due_at <= now() AND " NOT_SNOOZED                                     \
	"   ORDER BY d.due_at LIMIT " MAX_PER_PASS " FOR UPDATE SKIP LOCKED),"                               \
	" upd AS (UPDATE mailroom.deadlines d SET state = 'fired', fired_at = now(), updated_at = now()"     \
	"   FROM due WHERE d.id = due.id RETURNING d.*)," CHANGE_TAIL("followup", "deadline.followup",       \
	                                                              "fired")

/* Met: a response deadline by our first counting outbound message since it
 * started (or the conversation no longer waiting on us); a follow-up by
 * their first counting inbound message since. */
#define SQL_MET                                                                                              \
	"WITH due AS (SELECT d.id, d.state, COALESCE(a.t, now()) AS t FROM mailroom.deadlines d"             \
	"   JOIN mailroom.conversations c ON c.id = d.conversation_id"                                       \
	"   LEFT JOIN LATERAL (SELECT m.received_at AS t" MSGS                                               \
	" WHERE mm.conversation_id = d.conversation_id"                                                      \
	"     AND m.direction = CASE d.kind WHEN 'response' THEN 'outbound' ELSE 'inbound' END"              \
	"     AND " COUNTS " AND m.received_at >= d.started_at"                                              \
	"     AND (d.kind = 'response' OR m.received_at > d.started_at)"                                     \
	"     ORDER BY m.received_at LIMIT 1) a ON true"                                                     \
	"   WHERE d.state IN ('open', 'warned', 'breached') AND (a.t IS NOT NULL"                            \
	"     OR (d.kind = 'response' AND c.waiting_on IS DISTINCT FROM 'us')"                               \
	"     OR (d.kind = 'followup' AND c.waiting_on IS DISTINCT FROM 'them'))"                            \
	"   LIMIT " MAX_PER_PASS " FOR UPDATE OF d SKIP LOCKED),"                                            \
	" upd AS (UPDATE mailroom.deadlines d SET state = 'met', met_at = due.t, updated_at = now()"         \
	"   FROM due WHERE d.id = due.id RETURNING d.*)," CHANGE_TAIL("met", "deadline.met", "met")

/* Cancelled: the conversation was closed or merged, or a follow-up was
 * superseded by a newer message of ours (the next pass opens its own). */
#define SQL_CANCEL                                                                                           \
	"WITH due AS (SELECT d.id, d.state FROM mailroom.deadlines d"                                        \
	"   JOIN mailroom.conversations c ON c.id = d.conversation_id"                                       \
	"   WHERE d.state IN ('open', 'warned', 'breached') AND (c.status <> 'open'"                         \
	"     OR c.merged_into IS NOT NULL OR (d.kind = 'followup' AND EXISTS (SELECT 1" MSGS                \
	"       WHERE mm.conversation_id = d.conversation_id AND m.direction = 'outbound'"                   \
	"       AND " COUNTS " AND m.received_at > d.started_at)))"                                          \
	"   LIMIT " MAX_PER_PASS " FOR UPDATE OF d SKIP LOCKED),"                                            \
	" upd AS (UPDATE mailroom.deadlines d SET state = 'cancelled', closed_at = now(), updated_at = "     \
	"now()"                                                                                              \
	"   FROM due WHERE d.id = due.id RETURNING d.*)," CHANGE_TAIL("cancel", "deadline.cancel",           \
	                                                              "cancelled")

/* The calendar and policies of one pass, from the configuration. */
struct setup {
	struct bizcal *cal;
	struct deadpolicy policies[MAX_POLICIES];
	size_t n_policies;
};

/* setup_load - build the calendar and policies; 0 or -1 with err */
static int setup_load(struct setup *s, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->cal = bizcal_new(conf->deadlines_timezone, conf->deadlines_state, err, errlen);
	if (s->cal == NULL)
		return -1;
	for (size_t i = 0; i < conf->deadlines_hours.count; i++)
		if (bizcal_set_hours(s->cal, conf->deadlines_hours.items[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < conf->deadlines_holidays.count; i++)
		if (bizcal_add_holiday(s->cal, conf->deadlines_holidays.items[i], err, errlen) < 0)
			return -1;
	if (conf->deadlines_policies.count > MAX_POLICIES) {
		snprintf(err, errlen, "more than %d deadline policies", MAX_POLICIES);
		return -1;
	}
	for (size_t i = 0; i < conf->deadlines_policies.count; i++)
		if (deadpolicy_parse(conf->deadlines_policies.items[i], &s->policies[s->n_policies++], err,
		                     errlen) < 0)
			return -1;
	return 0;
}

/* covered_arrays - every (class, level, vip) some policy covers, as three
 * array literals for SQL_RESPONSE_CANDIDATES ("" the class of a
 * conversation without one); 0, or -1 when out of memory */
static int covered_arrays(const struct setup *s, char *arrays[3])
{
	enum { MAX_COVERED = (MAILCLASS_COUNT + 1) * PRIORITY_LEVELS * 2 };
	const char *klass[MAX_COVERED], *level[MAX_COVERED], *vip[MAX_COVERED];
	size_t n = 0;
	for (int c = -1; c < MAILCLASS_COUNT; c++)
		for (int l = 0; l < PRIORITY_LEVELS; l++)
			for (int v = 0; v < 2; v++) {
				const char *k = c < 0 ? NULL : mailclass_name((enum mail_class)c);
				const char *lv = priority_level_name((enum priority_level)l);
				if (deadpolicy_select(s->policies, s->n_policies, k, lv, v) < 0)
					continue;
				klass[n] = k ? k : "";
				level[n] = lv;
				vip[n++] = v ? "true" : "false";
			}
	arrays[0] = db_array_literal(klass, n);
	arrays[1] = db_array_literal(level, n);
	arrays[2] = db_array_literal(vip, n);
	return arrays[0] && arrays[1] && arrays[2] ? 0 : -1;
}

/* open_one - insert one deadline; 1 when inserted, 0 when another worker did, -1 */
static int open_one(PGconn *conn, const char *conv, const char *kind, const char *policy, long minutes,
                    const char *started, time_t due, const time_t *warn, char *err, size_t errlen)
{
	char mins[24], due_s[24], warn_s[24];
	snprintf(mins, sizeof(mins), "%ld", minutes);
	snprintf(due_s, sizeof(due_s), "%lld", (long long)due);
	if (warn != NULL)
		snprintf(warn_s, sizeof(warn_s), "%lld", (long long)*warn);
	const char *params[7] = {
	    conv, kind, policy, minutes > 0 ? mins : NULL, started, due_s, warn ? warn_s : NULL};
	PGresult *res = db_query(conn, SQL_OPEN, 7, params, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	PQclear(res);
	return n;
}

/* open_responses - a response deadline for each conversation waiting on us
 * that a policy covers; how many opened, or -1 */
static int open_responses(PGconn *conn, const struct setup *s, const struct mailroom_conf *conf, char *err,
                          size_t errlen)
{
	char *arrays[3];
	PGresult *res = NULL;
	if (covered_arrays(s, arrays) < 0)
		snprintf(err, errlen, "out of memory");
	else
		res = db_query(conn, SQL_RESPONSE_CANDIDATES, 3, (const char *const *)arrays, err, errlen);
	for (int i = 0; i < 3; i++)
		free(arrays[i]);
	if (res == NULL)
		return -1;
	int opened = 0;
	for (int i = 0; i < PQntuples(res) && opened >= 0; i++) {
		const char *klass = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		const char *level = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
		int vip = strcmp(PQgetvalue(res, i, 3), "t") == 0;
		int p = deadpolicy_select(s->policies, s->n_policies, klass, level, vip);
		if (p < 0)
			continue;
		const struct deadpolicy *pol = &s->policies[p];
		time_t start = (time_t)strtoll(PQgetvalue(res, i, 5), NULL, 10), due, warn;
		long warn_minutes = pol->minutes * (long)conf->deadlines_warn_percent / 100;
		if (bizcal_add_minutes(s->cal, start, pol->minutes, &due) < 0 ||
		    bizcal_add_minutes(s->cal, start, warn_minutes, &warn) < 0) {
			snprintf(err, errlen, "the business calendar has no working time within ten years");
			opened = -1;
			break;
		}
		int n = open_one(conn, PQgetvalue(res, i, 0), "response", pol->name, pol->minutes,
		                 PQgetvalue(res, i, 4), due, &warn, err, errlen);
		opened = n < 0 ? -1 : opened + n;
	}
	PQclear(res);
	return opened;
}

/* open_followups - a follow-up for each conversation waiting on them; how many, or -1 */
static int open_followups(PGconn *conn, const struct setup *s, const struct mailroom_conf *conf, char *err,
                          size_t errlen)
{
	if (conf->deadlines_followup_days == 0 || conf->deadlines_followup_classes.count == 0)
		return 0;
	char *classes = db_array_literal((const char *const *)conf->deadlines_followup_classes.items,
	                                 conf->deadlines_followup_classes.count);
	if (classes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *params[1] = {classes};
	PGresult *res = db_query(conn, SQL_FOLLOWUP_CANDIDATES, 1, params, err, errlen);
	free(classes);
	if (res == NULL)
		return -1;
	int opened = 0;
	for (int i = 0; i < PQntuples(res) && opened >= 0; i++) {
		time_t start = (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10), due;
		if (bizcal_add_days(s->cal, start, (int)conf->deadlines_followup_days, &due) < 0) {
			snprintf(err, errlen, "the business calendar has no working time within ten years");
			opened = -1;
			break;
		}
		int n = open_one(conn, PQgetvalue(res, i, 0), "followup", "followup", 0,
		                 PQgetvalue(res, i, 1), due, NULL, err, errlen);
		opened = n < 0 ? -1 : opened + n;
	}
	PQclear(res);
	return opened;
}

/* change - run one claiming state change; how many rows it changed, or -1 */
static int change(PGconn *conn, const char *sql, int nparams, const char *const *params, const char *what,
                  char *err, size_t errlen)
{
	PGresult *res = db_query(conn, sql, nparams, params, err, errlen);
	if (res == NULL) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, " (%s)", what);
		return -1;
	}
	int n = PQntuples(res);
	PQclear(res);
	if (n > 0)
		log_info("deadlines: %d %s", n, what);
	return n;
}

int deadlines_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now; /* due times are compared with the database's clock, the same for every worker */
	struct setup s;
	int total = 0, n;
	if (setup_load(&s, conf, err, errlen) < 0) {
		bizcal_free(&s.cal);
		return -1;
	}
	const char *escalate[1] = {conf->deadlines_escalate_to[0] ? conf->deadlines_escalate_to : NULL};
	if ((n = change(conn, SQL_MET, 0, NULL, "met", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_CANCEL, 0, NULL, "cancelled", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = open_responses(conn, &s, conf, err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = open_followups(conn, &s, conf, err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_WARN, 0, NULL, "warned", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_BREACH, 1, escalate, "breached", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_FOLLOWUP_FIRE, 0, NULL, "follow-ups due", err, errlen)) < 0)
		goto fail;
	total += n;
	bizcal_free(&s.cal);
	return total;
fail:
	bizcal_free(&s.cal);
	return -1;
}
