/* deadlines-sql.h - the statements of the deadline task (worker/deadlines.c),
 * apart so that bench/deadline-sql can print them for EXPLAIN and timing
 * against the same database the worker runs on.
 */
#ifndef MAILROOM_DEADLINES_SQL_H
#define MAILROOM_DEADLINES_SQL_H

/* Conversations idle longer than this get no new deadline: a first start on
 * an old database must not fire a breach for every forgotten thread. */
#define LOOKBACK     "30 days"
#define MAX_PER_PASS "200"

/* A message that counts: not a bounce, auto-reply or out-of-office. */
#define COUNTS "NOT (mm.flags && '{bounce,auto-reply,out-of-office}')"
#define MSGS   " FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"

/* The first inbound message after our last outbound one, of conversations
 * that wait on us, that some policy covers, and that have no running
 * response deadline for it. What the policies cover comes as every
 * (class, level) they match and for which organisations ("any", "vip",
 * "other"), in three parallel arrays ($1 classes, '' for none; $2 levels;
 * $3 organisations), one element per pair. Each pair is one range of the
 * partial index conversations_waiting_us_idx (schema 035): the pass reads
 * the covered conversations, each once, not every one waiting on us
 * (matching each against each policy's wildcards took 0.7 s at 220,000
 * open conversations; two elements per pair, one per VIP value, read each
 * twice). A conversation with a running deadline is passed over before its
 * messages are looked at (the MATERIALIZED part: left to itself the planner
 * looked them up first). */
#define SQL_RESPONSE_CANDIDATES                                                                              \
	"WITH w AS MATERIALIZED (SELECT c.id, c.class, c.priority_level, COALESCE(o.vip, false) AS vip"      \
	"   FROM unnest($1::text[], $2::text[], $3::text[]) p(class, level, vip)"                            \
	"   JOIN mailroom.conversations c ON COALESCE(c.class, '') = p.class"                                \
	"     AND COALESCE(c.priority_level, 'normal') = p.level"                                            \
	"   LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"                                  \
	"   WHERE c.status = 'open' AND c.waiting_on = 'us' AND c.merged_into IS NULL"                       \
	"     AND c.last_activity_at > now() - interval '" LOOKBACK "'"                                      \
	"     AND (p.vip = 'any' OR (p.vip = 'vip') = COALESCE(o.vip, false))"                               \
	"     AND NOT EXISTS (SELECT 1 FROM mailroom.deadlines d WHERE d.conversation_id = c.id"             \
	"       AND d.kind = 'response' AND d.state IN ('open', 'warned', 'breached')))"                     \
	" SELECT w.id, w.class, w.priority_level, w.vip, s.t::text, floor(extract(epoch FROM s.t))::bigint"  \
	" FROM w CROSS JOIN LATERAL (SELECT min(m.received_at) AS t" MSGS                                    \
	"   WHERE mm.conversation_id = w.id AND m.direction = 'inbound' AND " COUNTS                         \
	"   AND m.received_at > COALESCE((SELECT max(m.received_at)" MSGS                                    \
	"     WHERE mm.conversation_id = w.id AND m.direction = 'outbound' AND " COUNTS "),"                 \
	"     '-infinity')) s"                                                                               \
	" WHERE s.t IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mailroom.deadlines d"                          \
	"   WHERE d.conversation_id = w.id AND d.kind = 'response' AND d.started_at >= s.t)"                 \
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

#endif
