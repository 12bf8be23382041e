/* scoring.h - the priority of each message the worker stores: its thread's
 * history and its sender's statistics in one lookup (kept up to date by
 * the conversation's state update, SCORING_CONV_STEP and SCORING_ANSWERED), rules and the newest
 * local model (lib/priority.h), the result as message_meta values.
 *
 * The model is reloaded by scoring_refresh() whenever a newer version is
 * stored (checked where the pipeline checks the address book version).
 */
#ifndef MAILROOM_WORKER_SCORING_H
#define MAILROOM_WORKER_SCORING_H

#include <libpq-fe.h>
#include <stddef.h>

#include "classify.h"
#include "conf.h"
#include "db.h"
#include "mimeparse.h"
#include "priority.h"

/* The conversation's priority: the highest of its open inbound messages
 * (after our last outbound one; bounces and automatic replies left out);
 * NULL when none is open. $1 is the conversation. Used where a message's
 * priority changed after the fact (corrections). */
#define SCORING_CONV_PRIORITY                                                                                \
	" (SELECT max(mm.priority_score) FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = "  \
	"mm.message_id"                                                                                      \
	"  WHERE mm.conversation_id = $1::bigint AND m.direction = 'inbound'"                                \
	"  AND NOT (mm.flags && '{bounce,auto-reply,out-of-office}')"                                        \
	"  AND m.received_at > COALESCE((SELECT max(o.received_at) FROM mailroom.message_meta om"            \
	"   JOIN mailroom.messages o ON o.id = om.message_id WHERE om.conversation_id = $1::bigint"          \
	"   AND o.direction = 'outbound'), '-infinity'))"

#define SCORING_STR_(x) #x
#define SCORING_STR(x)  SCORING_STR_(x)
/* SCORING_LEVEL_OF(x) - the level of the score expression x, as in priority.h */
#define SCORING_LEVEL_OF(x)                                                                                  \
	" CASE WHEN " x " >= " SCORING_STR(PRIORITY_URGENT_MIN) " THEN 'urgent' WHEN " x " >= " SCORING_STR( \
	    PRIORITY_HIGH_MIN) " THEN 'high' WHEN " x                                                        \
	                       " >= " SCORING_STR(PRIORITY_NORMAL_MIN) " THEN 'normal' WHEN " x              \
	                                                               " IS NOT NULL THEN 'low' END"
/* SCORING_CONV_SET - the SET clause of the conversation's priority from "p.s"
 * (a FROM item "(SELECT" SCORING_CONV_PRIORITY " AS s) p") */
#define SCORING_CONV_SET " priority_score = p.s, priority_level =" SCORING_LEVEL_OF("p.s")
/* The conversation's priority after one message that is not automatic, in
 * constant time: an inbound message raises it to its own score (on top of
 * what was open while the conversation waited on us), our answer clears it.
 * $3 is the direction, $7 the message's score. */
#define SCORING_CONV_NEXT                                                                                    \
	"(CASE $3 WHEN 'inbound' THEN GREATEST(CASE WHEN c.waiting_on = 'us' THEN c.priority_score END,"     \
	" $7::smallint) WHEN 'outbound' THEN NULL ELSE c.priority_score END)"
#define SCORING_CONV_STEP                                                                                    \
	" priority_score = " SCORING_CONV_NEXT ", priority_level =" SCORING_LEVEL_OF(                        \
	    SCORING_CONV_NEXT) ", waiting_since = CASE $3 WHEN 'inbound' THEN CASE WHEN c.waiting_on = 'us'" \
	                       " AND c.waiting_since IS NOT NULL THEN LEAST(c.waiting_since, "               \
	                       "$2::timestamptz) ELSE $2::timestamptz END"                                   \
	                       " WHEN 'outbound' THEN NULL ELSE c.waiting_since END," SCORING_CONV_HISTORY
/* The history scoring reads back (schema/009): one more message; whether
 * our answer ($8) asked a question; whom the conversation waits to be
 * answered ($6, the sender). */
#define SCORING_CONV_HISTORY                                                                                 \
	" message_count = c.message_count + 1, we_asked = CASE $3 WHEN 'outbound' THEN $8::boolean"          \
	" ELSE c.we_asked END, waiting_from = CASE $3 WHEN 'inbound' THEN $6 WHEN 'outbound' THEN NULL"      \
	" ELSE c.waiting_from END"
/* SCORING_ANSWERED - the WITH clause put before the conversation's
 * state update: our answer ($3 outbound) to a conversation waiting on us
 * counts as an answer to the sender it waited on. In the same statement,
 * so it sees the state before the update. */
#define SCORING_ANSWERED                                                                                     \
	"WITH answered AS (UPDATE mailroom.sender_stats t SET answered = t.answered + 1"                     \
	" FROM mailroom.conversations o WHERE o.id = $1::bigint AND $3 = 'outbound' AND o.waiting_on = 'us'" \
	" AND t.addr = o.waiting_from AND t.answered < t.messages) "

struct scoring;

/* What scoring_message() hands to the INSERT of message_meta: text values,
 * NULL where unknown. reasons is malloc'd (scoring_out_free). */
struct scoring_out {
	char score[8], level[8], confidence[16], version[24];
	int has_version;
	const char *asks; /* "true" when our outbound message asks a question */
	int ask_llm;      /* the LLM is enabled and rules and model were unsure: queue a request */
	char *reasons;
};

struct scoring *scoring_new(const struct mailroom_conf *conf);
void scoring_set_conf(struct scoring *s, const struct mailroom_conf *conf);
void scoring_free(struct scoring **sp);

/* scoring_refresh - load the newest model when a newer one is stored; 0, or -1 with err set (the old one
 * stays) */
int scoring_refresh(struct scoring *s, PGconn *conn, char *err, size_t errlen);

/* The lookup statement's parameters. */
struct scoring_lookup {
	char conv[24];
	const char *params[3];
};

/* scoring_lookup_stmt - the statement that counts the message (received_at,
 * from its sender's address) for its sender and reads what scoring needs
 * of conversation conv and the sender, into *st (parameters in lk, which
 * must outlive it); prepared on conn first if need be. 0, or -1 with err. */
int scoring_lookup_stmt(struct scoring *s, PGconn *conn, long long conv, const char *received_at,
                        const char *from, struct scoring_lookup *lk, struct db_stmt *st, char *err,
                        size_t errlen);

/* scoring_message - score message m from the result of its lookup statement; 0, or -1 with err set */
int scoring_message(struct scoring *s, const PGresult *lookup, const char *direction,
                    const char *const *rcpts, size_t n_rcpts, const struct mp_message *m,
                    const struct classification *c, struct scoring_out *out, char *err, size_t errlen);

/* scoring_out_free - release what scoring_message() allocated */
void scoring_out_free(struct scoring_out *out);

#endif
