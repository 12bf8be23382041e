#!/usr/bin/env bash
# bench/llm.sh - does a slow LLM slow the worker down? Job throughput with the
# LLM off and on (tests/tools/fake-openai.py answering every request after
# 500 ms, concurrency 64), as a ratio in the same run, and how many requests
# were in flight at once.
#
# Runs as root beside the development stack (`./dev.sh up` first). The
# stack's worker is stopped; the bench runs its own worker (the stack's
# binary, as user mailroom) with a configuration derived from the stack's.
#
#   off:  N messages through Postfix (queued, the worker stopped), then a
#         worker with the LLM off drains them: messages per second.
#         The N messages then get a level and a confidence below the
#         threshold, as if rules and model were unsure of them, and are
#         queued as the worker queues such a message: the LLM backlog of
#         the next run.
#   on:   N new messages queued; a worker with the LLM on drains them
#         while it asks the fake about the backlog (64 at a time, 500 ms
#         each). Sampled every 0.2 s in both kinds of run (the same
#         queries, so that sampling costs both alike): requests in state
#         "sent" (the worker's view); also the fake's own high-water mark.
#   The pair runs BENCH_LLM_ROUNDS times, alternating, for drift on a
#   shared machine. Printed: msgs/s, CPU per message of the worker and of
#   its PostgreSQL backend (from /proc: preemption by other work does not
#   inflate it) and the load average of each run, then the medians and
#   the median of the per-round ratios on / off. Before each drain
#   Postfix's queue is empty (its deliveries done).
#
# The fake runs at the lowest CPU priority (nice 19): a real endpoint runs
# on other machines, and its 64 waiting threads should not be counted as
# the worker's cost; they sleep, but parsing and answering take CPU.
#
# Environment: BENCH_LLM_MESSAGES [1500], BENCH_LLM_DELAY [0.5] seconds,
# BENCH_LLM_WORKER_BIN [the stack's worker/mailroom-worker],
# BENCH_LLM_CONCURRENCY [64], BENCH_LLM_ROUNDS [3], BENCH_LLM_NICE [19],
# BENCH_RESULTS [.run/bench/results].
# Results: printed and kept in $BENCH_RESULTS/llm-<UTC time>/. The stack's
# worker runs again at the end; LLM rows left pending are marked skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
N=${BENCH_LLM_MESSAGES:-1500}
DELAY=${BENCH_LLM_DELAY:-0.5}
CONC=${BENCH_LLM_CONCURRENCY:-64}
ROUNDS=${BENCH_LLM_ROUNDS:-3}
NICE=${BENCH_LLM_NICE:-19}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=${BENCH_RESULTS:-$ROOT/.run/bench/results}/llm-$STAMP
eval "$("$ROOT/dev.sh" env)"
export PGHOST PGPORT PGDATABASE
WORKER_BIN=${BENCH_LLM_WORKER_BIN:-$ROOT/worker/mailroom-worker}
mkdir -p "$RES"
chmod 0755 "$RES"

say() { printf '%s\n' "$*" | tee -a "$RES/summary.txt"; }
# q SQL - one value, as the superuser
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -c "$1"; }

T_START=$(q "SELECT now()")

# --- the fake and the two configurations ---------------------------------------
KEY=bench-$STAMP
printf '%s\n' "$KEY" >"$RES/api-key"
chmod 0644 "$RES/api-key"
nice -n "$NICE" python3 "$ROOT/tests/tools/fake-openai.py" --api-key "$KEY" --delay "$DELAY" --port-file "$RES/port" \
	>"$RES/fake.out" 2>"$RES/fake.err" &
FAKE_PID=$!
WPID=
cleanup() {
	[[ -n $WPID ]] && kill -TERM "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	kill "$FAKE_PID" 2>/dev/null || true
	q "UPDATE mailroom.llm_requests SET state = 'skipped', error = 'left by bench/llm.sh'
	   WHERE state IN ('pending', 'sent') AND enqueued_at >= '$T_START'" >/dev/null || true
	"$ROOT/dev.sh" start worker >/dev/null 2>&1 || echo "bench/llm.sh: could not restart the stack's worker" >&2
}
trap cleanup EXIT
for _ in $(seq 50); do [[ -s $RES/port ]] && break; sleep 0.1; done
FAKE_URL=http://127.0.0.1:$(cat "$RES/port")
curl -sS -X POST -d '{"mode": "slow"}' "$FAKE_URL/control" >/dev/null

# conf_with GROUP - the stack's config with GROUP inside worker = { }
conf_with() {
	awk -v group="$1" '/^worker = \{/ { sec = 1 } sec && /^\};/ { printf "%s", group; sec = 0 } { print }' \
		"$MAILROOM_CONF"
}
conf_with '  name = "bench-llm";
' >"$RES/off.conf"
conf_with "  name = \"bench-llm\";
  llm = {
    enabled = true;
    base_url = \"$FAKE_URL/v1\";
    model = \"bench\";
    api_key_file = \"$RES/api-key\";
    concurrency = $CONC;
    daily_budget = 100000000;
    ask_below_confidence = 0.01;
    timeout_ms = 30000;
  };
