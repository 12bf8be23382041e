#!/usr/bin/env bash
# 91-worker-queue.sh - the job queue: every message sorted exactly once.
#
# 1. Two workers (same binary, same configuration, as user mailroom) share
#    the queue while 400 messages arrive through Postfix: each message gets
#    exactly one message_meta row, every job is done after one attempt, and
#    both workers took some.
# 1b. A worker made slow (strace delays its every send to PostgreSQL) claims
#    jobs; a second worker starts in the gap between the slow one counting
#    its attempts and locking its jobs. No job may be counted twice: a
#    message must never be given up for attempts no worker died in.
# 2. A worker killed mid-batch: 300 messages are queued with no worker
#    running, the threading lock is held so that the next worker stops
#    inside its first batch (attempts counted and committed, results not),
#    and that worker gets SIGKILL. Its batch stays pending; a new worker
#    redoes it: every message once, the killed batch after two attempts.
# 3. A job that already used max_attempts is given up ("gave up"), not run.
# 4. A message without a header section, and a metadata record without
#    bytes, fail with their reason in message_meta.parse_error; the message
#    rows stay.
#
# The dev stack's worker is stopped for the test and started again at the
# end. Rows the test inserts itself (3, 4) are deleted at the end.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

WORKER_BIN=$top_builddir/worker/mailroom-worker
[[ -x $WORKER_BIN ]] || bail "$WORKER_BIN not built"
wconf() {
	"$WORKER_BIN" -n -c "$MAILROOM_CONF" | sed -n "s/^worker\.$1 = \(.*\);\$/\1/p"
}
max_attempts=$(wconf max_attempts)
batch=$(wconf batch)
[[ $max_attempts =~ ^[0-9]+$ && $batch =~ ^[0-9]+$ ]] || bail "cannot read the worker's configuration"

# Cleanups run last registered first: our workers go, then the dev worker comes back.
at_exit devsh start worker
at_exit stop_test_workers
devsh stop worker
[[ -n $(stack_workers) ]] && bail "another mailroom-worker of this stack runs: $(ps -o pid=,stat=,args= -p "$(stack_workers | paste -sd,)")"

# --- messages of this test --------------------------------------------------------------

# send_batch LABEL N - N generated messages through Postfix; their record ids
# go to $T_TMP/LABEL.ids once each queue id has exactly one row
send_batch() {
	local label=$1 n=$2
	send --server "$MAILROOM_SMTP" --generate "$n" --parallel 4 --per-conn 25 \
		--token "$(token "$label")" --subject "$(token "$label")" >"$T_TMP/$label.out" 2>>"$T_TMP/smtpsend.err"
	qids "$T_TMP/$label.out" >"$T_TMP/$label.qids"
	is "$(count_code "$T_TMP/$label.out" 250)" "$n" "$label: $n messages answered 250 ($(codes "$T_TMP/$label.out"))"
	wait_qids_recorded "$T_TMP/$label.qids" 60
	is "$BAD" "" "$label: each queue id recorded once"
	sql "SELECT id FROM auditor.messages WHERE $MINE
	       AND queue_id = ANY('{$(paste -sd, "$T_TMP/$label.qids")}'::text[]) ORDER BY id" >"$T_TMP/$label.ids"
}

# ids LABEL - the uuid[] literal of the label's record ids
ids() {
	printf "'{%s}'::uuid[]" "$(paste -sd, "$T_TMP/$1.ids")"
}

# wait_jobs LABEL [TIMEOUT] - until none of the label's jobs is pending; JOBS_PENDING the last count
wait_jobs() {
	local end=$((SECONDS + ${2:-60}))
	while :; do
		JOBS_PENDING=$(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE message_id = ANY($(ids "$1"))
		                            AND state = 'pending'")
		[[ $JOBS_PENDING == 0 ]] && return 0
		((SECONDS >= end)) && return 1
		sleep 0.3
	done
}

# meta_once LABEL - how many of the label's messages do not have exactly one
# message_meta row without a parse error
meta_not_once() {
	sql_admin "SELECT count(*) FROM unnest($(ids "$1")) AS i(id)
	            WHERE (SELECT count(*) FROM mailroom.message_meta mm
	                    WHERE mm.message_id = i.id AND mm.parse_error IS NULL) <> 1"
}

# --- 1. two workers, 400 messages ----------------------------------------------------------
start_worker a
name_a=$W_NAME
start_worker b
name_b=$W_NAME
isnt "$name_a" "$name_b" "two workers with distinct names ($name_a, $name_b)"
send_batch two 400
n=$(wc -l <"$T_TMP/two.ids")
is "$n" 400 "two: 400 records"
wait_jobs two 60
is "$JOBS_PENDING" 0 "two: no job left pending"
is "$(meta_not_once two)" 0 "two: every message has exactly one message_meta row"
is "$(sql_admin "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE attempts = 1)
                   FROM mailroom.jobs WHERE message_id = ANY($(ids two))")" "400|400" \
	"two: every job done after exactly one attempt (none claimed twice)"
