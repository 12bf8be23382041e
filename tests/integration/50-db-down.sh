#!/usr/bin/env bash
# 50-db-down.sh - PostgreSQL stops in the middle of a run: mail keeps flowing, nothing is lost.
#
# 2,000 generated messages, four connections at once, fifty per connection.
# PostgreSQL is stopped once about 500 have been answered and started again
# at about 1,400 (at least 500 answers later), while mail still flows. Every message is answered 250; while the database is down
# the records wait in the spool; afterwards the spool drains and every queue
# id answered 250 has exactly one row: none missing, none twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

TOTAL=2000
STOP_AT=500
DOWN_FOR=500  # answers at least while PostgreSQL is down
START_AT=1400 # and at least this many before it starts again

# lines FILE - answers so far
lines() {
	wc -l <"$1"
}

at_exit devsh start pg
tok=$(token run)
ml_off=$(log_mark "$MR_MILTER_LOG")
start=$SECONDS
: >"$T_TMP/out" # exists before the sender starts: the loops below count its lines
send --server "$MAILROOM_SMTP" --generate "$TOTAL" --parallel 4 --per-conn 50 --subject "$tok" --token "$tok" \
	>"$T_TMP/out" 2>>"$T_TMP/smtpsend.err" &
sender=$!

while kill -0 "$sender" 2>/dev/null && (($(lines "$T_TMP/out") < STOP_AT)); do
	sleep 0.05
done
devsh stop pg
stopped_at=$(lines "$T_TMP/out")
ok "PostgreSQL stopped after $stopped_at answers" test "$(sql 'SELECT 1' 2>/dev/null)" != 1

while kill -0 "$sender" 2>/dev/null && (($(lines "$T_TMP/out") < stopped_at + DOWN_FOR || $(lines "$T_TMP/out") < START_AT)); do
	sleep 0.05
done
waiting=$(spool_count)
restarted_at=$(lines "$T_TMP/out")
devsh start pg
ok "PostgreSQL started again after $restarted_at answers" test "$(sql 'SELECT 1' 2>/dev/null)" = 1
wait "$sender"
diag "sent in $((SECONDS - start)) s: $(codes "$T_TMP/out")"

cmp_ok $((restarted_at - stopped_at)) '>=' "$DOWN_FOR" "at least $DOWN_FOR messages answered while PostgreSQL was down"
cmp_ok "$waiting" '>' 0 "records waited in the spool while PostgreSQL was down ($waiting)"
is "$(codes "$T_TMP/out")" "250 x$TOTAL" "every message answered 250: mail kept flowing"

# --- the spool drains ----------------------------------------------------------------
start=$SECONDS
ok "the spool's new/ empties" wait_spool_empty 180
diag "spool drained $((SECONDS - start)) s after the last answer"
# A broken connection is logged with libpq's words, a failed connect as
# "database unreachable".
ok "the milter logged the loss of the database" \
	log_has "$MR_MILTER_LOG" "$ml_off" 'ingest: (.*: )?(database unreachable|server closed|terminating connection|connection to the database lost)' 1
# A broken connection once gave an empty "ingest: " line (libpq's words are
# on the connection when nothing could be sent).
is "$(log_since "$MR_MILTER_LOG" "$ml_off" | grep -cE 'ingest: *$')" 0 "no ingest warning without words"
ok "the milter logged the database as reachable again" \
	log_has "$MR_MILTER_LOG" "$ml_off" 'ingest: database reachable again' 10

# --- every queue id exactly once -----------------------------------------------------------
qids "$T_TMP/out" >"$T_TMP/qids"
is "$(sort -u "$T_TMP/qids" | wc -l)" "$TOTAL" "$TOTAL distinct queue ids"
wait_qids_recorded "$T_TMP/qids" 60
is "$BAD" "" "each queue id answered 250 has exactly one row"
[[ -n $BAD ]] && diag "queue ids with a count other than 1:" "$(head -20 <<<"$BAD")"
is "$(sql "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || count(DISTINCT queue_id) FROM auditor.messages
            WHERE subject LIKE '$tok %' AND $MINE")" "$TOTAL $TOTAL $TOTAL" \
	"the run's messages are $TOTAL rows with distinct ids and queue ids"

done_testing
