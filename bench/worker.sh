#!/usr/bin/env bash
# bench/worker.sh - mailroom-worker end to end: messages per second with
# PostgreSQL (parse, classify, thread, store), and how far it lags behind
# the gateway under load.
#
# Runs as root beside the development stack (`./dev.sh up` first) and uses
# it: its Postfix (inbound 127.0.0.1:2525), milter, PostgreSQL and worker
# binary. It measures and prints; it asserts nothing about speed.
#
#   1. Backlog. The stack's worker is stopped. BENCH_WORKER_MESSAGES
#      messages go to info@example.com through Postfix: the first files of
#      ../shared/corpus/lists (list mail, mostly replies), each run with its
#      own suffix on every message-id and subject so that threading starts
#      from nothing, or generated small messages when the corpus is absent
#      (BENCH_WORKER_SOURCE=generate forces them). Once every one is recorded
#      (its job pending), N workers (each N of BENCH_WORKER_COUNTS) start
#      with -1 as user mailroom and exit when the queue is empty. Printed:
#      wall time, jobs done, msgs/s, CPU seconds per message of the workers
#      and of PostgreSQL (its backends and the postmaster's reaped children,
#      from /proc), and the machine's CPU use.
#   2. Lag (BENCH_WORKER_LAG messages; 0 skips). The stack's worker runs.
#      smtp-source sends the gateway benchmark's load (BENCH_WORKER_LAG
#      messages of 4096 bytes over 20 connections) to info@example.com. For
#      each message recorded: worker lag = jobs.done_at - ingested_at (how
#      long it waited in the queue and was processed), end to end =
#      done_at - received_at; p50, p95, max, the deepest queue (sampled
#      every 0.5 s) and the time until the queue was empty.
#   3. BENCH_PERF=1: part 1 once more with one worker under
#      `perf record -e cpu-clock -a -g` (not counted): CPU shares by command
#      and the worker's top functions.
#
# Environment (defaults in brackets):
#   BENCH_WORKER_MESSAGES [5000]   messages per backlog run
#   BENCH_WORKER_COUNTS ["1 2"]    workers per backlog run, one run each
#   BENCH_WORKER_SOURCE [corpus]   corpus or generate
#   BENCH_WORKER_LAG [3000]        messages of the lag run (0: skip)
#   BENCH_PERF [0]                 1: the profile of part 3
#   BENCH_QUIET_WAIT [60]          before each run, wait up to this many
#                                  seconds for the machine to be idle (the
#                                  stack's logs unchanged, CPUs < 15 % busy)
#   BENCH_RESULTS [.run/bench/results]  where the results folder goes
#   BENCH_WORKER_BIN [worker/mailroom-worker]  the worker binary measured
#   BENCH_WORKER_BASELINE []       another mailroom-worker binary (say, one
#                                  built from an earlier commit, without
#                                  sanitizers): each backlog run is then done
#                                  BENCH_WORKER_ROUNDS times with the baseline
#                                  ("base-wN") and with this tree's worker
#                                  ("wN") in turn, and the ratios of their CPU
#                                  per message and rates are printed
#   BENCH_WORKER_ROUNDS [3]        rounds of that comparison
#   BENCH_WORKER_BASELINE_CONF [$MAILROOM_CONF]  the configuration the
#                                  baseline reads (an older worker refuses
#                                  settings added since: give it the stack's
#                                  file without them)
#
# Results: printed, and kept in $BENCH_RESULTS/worker-<UTC time>/. The
# messages stay in the database and in the info@ Maildir like any others.
# The stack's worker is running again at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUN=$ROOT/.run
MESSAGES=${BENCH_WORKER_MESSAGES:-5000}
COUNTS=${BENCH_WORKER_COUNTS:-1 2}
SOURCE=${BENCH_WORKER_SOURCE:-corpus}
LAG=${BENCH_WORKER_LAG:-3000}
PERF=${BENCH_PERF:-0}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
CORPUS=$ROOT/../shared/corpus/lists
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=${BENCH_RESULTS:-$RUN/bench/results}/worker-$STAMP
WORKER=$RES/mailroom-worker
RCPT=info@example.com
BASELINE=${BENCH_WORKER_BASELINE:-}
BASELINE_CONF=${BENCH_WORKER_BASELINE_CONF:-$MAILROOM_CONF}
WORKER_SRC=${BENCH_WORKER_BIN:-$ROOT/worker/mailroom-worker}
ROUNDS=${BENCH_WORKER_ROUNDS:-3}
TICK=$(getconf CLK_TCK)

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'worker.sh: error: %s\n' "$*" >&2
	exit 1
}

