#!/usr/bin/env bash
# bench/web-inbox.sh - latency of the inbox page (GET /mailroom.cgi/) with
# 100,000 conversations, through the development stack's lighttpd, against
# two baselines measured in the same run.
#
# Runs as root beside the development stack (`./dev.sh up` first):
#
#   1. Creates the benchmark user (BENCH_INBOX_LOGIN, an agent) with
#      `mailroomctl user add --password-file` (or resets its password), and
#      loads bench/web-inbox-data.sql once: BENCH_INBOX_N conversations in
#      three shared inboxes whose only member is that user (others of the
#      stack do not see them; admins do).
#   2. Signs in with curl (POST /login) and keeps the session cookie.
#   3. Rounds of wrk (--latency, a Lua done() hook for p50/p95/p99), each
#      target BENCH_SECONDS long, in turn so that noise hits all alike:
#        static   a 2 kB file lighttpd serves itself (no CGI)
#        login    GET /login: the CGI's start and a page, no database
#        inbox    GET /: the first page, default filters (open, activity)
#        filtered GET /?class=customer&unread=1&sort=priority
#        search   GET /?q=invoice (full text, a word in 15 % of the
#                 conversations: the most the lookup has to read)
#        rare     GET /?q=zebrafinch&status=all (a word in one of 997)
#        next     GET /?after=...: the second page
#        conv     GET /c/ID: the conversation page of the benchmark's
#                 conversation with the most messages
#      and prints per target the median over rounds of p50 and p95 and
#      their ratio to the login baseline.
#
# It asserts nothing. Results are printed and kept in
# $BENCH_RESULTS/web-inbox-<UTC time>/ with the raw wrk output and the
# machine's load before and after.
#
# Environment (defaults in brackets):
#   BENCH_INBOX_N [100000]        conversations to load (first run only)
#   BENCH_INBOX_LOGIN [benchinbox]
#   BENCH_ROUNDS [3]              rounds over all targets
#   BENCH_SECONDS [10]            seconds of wrk per target and round
#   BENCH_CONNECTIONS [1]         wrk connections (1: latency without queueing)
#   BENCH_RESULTS [.run/bench/results]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
eval "$(./dev.sh env)"
export PGHOST PGPORT PGDATABASE
N=${BENCH_INBOX_N:-100000}
LOGIN=${BENCH_INBOX_LOGIN:-benchinbox}
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-1}
OUT=${BENCH_RESULTS:-$ROOT/.run/bench/results}/web-inbox-$(date -u +%Y%m%dT%H%M%SZ)
URL=$MAILROOM_URL
ORIGIN=${URL%/mailroom.cgi*}
CTL=$ROOT/ctl/mailroomctl
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
[[ -x $CTL ]] || { echo "build first (./dev.sh up)" >&2; exit 1; }
mkdir -p "$OUT"
psql_admin() { psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres "$@"; }

# 1. the user and the data
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$pw" >"$OUT/.pw"
if [[ -n $(psql_admin -c "SELECT 1 FROM mailroom.users WHERE login = '$LOGIN'") ]]; then
	"$CTL" -c "$MAILROOM_CONF" user reset "$LOGIN" --password-file "$OUT/.pw" >/dev/null
else
	"$CTL" -c "$MAILROOM_CONF" user add "$LOGIN" --name "Benchmark agent" --password-file "$OUT/.pw" >/dev/null
fi
psql_admin -c "DELETE FROM mailroom.login_failures WHERE login = '$LOGIN'" >/dev/null
start=$SECONDS
psql_admin -v login="$LOGIN" -v n="$N" -f bench/web-inbox-data.sql
echo "data ready after $((SECONDS - start)) s: $(psql_admin -c "SELECT count(*) FROM mailroom.conversations") conversations"

# 2. sign in
hdr=$OUT/.hdr
curl -s -D "$hdr" -o /dev/null "$URL/login"
lc=$(sed -n 's/^Set-Cookie: __Host-mailroom-login=\([0-9a-f]\{64\}\);.*/\1/p' "$hdr" | tr -d '\r')
curl -s -D "$hdr" -o /dev/null -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom-login=$lc" \
	--data-urlencode "csrf=$lc" --data-urlencode "login=$LOGIN" --data-urlencode "password=$pw" "$URL/login"
