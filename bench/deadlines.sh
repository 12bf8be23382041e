#!/usr/bin/env bash
# bench/deadlines.sh - what the deadline task's candidate query costs
# PostgreSQL per pass (every worker runs it every 10 s), as built now
# against the way it ran before, in the same run on the same data.
#
#   before: without the partial index conversations_waiting_us_idx (dropped
#           inside a transaction that is rolled back) and with JIT on
#           (PostgreSQL's default, what mailroom's connections had);
#   now:    the index, and JIT off as db_connect() sets it.
#
# The query is the worker's own text (bench/deadline-sql prints it from
# worker/deadlines-sql.h) with the (class, level, VIP) triples the default
# policies of conf/mailroom.conf cover (urgent; customer; supplier), as
# the worker expands them. Each round runs `before` then `now`, each
# BENCH_DL_REPEAT times in one session, timed by psql (\timing: what the
# worker waits, round trip included); printed are the medians and the
# median of the per-round ratios now / before. Both must return the same
# rows (checked). While `before` runs, its transaction holds the
# conversations table locked: the stack's worker and web pages wait.
#
# Runs beside the development stack (`./dev.sh up`) on whatever its
# database holds; `make check` builds bench/deadline-sql.
# Environment: BENCH_DL_ROUNDS [5], BENCH_DL_REPEAT [5], BENCH_DL_COVER
# [the default policies: "l = 'urgent' OR k IN ('customer', 'supplier')",
# an SQL condition on class k, level l, VIP v; "true" for a catch-all policy],
# BENCH_RESULTS [.run/bench/results]. Results: printed and kept in
# $BENCH_RESULTS/deadlines-<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ROUNDS=${BENCH_DL_ROUNDS:-5}
COVER=${BENCH_DL_COVER:-"l = 'urgent' OR k IN ('customer', 'supplier')"}
REPEAT=${BENCH_DL_REPEAT:-5}
RES=${BENCH_RESULTS:-$ROOT/.run/bench/results}/deadlines-$(date -u +%Y%m%dT%H%M%SZ)
eval "$("$ROOT/dev.sh" env)"
export PGHOST PGPORT PGDATABASE
tool=$ROOT/bench/deadline-sql
[[ -x $tool ]] || { echo "$tool not built (make check builds it)" >&2; exit 1; }
mkdir -p "$RES"

say() { printf '%s\n' "$*" | tee -a "$RES/summary.txt"; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -c "$1"; }

# The (class, level) pairs the policies cover and for which organisations,
# as three array literals, as the worker builds them (covered_arrays).
read -r K L V < <(q "SELECT array_agg(k)::text, array_agg(l)::text, array_agg(v)::text FROM
	(SELECT k, l, CASE WHEN bool_and(v) THEN 'vip' WHEN bool_or(v) THEN 'any' ELSE 'other' END AS v
	 FROM unnest(array['','unclassified','customer','supplier','internal','newsletter','advertising']) k,
	 unnest(array['low','normal','high','urgent']) l, unnest(array[false,true]) v
	 WHERE $COVER GROUP BY k, l) x" | tr '|' ' ')
sql=$("$tool" response)
sql=${sql//'$1::text[]'/"'$K'::text[]"}
sql=${sql//'$2::text[]'/"'$L'::text[]"}
sql=${sql//'$3::text[]'/"'$V'::text[]"}

# run NAME - REPEAT executions in one session; times to NAME.times, rows to NAME.rows
run() {
	local name=$1 head tail=
	if [[ $name == before ]]; then
		head="SET jit = on; BEGIN; DROP INDEX mailroom.conversations_waiting_us_idx;"
		tail="ROLLBACK;"
	else
		head="SET jit = off;"
	fi
	{
		echo "$head"
		echo '\timing on'
		for ((i = 0; i < REPEAT; i++)); do echo "$sql;"; done
		echo '\timing off'
		echo "$tail"
	} | psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres >"$RES/$name.out"
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$RES/$name.out" >"$RES/$name.times"
	{ grep -v '^Time: ' "$RES/$name.out" || true; } | sort -u >"$RES/$name.rows"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

say "covered: $COVER"
say "deadline candidates: $(q "SELECT count(*) FROM mailroom.conversations WHERE status = 'open'
	AND waiting_on = 'us' AND merged_into IS NULL AND last_activity_at > now() - interval '30 days'") open conversations waiting on us (30 days), load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
	run before
	run now
	cmp -s "$RES/before.rows" "$RES/now.rows" || { say "round $r: before and now return different rows"; exit 1; }
	b=$(median <"$RES/before.times") n=$(median <"$RES/now.times")
	ratio=$(awk -v b="$b" -v n="$n" 'BEGIN { printf "%.3f", n / b }')
	echo "$b $n $ratio" >>"$RES/rounds.txt"
	say "round $r: before $b ms, now $n ms (median of $REPEAT), now/before $ratio, rows $(wc -l <"$RES/now.rows")"
done
say "median: before $(cut -d' ' -f1 "$RES/rounds.txt" | median) ms, now $(cut -d' ' -f2 "$RES/rounds.txt" | median) ms, ratio now/before $(cut -d' ' -f3 "$RES/rounds.txt" | median)"
say "results: $RES"