# --- checks and set-up ----------------------------------------------------------

[[ $(id -u) -eq 0 ]] || die "run as root (it stops and starts the stack's worker)"
for n in MESSAGES LAG PERF QUIET_WAIT; do
	[[ ${!n} =~ ^[0-9]+$ ]] || die "BENCH_WORKER_$n must be a number"
done
for n in $COUNTS; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_WORKER_COUNTS: '$n' is not a count of workers"
done
[[ $SOURCE == corpus || $SOURCE == generate ]] || die "BENCH_WORKER_SOURCE must be corpus or generate"
[[ $SOURCE == generate || -d $CORPUS ]] || SOURCE=generate
eval "$("$ROOT/dev.sh" env)"
[[ -x $WORKER_SRC ]] || die "$WORKER_SRC is not built"
if grep -q -a -e __asan_init -e __ubsan_handle "$WORKER_SRC"; then
	die "$WORKER_SRC was built with sanitizers: build without them first (or give BENCH_WORKER_BIN)"
fi
psql -X -q -At -U postgres -c 'select 1' >/dev/null || die "PostgreSQL does not answer (./dev.sh up)"
postfix -c "$MAILROOM_POSTFIX_CONF" status >/dev/null 2>&1 || die "the stack's Postfix is not running"
((LAG == 0)) || command -v smtp-source >/dev/null || die "smtp-source not found (Debian package postfix)"
mkdir -p "$RES"
# A copy: a rebuild of the tree during the run cannot swap the binary under us.
install -m 0755 "$WORKER_SRC" "$WORKER"
CANDIDATE=$WORKER
if [[ -n $BASELINE ]]; then
	[[ -x $BASELINE ]] || die "BENCH_WORKER_BASELINE: $BASELINE is not an executable"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WORKER_ROUNDS: '$ROUNDS' is not a count"
	install -m 0755 "$BASELINE" "$RES/mailroom-worker.baseline"
	BASELINE=$RES/mailroom-worker.baseline
	install -m 0644 "$BASELINE_CONF" "$RES/mailroom.conf.baseline"
	BASELINE_CONF=$RES/mailroom.conf.baseline
	"$BASELINE" -n -c "$BASELINE_CONF" >/dev/null || die "the baseline refuses $BASELINE_CONF (BENCH_WORKER_BASELINE_CONF)"
fi
WCONF=$MAILROOM_CONF
exec > >(tee "$RES/summary.txt") 2>&1

sqla() { psql -X -q -At -U postgres -v ON_ERROR_STOP=1 -c "$1"; }
GATEWAY=$("$ROOT/milter/mailroom-milter" -n -c "$MAILROOM_CONF" | sed -n 's/^milter\.gateway_name = "\(.*\)";$/\1/p')
PG_PM=$(head -n 1 "$PGDATA/postmaster.pid")

restore_worker() {
	"$ROOT/dev.sh" start worker >/dev/null 2>&1 || echo "worker.sh: could not start the stack's worker" >&2
}
trap restore_worker EXIT

echo "machine:   $(nproc) CPUs, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "software:  $(psql -X -At -U postgres -c 'show server_version') PostgreSQL, $(postconf -d -h mail_version) Postfix, GMime $(pkg-config --modversion gmime-3.0)"
src=$(git -C "$ROOT" log -1 --format='commit %h, %cI' 2>/dev/null || echo "not a git checkout")
git -C "$ROOT" diff --quiet HEAD -- worker lib 2>/dev/null || src+=", with uncommitted changes in worker/ lib/"
echo "worker:    $src; CFLAGS $(sed -n 's/^CFLAGS = //p' "$ROOT/Makefile"); $("$WORKER" -n -c "$MAILROOM_CONF" | grep -E '^worker\.(batch|poll_ms)' | tr -d ';\n' | sed 's/worker\./ /g')"

# --- measuring helpers -----------------------------------------------------------

# cpu_snapshot - "busy total" jiffies of the whole machine
cpu_snapshot() {
	awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat
}

