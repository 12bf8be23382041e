#!/usr/bin/env bash
# bench/pg-compression.sh - what PostgreSQL's compression of a message's raw
# bytes costs, pglz (the server's default) against LZ4 (schema 030), on real
# mail.
#
# Needs the dev stack's PostgreSQL (`./dev.sh up`). Loads up to
# BENCH_PGC_FILES [3000] files of FOLDER [../shared/corpus/spamassassin]
# into an uncompressed temporary table, then per round [BENCH_PGC_ROUNDS,
# 5] stores them all into a table whose column uses pglz and into one using
# LZ4 (the order alternates between rounds so that noise hits both), and
# reads them back (every value decompressed). Everything is a temporary
# table of one session: nothing stays in the database.
#
# Prints, per method, the median time per 1,000 rows to store and to read
# and the stored size, and the ratios; it asserts nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
FOLDER=$(realpath -m "${1:-$ROOT/../shared/corpus/spamassassin}")
FILES=${BENCH_PGC_FILES:-3000}
ROUNDS=${BENCH_PGC_ROUNDS:-5}

[[ -d $FOLDER ]] || {
	echo "pg-compression: no folder $FOLDER" >&2
	exit 2
}
eval "$("$ROOT/dev.sh" env)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The files as hex bytea literals, one per line, for \copy.
find "$FOLDER" -type f -size -25M | sort | awk -v n="$FILES" 'NR <= n' >"$work/list"
python3 - "$work/list" "$work/stage.copy" <<'PY'
import sys
with open(sys.argv[1]) as names, open(sys.argv[2], "w") as out:
    for name in names.read().splitlines():
        with open(name, "rb") as f:
            out.write("\\\\x" + f.read().hex() + "\n")
PY

{
	echo '\set ON_ERROR_STOP 1'
	echo 'CREATE TEMP TABLE stage (x bytea);'
	echo 'ALTER TABLE stage ALTER COLUMN x SET STORAGE EXTERNAL;' # stored as it is
	echo "\\copy stage FROM '$work/stage.copy'"
	echo "SELECT 'rows ' || count(*) || ' bytes ' || sum(length(x)) FROM stage;"
	echo 'CREATE TEMP TABLE t_pglz (x bytea COMPRESSION pglz);'
	echo 'CREATE TEMP TABLE t_lz4 (x bytea COMPRESSION lz4);'
	echo '\timing on'
	for r in $(seq 1 "$ROUNDS"); do
		if ((r % 2)); then order="pglz lz4"; else order="lz4 pglz"; fi
		for m in $order; do
			echo "\\echo store $m"
			echo "INSERT INTO t_$m SELECT x FROM stage;"
			echo "\\echo read $m"
			echo "SELECT sum(get_byte(x, 0)) FROM t_$m;" # get_byte decompresses the whole value
		done
		if ((r < ROUNDS)); then
			echo '\timing off'
			echo "SELECT 'size pglz ' || pg_total_relation_size('t_pglz') || ' lz4 ' || pg_total_relation_size('t_lz4');"
			echo 'TRUNCATE t_pglz, t_lz4;'
			echo '\timing on'
		fi
	done
	echo '\timing off'
	echo "SELECT 'size pglz ' || pg_total_relation_size('t_pglz') || ' lz4 ' || pg_total_relation_size('t_lz4');"
} | psql -X -q -A -t -U postgres -d "$PGDATABASE" >"$work/out" 2>&1 || {
	cat "$work/out" >&2
	exit 1
}

python3 - "$work/out" "$FOLDER" "$ROUNDS" <<'PY'
import re, statistics, sys
lines = open(sys.argv[1]).read().splitlines()
times, sizes, what, rows, raw = {}, {}, None, 0, 0
for line in lines:
    m = re.match(r"rows (\d+) bytes (\d+)", line)
    if m:
        rows, raw = int(m.group(1)), int(m.group(2))
    m = re.match(r"(store|read) (pglz|lz4)$", line)
    if m:
        what = m.groups()
    m = re.match(r"Time: ([\d.]+) ms", line)
    if m and what:
        times.setdefault(what, []).append(float(m.group(1)))
        what = None
    m = re.match(r"size pglz (\d+) lz4 (\d+)", line)
    if m:
        sizes = {"pglz": int(m.group(1)), "lz4": int(m.group(2))}
per_k = lambda k: statistics.median(times[k]) * 1000 / rows
print(f"{rows} files of {sys.argv[2]}, {raw / rows / 1024:.1f} KiB on average, {sys.argv[3]} rounds (medians)")
print()
print("| method | store ms per 1,000 rows | read ms per 1,000 rows | stored size |")
print("| --- | ---: | ---: | ---: |")
for m in ("pglz", "lz4"):
    print(f"| {m} | {per_k(('store', m)):.1f} | {per_k(('read', m)):.1f} | {sizes[m] / raw:.0%} of the raw bytes |")
print()
print(f"lz4/pglz: store {per_k(('store', 'lz4')) / per_k(('store', 'pglz')):.2f}, "
      f"read {per_k(('read', 'lz4')) / per_k(('read', 'pglz')):.2f}, size {sizes['lz4'] / sizes['pglz']:.2f}")
PY