is "$(sql_admin "SELECT string_agg(DISTINCT claimed_by, ' ' ORDER BY claimed_by) FROM mailroom.jobs
                   WHERE message_id = ANY($(ids two))")" \
	"$(printf '%s\n' "$name_a" "$name_b" | LC_ALL=C sort | paste -sd' ')" "two: both workers processed some"
diag "two: $(sql_admin "SELECT string_agg(claimed_by || ' ' || n, ', ') FROM (SELECT claimed_by, count(*) AS n
                          FROM mailroom.jobs WHERE message_id = ANY($(ids two)) GROUP BY 1) s")"
stop_test_workers
W_PIDS=()

# --- 1b. a worker slow between counting its attempts and locking its jobs ----------------
# Every send of worker "slow" to PostgreSQL returns 0.4 s late (strace), so
# that the gap between the two steps of a claim is over a second wide. Worker
# "fast" starts inside that gap: it must not count attempts for the jobs the
# slow one claimed.
if command -v strace >/dev/null; then
	start_worker slow
	name_slow=$W_NAME
	pid_slow=$W_PID
	strace -q -f -p "$pid_slow" -e trace=sendto -e inject=sendto:delay_exit=400000 -o /dev/null &
	strace_pid=$!
	at_exit "kill $strace_pid 2>/dev/null"
	sleep 1
	send_batch gap 20
	end=$((SECONDS + 30))
	until [[ $(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE claimed_by = '$name_slow'") -gt 0 ]]; do
		((SECONDS >= end)) && break
		sleep 0.1
	done
	start_worker fast
	sleep 3
	kill "$strace_pid"
	wait "$strace_pid" 2>/dev/null
	wait_jobs gap 60
	is "$JOBS_PENDING" 0 "gap: no job left pending"
	is "$(meta_not_once gap)" 0 "gap: every message has exactly one message_meta row"
	is "$(sql_admin "SELECT count(*) FILTER (WHERE attempts = 1), count(*) FROM mailroom.jobs
	                   WHERE message_id = ANY($(ids gap))")" "20|20" \
		"gap: every job counted one attempt, though a worker claimed while another was between its steps"
	diag "gap: $(sql_admin "SELECT string_agg(claimed_by || ' ' || attempts || ' attempts: ' || n, ', ')
	                          FROM (SELECT claimed_by, attempts, count(*) AS n FROM mailroom.jobs
	                                 WHERE message_id = ANY($(ids gap)) GROUP BY 1, 2) s") (slow: $name_slow)"
	stop_test_workers
	W_PIDS=()
else
	skip "strace not installed" 5
fi

# --- 2. a worker killed in the middle of a batch ----------------------------------------------
send_batch kill 300
is "$(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE message_id = ANY($(ids kill))
                   AND state = 'pending' AND attempts = 0")" 300 "kill: 300 jobs queued while no worker runs"

# Hold the lock threading takes in each message's transaction: the worker
# then waits inside its first batch, its attempts committed, nothing else.
coproc LOCKER { psql -X -q -A -t -U postgres -v ON_ERROR_STOP=1 2>&1; }
locker_pid=$LOCKER_PID # bash unsets LOCKER_PID once the coprocess has ended
printf "SELECT pg_advisory_lock(hashtext('mailroom.threading'));\nSELECT 'locked';\n" >&"${LOCKER[1]}"
locked=
while read -r -t 10 line <&"${LOCKER[0]}"; do
	[[ $line == locked ]] && locked=1 && break
done
[[ -n $locked ]] || bail "could not take the threading lock"

start_worker killed
name_k=$W_NAME
pid_k=$W_PID
end=$((SECONDS + 30))
until [[ $(sql_admin "SELECT count(*) FROM pg_stat_activity WHERE usename = 'mailroom_worker'
                        AND wait_event_type = 'Lock' AND wait_event = 'advisory'") -ge 1 ]]; do
	((SECONDS >= end)) && break
	sleep 0.2
done
# Its batch may hold older jobs than ours (mail of others while no worker ran).
claimed=$(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE claimed_by = '$name_k'")
cmp_ok "$claimed" '>' 0 "kill: the worker claimed a batch ($claimed jobs) and waits inside it"
cmp_ok "$claimed" '<=' "$batch" "kill: one batch is at most worker.batch ($batch) jobs"
kill -KILL "$pid_k"
sql_admin "SELECT message_id FROM mailroom.jobs WHERE claimed_by = '$name_k' ORDER BY 1" >"$T_TMP/killed.ids"
mine_killed=$(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE claimed_by = '$name_k'
                           AND message_id = ANY($(ids kill))")
diag "kill: $mine_killed of the killed batch are this test's messages"
is "$(sql_admin "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 1), count(*)
                   FROM mailroom.jobs WHERE message_id = ANY($(ids killed))")" "$claimed|$claimed" \
	"kill: after SIGKILL its batch is still pending, one attempt counted"
is "$(sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE message_id = ANY($(ids killed))")" 0 \
	"kill: nothing of the killed batch was stored"
# Our connection ends and takes the lock with it; so does the dead worker's.
printf '\\q\n' >&"${LOCKER[1]}"
wait "$locker_pid" 2>/dev/null

start_worker again
name_again=$W_NAME
wait_jobs kill 60
is "$JOBS_PENDING" 0 "kill: after a restart no job is left pending"
is "$(meta_not_once kill)" 0 "kill: every message has exactly one message_meta row"
is "$(sql_admin "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE attempts = 1)
                   FROM mailroom.jobs WHERE message_id = ANY($(ids kill))
                    AND NOT message_id = ANY($(ids killed))")" "$((300 - mine_killed))|$((300 - mine_killed))" \
	"kill: the jobs the killed worker had not claimed are done after one attempt"
is "$(sql_admin "SELECT count(*) FROM mailroom.jobs WHERE message_id = ANY($(ids killed))
                   AND state = 'done' AND attempts = 2 AND claimed_by = '$name_again'")" "$claimed" \
	"kill: the killed batch was redone by the new worker, on its second attempt"

# --- 3 and 4. rows inserted directly -----------------------------------------------------------
GW=91-worker-queue.invalid
cleanup_rows() {
	sql_admin "DELETE FROM mailroom.message_meta WHERE message_id IN
	             (SELECT id FROM mailroom.messages WHERE gateway = '$GW' AND received_at >= '$T_SINCE');
	           DELETE FROM mailroom.jobs WHERE message_id IN
	             (SELECT id FROM mailroom.messages WHERE gateway = '$GW' AND received_at >= '$T_SINCE');
	           DELETE FROM mailroom.messages WHERE gateway = '$GW' AND received_at >= '$T_SINCE'"
}
at_exit cleanup_rows

# insert_message ID POLICY RAW-SQL [ATTEMPTS] - a message row (and through the
# trigger its job) as the milter would write it; the job's attempts set in the
# same transaction, before any worker can see it
insert_message() {
	sql_admin "BEGIN;
	  INSERT INTO mailroom.messages (id, received_at, gateway, direction, record_policy, envelope_from,
	                                 envelope_to, envelope_to_args, size_bytes, sha256, raw)
	  SELECT '$1', now(), '$GW', 'inbound', '$2', 'sender@test.invalid', '{info@example.com}', '{\"\"}',
	         coalesce(length(r), 0), sha256(coalesce(r, '')), r FROM (SELECT $3::bytea AS r) s;
	  UPDATE mailroom.jobs SET attempts = ${4:-0} WHERE message_id = '$1';
	  COMMIT;"
}
id_poison=$(cat /proc/sys/kernel/random/uuid)
id_garbage=$(cat /proc/sys/kernel/random/uuid)
id_nobytes=$(cat /proc/sys/kernel/random/uuid)
printf '%s\n' "$id_poison" "$id_garbage" "$id_nobytes" >"$T_TMP/direct.ids"
insert_message "$id_poison" full \
	"convert_to(E'From: a@test.invalid\\r\\nSubject: poison\\r\\n\\r\\nfine body\\r\\n', 'UTF8')" "$max_attempts"
insert_message "$id_garbage" full "convert_to(E'this is not a mail message\\r\\n', 'UTF8')"
insert_message "$id_nobytes" metadata NULL
wait_jobs direct 30
is "$JOBS_PENDING" 0 "direct: the three inserted jobs are finished"

row=$(sql_admin "SELECT state, attempts, last_error FROM mailroom.jobs WHERE message_id = '$id_poison'")
like "$row" "^failed\|$((max_attempts + 1))\|gave up" \
	"poison: a job with $max_attempts attempts used is failed with 'gave up', not run again"
is "$(sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE message_id = '$id_poison'")" 0 \
	"poison: the given-up message was not processed"

row=$(sql_admin "SELECT j.state, j.last_error, mm.parse_error FROM mailroom.jobs j
                  LEFT JOIN mailroom.message_meta mm USING (message_id) WHERE j.message_id = '$id_garbage'")
is "$row" "failed|unparseable: no header section|unparseable: no header section" \
	"garbage: bytes without a header section fail with the reason in parse_error"
row=$(sql_admin "SELECT j.state, j.last_error, mm.parse_error FROM mailroom.jobs j
                  LEFT JOIN mailroom.message_meta mm USING (message_id) WHERE j.message_id = '$id_nobytes'")
is "$row" "failed|no stored bytes (record policy metadata)|no stored bytes (record policy metadata)" \
	"no bytes: a metadata record without raw fails with the reason in parse_error"
is "$(sql_admin "SELECT count(*) FROM mailroom.messages WHERE id = ANY($(ids direct))")" 3 \
	"direct: the message rows stay"

done_testing