" >"$RES/on.conf"
chmod 0644 "$RES"/*.conf

"$ROOT/dev.sh" stop worker >/dev/null 2>&1

# queue TOKEN - N messages through Postfix; wait until all are recorded with pending jobs
queue() {
	local before end
	before=$(q "SELECT count(*) FROM mailroom.jobs WHERE state = 'pending'")
	python3 "$ROOT/tests/tools/smtpsend.py" --server "$MAILROOM_SMTP" --from bob@customer.test \
		--to info@example.com --generate "$N" --size 2048 --subject "bench $1" --token "$1" \
		--parallel 4 --per-conn 50 >"$RES/send-$1.txt"
	end=$((SECONDS + 300))
	while (($(q "SELECT count(*) FROM mailroom.jobs WHERE state = 'pending'") < before + N)); do
		((SECONDS < end)) || { echo "bench/llm.sh: messages of $1 were not all recorded" >&2; exit 1; }
		sleep 0.5
	done
	# Postfix's local deliveries of these messages would compete with the worker
	local qdir
	qdir=$(postconf -c "$MAILROOM_POSTFIX_CONF" -h queue_directory)
	end=$((SECONDS + 300))
	while [[ -n $(find "$qdir"/{incoming,active,deferred,maildrop} -type f 2>/dev/null | head -1) ]]; do
		((SECONDS < end)) || break
		sleep 0.5
	done
}

# drain LABEL CONF - start a worker on CONF, time it until no job is pending;
# samples llm requests in flight; sets RATE, MAXSENT, CPU and PGCPU (ms per
# message of the worker and of its PostgreSQL backend) and LOAD
drain() {
	local t0 t1 sent ticks pgticks pid
	MAXSENT=0
	t0=$(date +%s.%N)
	setpriv --reuid=mailroom --regid=mailroom --init-groups -- "$WORKER_BIN" -c "$2" -f \
		</dev/null >>"$RES/worker-$1.log" 2>&1 &
	WPID=$!
	while (($(q "SELECT count(*) FROM mailroom.jobs WHERE state = 'pending'") > 0)); do
		sent=$(q "SELECT count(*) FROM mailroom.llm_requests WHERE state = 'sent'")
		((sent > MAXSENT)) && MAXSENT=$sent
		sleep 0.2
	done
	t1=$(date +%s.%N)
	# utime + stime of the worker (setpriv execs it: same pid), in clock ticks
	ticks=$(awk '{ print $14 + $15 }' "/proc/$WPID/stat" 2>/dev/null || echo 0)
	pgticks=0
	for pid in $(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'mailroom-worker'"); do
		pgticks=$((pgticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
	done
	LOAD=$(cut -d' ' -f1 /proc/loadavg)
	RATE=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	CPU=$(awk -v n="$N" -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')
	PGCPU=$(awk -v n="$N" -v t="$pgticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')
}

stop_worker() {
	kill -TERM "$WPID"
	wait "$WPID" || true
	WPID=
}

say "bench/llm.sh $STAMP: $N messages per run, $ROUNDS rounds, fake delay ${DELAY}s (nice $NICE), concurrency $CONC"
say "commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# run_on LABEL - queue N messages and drain them with the LLM on; sets RATE
run_on() {
	local t_b t_b_end fake_max answered
	queue "$1-$STAMP"
	curl -sS -X POST -d '{}' "$FAKE_URL/reset" >/dev/null
	curl -sS -X POST -d '{"mode": "slow"}' "$FAKE_URL/control" >/dev/null
	t_b=$(q "SELECT now()")
	drain "$1" "$RES/on.conf"
	t_b_end=$(q "SELECT now()")
	fake_max=$(curl -sS "$FAKE_URL/requests" | python3 -c 'import json, sys; print(json.load(sys.stdin)["max_in_flight"])')
	answered=$(q "SELECT count(*) FROM mailroom.llm_requests
	              WHERE state = 'done' AND done_at BETWEEN '$t_b' AND '$t_b_end'")
	stop_worker
	say "$1: $RATE msgs/s, CPU per message: worker $CPU ms, PostgreSQL $PGCPU ms; load $LOAD; LLM answers applied meanwhile: $answered; in flight at most: $MAXSENT (worker's rows), $fake_max (fake)"
}

# run_off LABEL - queue N messages and drain them with the LLM off; they become LLM backlog
run_off() {
	local t_a
	t_a=$(q "SELECT now()")
	queue "$1-$STAMP"
	drain "$1" "$RES/off.conf"
	stop_worker
	say "$1: $RATE msgs/s, CPU per message: worker $CPU ms, PostgreSQL $PGCPU ms; load $LOAD"
	q "UPDATE mailroom.message_meta SET priority_level = 'normal', priority_confidence = 0.001
	   WHERE parsed_at >= '$t_a' AND subject LIKE 'bench $1-$STAMP %';
	   INSERT INTO mailroom.llm_requests (message_id) SELECT message_id FROM mailroom.message_meta
	   WHERE parsed_at >= '$t_a' AND subject LIKE 'bench $1-$STAMP %' ON CONFLICT DO NOTHING" >/dev/null
}

# median - the median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

OFFS=() ONS=() RATIOS=() CPU_OFFS=() CPU_ONS=() PG_OFFS=() PG_ONS=()
for r in $(seq "$ROUNDS"); do
	run_off "off$r"
	OFFS+=("$RATE") CPU_OFFS+=("$CPU") PG_OFFS+=("$PGCPU")
	run_on "on$r"
	ONS+=("$RATE") CPU_ONS+=("$CPU") PG_ONS+=("$PGCPU")
	RATIOS+=("$(awk -v a="${ONS[-1]}" -v b="${OFFS[-1]}" 'BEGIN { printf "%.2f", a / b }')")
done
say "median msgs/s: off $(printf '%s\n' "${OFFS[@]}" | median), on $(printf '%s\n' "${ONS[@]}" | median)"
say "median CPU ms per message: worker off $(printf '%s\n' "${CPU_OFFS[@]}" | median), on $(printf '%s\n' "${CPU_ONS[@]}" | median); PostgreSQL off $(printf '%s\n' "${PG_OFFS[@]}" | median), on $(printf '%s\n' "${PG_ONS[@]}" | median)"
say "ratios on / off per round: ${RATIOS[*]}; median $(printf '%s\n' "${RATIOS[@]}" | median)"
say "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