# pg_ticks - CPU ticks PostgreSQL used so far: the postmaster and its live
# children, plus the children it has reaped (field cutime/cstime)
pg_ticks() {
	local total=0 p stat
	for p in /proc/[0-9]*; do
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		# fields after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
		read -r -a f <<<"$stat"
		if [[ ${p#/proc/} == "$PG_PM" ]]; then
			total=$((total + f[11] + f[12] + f[13] + f[14]))
		elif [[ ${f[1]} == "$PG_PM" ]]; then
			total=$((total + f[11] + f[12]))
		fi
	done
	echo "$total"
}

# dev_activity - bytes in the stack's logs: grows when others use the machine
dev_activity() {
	cat "$MAILROOM_LOGDIR"/*.log 2>/dev/null | wc -c
}

# wait_quiet - up to QUIET_WAIT s until the logs have not grown and the CPUs
# were under 15 % busy for 3 s
wait_quiet() {
	local a b c0 c1 busy0 total0 busy1 total1 still=0 i
	a=$(dev_activity)
	c0=$(cpu_snapshot)
	for ((i = 0; i < QUIET_WAIT * 2 && still < 6; i++)); do
		sleep 0.5
		b=$(dev_activity)
		c1=$(cpu_snapshot)
		read -r busy0 total0 <<<"$c0"
		read -r busy1 total1 <<<"$c1"
		c0=$c1
		if [[ $b == "$a" ]] && ((100 * (busy1 - busy0) < 15 * (total1 - total0))); then
			still=$((still + 1))
		else
			still=0
			a=$b
		fi
	done
	((still >= 6)) || echo "  (the machine was not quiet after ${QUIET_WAIT} s; numbers may be disturbed)"
}

# pending - jobs pending in the whole queue
pending() {
	sqla "SELECT count(*) FROM mailroom.jobs WHERE state = 'pending'"
}

# prepare_corpus SUFFIX - copies of the first MESSAGES files of the corpus,
# every message-id and the subject with SUFFIX, listed in $RES/files
prepare_corpus() {
	local dir=$RES/mail$1
	find "$CORPUS" -type f | LC_ALL=C sort | awk -v n="$MESSAGES" 'NR <= n' >"$RES/originals"
	python3 - "$CORPUS" "$dir" "$1" "$RES/originals" >"$RES/files" <<'PY'
import os
import re
import sys

src, dst, suffix, listing = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4]
FIELD = re.compile(rb"^(message-id|in-reply-to|references)[ \t]*:", re.I)
SUBJECT = re.compile(rb"^subject[ \t]*:", re.I)
MSGID = re.compile(rb"<([^<>]*)>")
for path in open(listing, encoding="utf-8").read().splitlines():
    data = open(path, "rb").read()
    m = re.search(rb"\r?\n\r?\n", data)
    head, body = (data[:m.start()], data[m.start():]) if m else (data, b"")
    lines, inside, in_subject, subject_end = [], False, False, None
    for line in head.split(b"\n"):
        if line[:1] not in (b" ", b"\t"):
            inside = bool(FIELD.match(line))
            in_subject = bool(SUBJECT.match(line))
        if inside:
            line = MSGID.sub(lambda g: b"<" + g.group(1) + suffix + b">", line)
        lines.append(line)
        if in_subject:
            subject_end = len(lines) - 1
    if subject_end is not None:
        line = lines[subject_end]
        cr = line.endswith(b"\r")
        lines[subject_end] = line.rstrip(b"\r") + b" " + suffix.lstrip(b".") + (b"\r" if cr else b"")
    out = os.path.join(dst, os.path.relpath(path, src))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(b"\n".join(lines) + body)
    print(out)
PY
}

# enqueue LABEL - send MESSAGES messages with the stack's worker stopped and
# wait until each is recorded; prints nothing, leaves $RES/LABEL.out
enqueue() {
	local label=$1 t0 since n end
	since=$(date -u +'%Y-%m-%d %H:%M:%S.%6N+00')
	t0=$(date +%s.%N)
	if [[ $SOURCE == corpus ]]; then
		prepare_corpus ".$label-$STAMP"
		tr '\n' '\0' <"$RES/files" | xargs -0 python3 "$ROOT/tests/tools/smtpsend.py" --server "$MAILROOM_SMTP" \
			--from bench@sender.test --to "$RCPT" --parallel 4 --per-conn 50 >"$RES/$label.out" 2>>"$RES/smtpsend.err"
		rm -rf "$RES/mail.$label-$STAMP"
	else
		python3 "$ROOT/tests/tools/smtpsend.py" --server "$MAILROOM_SMTP" --from bench@sender.test --to "$RCPT" \
			--generate "$MESSAGES" --size 4096 --token "$label-$STAMP" --subject "bench $label $STAMP" \
			--parallel 4 --per-conn 50 >"$RES/$label.out" 2>>"$RES/smtpsend.err"
	fi
	n=$(awk -F'\t' '$2 == 250' "$RES/$label.out" | wc -l)
	end=$((SECONDS + 300))
	while (($(sqla "SELECT count(*) FROM mailroom.messages WHERE gateway = '$GATEWAY'
	                  AND received_at >= '$since'") < n)); do
		((SECONDS < end)) || die "$label: the gateway did not record $n messages within 300 s"
		sleep 1
	done
	printf '  %s: %d messages answered 250 and recorded in %.0f s; queue now %d pending\n' "$label" "$n" \
		"$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$(pending)"
}

# drain LABEL N - N workers with -1 until the queue is empty; one result line
drain() {
	local label=$1 n=$2 i before t0 t1 c0 c1 p0 p1 done_jobs wall pids=() names busy0 total0 busy1 total1
	before=$(pending)
	# What the workers' backends wait for, every 0.5 s: "advisory" is the
	# threading lock, held from a batch's first message to its commit.
	(while :; do
		sqla "SELECT count(*) FILTER (WHERE wait_event = 'advisory'), count(*) FROM pg_stat_activity
		       WHERE usename = 'mailroom_worker' AND backend_type = 'client backend'"
		sleep 0.5
	done) >"$RES/$label-waits.txt" 2>/dev/null &
	local sampler=$!
	c0=$(cpu_snapshot)
	p0=$(pg_ticks)
	t0=$(date +%s.%N)
	for ((i = 1; i <= n; i++)); do
		/usr/bin/time -f '%U %S %M' -o "$RES/$label-w$i.time" \
			runuser -u mailroom -- "$WORKER" -c "$WCONF" -1 >"$RES/$label-w$i.log" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	t1=$(date +%s.%N)
	p1=$(pg_ticks)
	c1=$(cpu_snapshot)
	kill "$sampler"
	wait "$sampler" 2>/dev/null || true
	names=$(sed -n 's/.*started as //p' "$RES/$label"-w*.log | sed "s/.*/'&'/" | paste -sd,)
	done_jobs=$(sqla "SELECT count(*) FROM mailroom.jobs WHERE claimed_by IN (${names:-''}) AND state <> 'pending'")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	read -r busy0 total0 <<<"$c0"
	read -r busy1 total1 <<<"$c1"
	awk -v label="$label" -v n="$n" -v before="$before" -v jobs="$done_jobs" -v wall="$wall" \
		-v wcpu="$(cat "$RES/$label"-w*.time | awk '{ s += $1 + $2 } END { print s }')" \
		-v rss="$(cat "$RES/$label"-w*.time | awk '{ if ($3 > m) m = $3 } END { print m }')" \
		-v pg="$((p1 - p0))" -v tick="$TICK" -v busy="$((busy1 - busy0))" -v total="$((total1 - total0))" \
		-v cpus="$(nproc)" 'BEGIN {
		pgs = pg / tick
		printf "  %s: %d worker(s), %d queued, %d done in %.2f s: %.0f msgs/s; CPU per message: worker %.2f ms, PostgreSQL %.2f ms; machine %.0f %% busy of %d CPUs; worker max RSS %d MB\n",
			label, n, before, jobs, wall, jobs / wall, 1000 * wcpu / jobs, 1000 * pgs / jobs, 100 * busy / total, cpus, rss / 1024
	}'
	awk -F'|' '$2 > 0 { s++; w += $1; c += $2 } END {
		if (s) printf "    backends of the workers: %.2f connected on average, %.2f of them waiting for the threading lock\n", c / s, w / s
	}' "$RES/$label-waits.txt"
	printf '%s,%s,%s,%s,%s\n' "$label" "$n" "$done_jobs" "$wall" "$(cat "$RES/$label"-w*.log | grep -c warning)" >>"$RES/backlog.csv"
	if [[ -f $RES/compare.csv ]] && ((done_jobs > 0)); then
		awk -v label="$label" -v jobs="$done_jobs" -v wall="$wall" -v pg="$((p1 - p0))" -v tick="$TICK" \
			-v wcpu="$(cat "$RES/$label"-w*.time | awk '{ s += $1 + $2 } END { print s }')" \
			'BEGIN { printf "%s,,%d,%s,%.4f,%.4f\n", label, jobs, wall, 1000 * wcpu / jobs, 1000 * pg / tick / jobs }' >>"$RES/compare.csv"
	fi
	if grep -q -h 'warning' "$RES/$label"-w*.log; then
		echo "    warnings: $(grep -h warning "$RES/$label"-w*.log | head -3 | sed 's/.*warning: //' | paste -sd';')"
	fi
}

# --- 1. backlog -----------------------------------------------------------------------
say "1. backlog: $MESSAGES messages ($SOURCE) per run, workers: $COUNTS"
"$ROOT/dev.sh" stop worker >/dev/null
# Only this stack's workers would take its jobs; other checkouts' have their own databases.
pgrep -f "mailroom-worker -c $MAILROOM_CONF( |\$)" >/dev/null &&
	die "another mailroom-worker of this stack runs: $(pgrep -a -f "mailroom-worker -c $MAILROOM_CONF( |\$)")"
if (($(pending) > 0)); then
	say "draining $(pending) jobs left in the queue first"
	runuser -u mailroom -- "$WORKER" -c "$MAILROOM_CONF" -1 >"$RES/pre-drain.log" 2>&1 || true
fi
echo "label,workers,jobs,seconds,warnings" >"$RES/backlog.csv"
if [[ -z $BASELINE ]]; then
	for n in $COUNTS; do
		wait_quiet
		enqueue "w$n"
		drain "w$n" "$n"
	done
else
	echo "  baseline: $BASELINE ($(stat -c %s "$BASELINE") bytes), $ROUNDS rounds, baseline and this tree in turn"
	echo "label,round,jobs,seconds,worker_cpu_ms,pg_cpu_ms" >"$RES/compare.csv"
	for n in $COUNTS; do
		for ((r = 1; r <= ROUNDS; r++)); do
			for which in base new; do
				[[ $which == base ]] && WORKER=$BASELINE WCONF=$BASELINE_CONF || WORKER=$CANDIDATE WCONF=$MAILROOM_CONF
				label=$([[ $which == base ]] && echo "base-w$n-r$r" || echo "w$n-r$r")
				wait_quiet
				enqueue "$label"
				drain "$label" "$n"
			done
		done
		WORKER=$CANDIDATE WCONF=$MAILROOM_CONF
		# The medians of both sides and their ratio: CPU per message of the
		# workers, of PostgreSQL, of both, and msgs/s.
		awk -F, -v n="$n" '$1 ~ "^(base-)?w" n "-r" {
			side = ($1 ~ /^base-/) ? "base" : "new"
			k[side]++; rate[side, k[side]] = $3 / $4; w[side, k[side]] = $5; p[side, k[side]] = $6
			t[side, k[side]] = $5 + $6
		}
		function med(a, s, m,   i, j, v, x) {
			for (i = 1; i <= m; i++) v[i] = a[s, i]
			for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
		}
		END {
			if (!k["base"] || !k["new"]) exit
			printf "  %d worker(s), medians of %d rounds: baseline %.0f msgs/s, worker %.3f ms + PostgreSQL %.3f ms = %.3f ms CPU per message\n", n, k["base"], med(rate, "base", k["base"]), med(w, "base", k["base"]), med(p, "base", k["base"]), med(t, "base", k["base"])
			printf "  %d worker(s), medians of %d rounds: this tree %.0f msgs/s, worker %.3f ms + PostgreSQL %.3f ms = %.3f ms CPU per message\n", n, k["new"], med(rate, "new", k["new"]), med(w, "new", k["new"]), med(p, "new", k["new"]), med(t, "new", k["new"])
			printf "  ratio this tree / baseline: CPU per message %.3f (worker %.3f, PostgreSQL %.3f), msgs/s %.3f\n", med(t, "new", k["new"]) / med(t, "base", k["base"]), med(w, "new", k["new"]) / med(w, "base", k["base"]), med(p, "new", k["new"]) / med(p, "base", k["base"]), med(rate, "new", k["new"]) / med(rate, "base", k["base"])
		}' "$RES/compare.csv"
	done
