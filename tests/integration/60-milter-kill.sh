#!/usr/bin/env bash
# 60-milter-kill.sh - the milter dies by SIGKILL, or is stopped, mid-run: no message Postfix queued goes unrecorded.
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
#
# The same again with SIGTERM (./dev.sh stop milter) instead of SIGKILL:
# libmilter's main loop returns at once, but the messages in progress must
# be finished (new ones get 451) before the spool and the settings go; the
# stop is clean, with no sanitizer report.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

TOTAL=2000
KILL_AT=500

lines() {
	wc -l <"$1"
}

at_exit 'milter_pid >/dev/null || devsh start milter'
# stop_mid_run SIGKILL|SIGTERM - stop the milter that way while clients send
stop_mid_run() {
	local how=$1 tok pf_off ml_off start sender old new killed_at seen end orphans removed asan_before
	local d=$T_TMP/$how # files of this run
	mkdir -p "$d"
	tok=$(token "run-$how")
	pf_off=$(log_mark "$MR_POSTFIX_LOG")
	ml_off=$(log_mark "$MR_MILTER_LOG")
	start=$SECONDS
	: >"$d/out" # exists before the sender starts: the loop below counts its lines
	send --server "$MAILROOM_SMTP" --generate "$TOTAL" --parallel 4 --per-conn 50 --retries 20 \
		--subject "$tok" --token "$tok" >"$d/out" 2>>"$d/smtpsend.err" &
	sender=$!

	while kill -0 "$sender" 2>/dev/null && (($(lines "$d/out") < KILL_AT)); do
		sleep 0.05
	done
	old=$(milter_pid)
	if [[ $how == SIGKILL ]]; then
		kill -KILL "$old"
	else
		asan_before=$(asan_reports)
		devsh stop milter
	fi
	killed_at=$(lines "$d/out")
	sleep 1
	devsh start milter
	new=$(milter_pid)
	like "$new" '^[0-9]+$' "$how: the milter stopped after $killed_at answers and runs again"
	isnt "$new" "$old" "$how: it is a new process"
	wait "$sender"
	diag "sent in $((SECONDS - start)) s: $(codes "$d/out")"
	cmp_ok "$killed_at" '<' "$TOTAL" "$how: the milter died while the client was still sending"
	is "$(codes "$d/out")" "250 x$TOTAL" "$how: every message was answered 250 in the end"

	# --- what the clients went through -------------------------------------------------------
	ok "$how: Postfix's queue empties" postfix_wait_queue 120
	log_since "$MR_POSTFIX_LOG" "$pf_off" |
		sed -nE 's/.* milter-reject: ([A-Z-]+) from [^:]*: 4[0-9][0-9] .*/\1/p; s/.* milter-reject: (END-OF-MESSAGE) from [^:]*: 4\..*/\1/p' \
		>"$d/tempfails"
	# At CONNECT and EHLO the client sees nothing yet; it sees the 4xx of the next command.
	seen=$(grep -cvE '^(CONNECT|EHLO)$' "$d/tempfails")
	diag "temporary failures the clients saw: $seen ($(sort "$d/tempfails" | uniq -c | awk '{ print $2 " " $1 }' | paste -sd, | sed 's/,/, /g'))"
	cmp_ok "$seen" '>' 0 "$how: clients were answered 4xx while the milter was away"

	# --- every queued message recorded exactly once ----------------------------------------------
	qids "$d/out" >"$d/answered"
	# postlogd writes asynchronously: wait until every 250 shows up as queued.
	end=$((SECONDS + 30))
	while pflog_queued "$pf_off" >"$d/queued" && [[ -n $(comm -23 "$d/answered" "$d/queued") ]] &&
		((SECONDS < end)); do
		sleep 0.5
	done
	diag "queued by Postfix: $(wc -l <"$d/queued"); answered 250: $(wc -l <"$d/answered")"
	is "$(comm -23 "$d/answered" "$d/queued" | wc -l)" 0 "$how: every 250 the clients saw is a message Postfix queued"
	wait_qids_recorded "$d/queued" 120
	is "$BAD" "" "$how: every queue id Postfix queued has exactly one row"
	[[ -n $BAD ]] && diag "queue ids with a count other than 1:" "$(head -20 <<<"$BAD")"
	orphans=$(sql "SELECT count(*) FROM auditor.messages
	                WHERE subject LIKE '$tok %' AND $MINE
	                  AND NOT queue_id = ANY ('{$(paste -sd, "$d/queued")}')")
	diag "records of messages Postfix did not queue (committed, then the answer was lost): $orphans"
	ok "$how: the spool's new/ empties" wait_spool_empty 60
	is "$(spool_count "$MAILROOM_SPOOL" tmp)" 0 "$how: no unfinished record is left in tmp/"
	removed=$(log_since "$MR_MILTER_LOG" "$ml_off" | grep -c 'spool: removed unfinished tmp/')
	diag "unfinished records the restarted milter removed from tmp/: $removed"
	if [[ $how == SIGTERM ]]; then
		# Messages in progress when it was told to stop were finished first.
		ok "$how: the milter stopped cleanly" \
			log_has "$MR_MILTER_LOG" "$ml_off" "mailroom-milter\\[$old\\]: stopped; [0-9]+ records left" 1
		is "$(log_since "$MR_MILTER_LOG" "$ml_off" | grep -c "mailroom-milter\\[$old\\]: warning: stopping: .* still in progress")" 0 \
			"$how: no message was left in progress"
		is "$(comm -13 <(printf '%s\n' "$asan_before") <(asan_reports) | grep -c .)" 0 "$how: no sanitizer report"
	fi
}

stop_mid_run SIGKILL
stop_mid_run SIGTERM

done_testing
