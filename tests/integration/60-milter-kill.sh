#!/usr/bin/env bash
# 60-milter-kill.sh - the milter dies by SIGKILL mid-run: no message Postfix queued goes unrecorded.
#
# 2,000 generated messages, four connections at once, fifty per connection;
# the client retries a temporary failure up to 20 times in a new session.
# Once about 500 are answered the milter is killed with SIGKILL and started
# again a second later. Meanwhile Postfix answers 4xx (milter_default_action
# = tempfail) and the clients retry. Afterwards every queue id that Postfix
# logged as queued (qmgr's from= lines) in this run has exactly one row, and
# every 250 the client saw is one of those. A record whose message Postfix
# did not queue (the milter died after its commit, before Postfix heard the
# answer; the client's retry is another message) is allowed and counted.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

TOTAL=2000
KILL_AT=500

lines() {
	wc -l <"$1"
}

at_exit 'milter_pid >/dev/null || devsh start milter'
tok=$(token run)
pf_off=$(log_mark "$MR_POSTFIX_LOG")
ml_off=$(log_mark "$MR_MILTER_LOG")
start=$SECONDS
send --server "$MAILROOM_SMTP" --generate "$TOTAL" --parallel 4 --per-conn 50 --retries 20 \
	--subject "$tok" --token "$tok" >"$T_TMP/out" 2>>"$T_TMP/smtpsend.err" &
sender=$!

while kill -0 "$sender" 2>/dev/null && (($(lines "$T_TMP/out") < KILL_AT)); do
	sleep 0.05
done
old=$(milter_pid)
kill -KILL "$old"
killed_at=$(lines "$T_TMP/out")
sleep 1
devsh start milter
new=$(milter_pid)
like "$new" '^[0-9]+$' "the milter was killed after $killed_at answers and runs again"
isnt "$new" "$old" "it is a new process"
wait "$sender"
diag "sent in $((SECONDS - start)) s: $(codes "$T_TMP/out")"
cmp_ok "$killed_at" '<' "$TOTAL" "the milter died while the client was still sending"
is "$(codes "$T_TMP/out")" "250 x$TOTAL" "every message was answered 250 in the end"

# --- what the clients went through -------------------------------------------------------
ok "Postfix's queue empties" postfix_wait_queue 120
log_since "$MR_POSTFIX_LOG" "$pf_off" |
	sed -nE 's/.* milter-reject: ([A-Z-]+) from [^:]*: 4[0-9][0-9] .*/\1/p; s/.* milter-reject: (END-OF-MESSAGE) from [^:]*: 4\..*/\1/p' \
	>"$T_TMP/tempfails"
# At CONNECT and EHLO the client sees nothing yet; it sees the 4xx of the next command.
seen=$(grep -cvE '^(CONNECT|EHLO)$' "$T_TMP/tempfails")
diag "temporary failures the clients saw: $seen ($(sort "$T_TMP/tempfails" | uniq -c | awk '{ print $2 " " $1 }' | paste -sd, | sed 's/,/, /g'))"
cmp_ok "$seen" '>' 0 "clients were answered 4xx while the milter was away"

# --- every queued message recorded exactly once ----------------------------------------------
qids "$T_TMP/out" >"$T_TMP/answered"
# postlogd writes asynchronously: wait until every 250 shows up as queued.
end=$((SECONDS + 30))
while pflog_queued "$pf_off" >"$T_TMP/queued" && [[ -n $(comm -23 "$T_TMP/answered" "$T_TMP/queued") ]] &&
	((SECONDS < end)); do
	sleep 0.5
done
diag "queued by Postfix: $(wc -l <"$T_TMP/queued"); answered 250: $(wc -l <"$T_TMP/answered")"
is "$(comm -23 "$T_TMP/answered" "$T_TMP/queued" | wc -l)" 0 "every 250 the clients saw is a message Postfix queued"
wait_qids_recorded "$T_TMP/queued" 120
is "$BAD" "" "every queue id Postfix queued has exactly one row"
[[ -n $BAD ]] && diag "queue ids with a count other than 1:" "$(head -20 <<<"$BAD")"
orphans=$(sql "SELECT count(*) FROM auditor.messages
                WHERE subject LIKE '$tok %' AND $MINE
                  AND NOT queue_id = ANY ('{$(paste -sd, "$T_TMP/queued")}')")
diag "records of messages Postfix did not queue (committed, then the answer was lost): $orphans"
ok "the spool's new/ empties" wait_spool_empty 60
is "$(spool_count "$MAILROOM_SPOOL" tmp)" 0 "no unfinished record is left in tmp/"
removed=$(log_since "$MR_MILTER_LOG" "$ml_off" | grep -c 'spool: removed unfinished tmp/')
diag "unfinished records the restarted milter removed from tmp/: $removed"

done_testing