fi

# --- 3. profile (before the lag run, while the stack's worker is stopped) --------------
if ((PERF)); then
	say "3. profile: one worker under perf record (not counted)"
	enqueue perf
	perf record -q -e cpu-clock -a -g -o "$RES/perf.data" -- sleep 600 >/dev/null 2>&1 &
	perf_pid=$!
	sleep 1
	drain perf 1
	kill -INT "$perf_pid"
	wait "$perf_pid" 2>/dev/null || true
	set +o pipefail # head closes the pipes early
	echo "  CPU by command (share of all CPU samples of the machine):"
	perf report -i "$RES/perf.data" --sort comm --stdio --no-children -g none 2>/dev/null |
		grep -E '^ +[0-9]' | head -6 | sed 's/^/    /'
	echo "  mailroom-worker, top functions (self, share of the worker):"
	perf report -i "$RES/perf.data" --comm mailroom-worker --sort dso,sym --stdio --no-children -g none \
		--percentage relative 2>/dev/null | grep -E '^ +[0-9]' | head -12 | sed 's/^/    /'
	echo "  postgres, where its time goes (inclusive, share of postgres):"
	perf report -i "$RES/perf.data" --comm postgres --sort sym --stdio --children -g none \
		--percentage relative 2>/dev/null | grep -E '^ +[0-9]' |
		grep -E ' (pg_plan_queries|pg_analyze_and_rewrite_varparams|pg_parse_query|PortalRun|to_tsvector_byid|ExecInsertIndexTuples|gininsert|heap_toast_insert_or_update|CommitTransaction|XLogFlush)$' |
		sed 's/^/    /'
	set -o pipefail