sc=$(sed -n 's/^Set-Cookie: __Host-mailroom=\([0-9a-f]\{64\}\);.*/\1/p' "$hdr" | tr -d '\r')
rm -f "$hdr" "$OUT/.pw"
[[ -n $sc ]] || { echo "sign-in failed" >&2; exit 1; }
cookie="Cookie: __Host-mailroom=$sc"

# the static file lighttpd serves from its document root
www=$(sed -n 's/^server.document-root = "\(.*\)"$/\1/p' "$(dirname "$MAILROOM_LOGDIR")/lighttpd/lighttpd.conf")
head -c 2048 /dev/zero | tr '\0' 'x' >"$www/bench-static.html"
next=$(curl -s -H "$cookie" "$URL/" | sed -n 's/.*<a rel="next" href="[^"?]*?\([^"]*\)">.*/\1/p' | sed 's/&amp;/\&/g')
[[ -n $next ]] || { echo "the first page has no next link" >&2; exit 1; }
conv=$(psql_admin -c "SELECT id FROM mailroom.conversations
	WHERE inboxes && ARRAY['bench-info@bench.example', 'bench-sales@bench.example', 'bench-support@bench.example']
	  AND NOT private ORDER BY message_count DESC, id LIMIT 1")
conv_msgs=$(psql_admin -c "SELECT count(*) FROM mailroom.message_meta WHERE conversation_id = $conv")
echo "conversation page: /c/$conv with $conv_msgs messages"

declare -A target=(
	[static]="$ORIGIN/bench-static.html"
	[login]="$URL/login"
	[inbox]="$URL/"
	[filtered]="$URL/?class=customer&unread=1&sort=priority"
	[search]="$URL/?q=invoice"
	[rare]="$URL/?q=zebrafinch&status=all"
	[next]="$URL/?$next"
	[conv]="$URL/c/$conv"
)
order=(static login inbox filtered search rare next conv)
# hdr TARGET - the header a target is requested with: the baselines
# without the session (GET /login with one would redirect)
hdr() {
	case $1 in
	static | login) echo "X-Bench: baseline" ;;
	*) echo "$cookie" ;;
	esac
}
for t in "${order[@]}"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "$(hdr "$t")" "${target[$t]}")
	[[ $code == 200 ]] || { echo "$t: status $code" >&2; exit 1; }
done

lua=$OUT/percentiles.lua
cat >"$lua" <<'EOF'
-- print the percentiles wrk's own --latency table leaves out, in ms
done = function(summary, latency, requests)
	io.write(string.format("PCT p50=%.2f p95=%.2f p99=%.2f requests=%d errors=%d\n",
		latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
		summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout))
end
EOF

# 3. rounds
{ echo "before: $(uptime)"; nproc; } >"$OUT/load.txt"
echo "load before: $(cut -d, -f3- </proc/loadavg 2>/dev/null || uptime)"
for ((r = 1; r <= ROUNDS; r++)); do
	for t in "${order[@]}"; do
		wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$lua" -H "$(hdr "$t")" "${target[$t]}" >"$OUT/$t.$r.txt" 2>&1
		line=$(grep '^PCT' "$OUT/$t.$r.txt")
		printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$line" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/rounds.tsv"
	done
done
echo "after: $(uptime)" >>"$OUT/load.txt"

# medians over rounds, and ratios to the login baseline
python3 - "$OUT/rounds.tsv" "${order[@]}" <<'EOF' | tee "$OUT/summary.txt"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, t, pct = line.split("\t")[:3]
    m = dict(re.findall(r"(\w+)=([\d.]+)", pct))
    rows.setdefault(t, []).append(m)
med = {t: {k: statistics.median(float(m[k]) for m in v) for k in ("p50", "p95", "requests", "errors")}
       for t, v in rows.items()}
base = med["login"]
print("| target | p50 ms | p95 ms | p50 / login | p95 / login | requests | errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for t in sys.argv[2:]:
    m = med[t]
    print("| %s | %.1f | %.1f | %.2f | %.2f | %d | %d |" % (t, m["p50"], m["p95"], m["p50"] / base["p50"],
                                                        m["p95"] / base["p95"], m["requests"], m["errors"]))
EOF
cat "$OUT/load.txt"
echo "results in $OUT"