fi

# --- 2. lag behind the gateway ---------------------------------------------------------
"$ROOT/dev.sh" start worker >/dev/null
if ((LAG > 0)); then
	say "2. lag: smtp-source -s 20 -m $LAG -l 4096 into the stack, its worker running"
	wait_quiet
	since=$(date -u +'%Y-%m-%d %H:%M:%S.%6N+00')
	(while :; do
		printf '%s %s\n' "$(date +%s.%N)" "$(pending)"
		sleep 0.5
	done) >"$RES/lag-queue.txt" &
	sampler=$!
	t0=$(date +%s.%N)
	smtp-source -s 20 -m "$LAG" -l 4096 -f bench@sender.test -t "$RCPT" "$MAILROOM_SMTP"
	t1=$(date +%s.%N)
	end=$((SECONDS + 600))
	while :; do
		recorded=$(sqla "SELECT count(*) FROM mailroom.messages WHERE gateway = '$GATEWAY' AND received_at >= '$since'
		                   AND envelope_from = 'bench@sender.test'")
		left=$(sqla "SELECT count(*) FROM mailroom.messages m JOIN mailroom.jobs j ON j.message_id = m.id
		               WHERE m.gateway = '$GATEWAY' AND m.received_at >= '$since' AND j.state = 'pending'")
		((recorded >= LAG && left == 0)) && break
		((SECONDS < end)) || break
		sleep 0.5
	done
	t2=$(date +%s.%N)
	kill "$sampler"
	wait "$sampler" 2>/dev/null || true
	sqla "SELECT count(*),
	             round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.done_at - m.ingested_at)))::int,
	             round(1000 * percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM j.done_at - m.ingested_at)))::int,
	             round(1000 * max(extract(epoch FROM j.done_at - m.ingested_at)))::int,
	             round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.done_at - m.received_at)))::int,
	             round(1000 * percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM j.done_at - m.received_at)))::int,
	             round(1000 * max(extract(epoch FROM j.done_at - m.received_at)))::int
	        FROM mailroom.messages m JOIN mailroom.jobs j ON j.message_id = m.id
	       WHERE m.gateway = '$GATEWAY' AND m.received_at >= '$since' AND m.envelope_from = 'bench@sender.test'
	         AND j.state <> 'pending'" | tr '|' ' ' >"$RES/lag.txt"
	read -r n w50 w95 wmax e50 e95 emax <"$RES/lag.txt"
	awk -v n="$n" -v sent="$LAG" -v a="$t0" -v b="$t1" -v c="$t2" -v w50="$w50" -v w95="$w95" -v wmax="$wmax" \
		-v e50="$e50" -v e95="$e95" -v emax="$emax" -v deepest="$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$RES/lag-queue.txt")" \
		'BEGIN {
		printf "  sent %d in %.1f s (%.0f msgs/s); %d recorded and sorted; queue empty %.1f s after the last was sent\n", sent, b - a, sent / (b - a), n, c - b
		printf "  worker lag (done - ingested): p50 %d ms, p95 %d ms, max %d ms; deepest queue %d jobs\n", w50, w95, wmax, deepest
		printf "  end to end (done - received at the gateway): p50 %d ms, p95 %d ms, max %d ms\n", e50, e95, emax
	}'
fi
say "results in $RES"
