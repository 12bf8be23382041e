#!/usr/bin/env bash
# bench/gateway.sh - what mailroom-milter costs a Postfix gateway.
#
# Runs as root next to the development stack (`./dev.sh up` first), whose
# PostgreSQL it shares; everything else is its own, under .run/bench/:
#
#   a private Postfix instance, every recipient delivered to discard:, with
#   three SMTP listeners that differ only in their milter:
#     127.0.0.1:2601  no milter
#     127.0.0.1:2602  bench/noop-milter (same callbacks, does nothing)
#     127.0.0.1:2603  mailroom-milter (its own instance, spool and config)
#
# It measures and prints; it asserts nothing about speed.
#
#   1. Throughput: smtp-source sends BENCH_MESSAGES messages of BENCH_SIZE
#      bytes over BENCH_SESSIONS parallel sessions, with a connection per
#      message ("close") and with connections reused ("reuse", -d), to each
#      listener, BENCH_ROUNDS times, interleaved (none, noop, mailroom, none,
#      ...) so that noise on the machine hits all listeners alike. Wall-clock
#      msg/s per run, the median per listener, mailroom/noop and noop/none,
#      and where the CPU went (see "CPU accounting" below).
#   2. Ingest against intake, during every mailroom run: the records in the
#      bench spool's new/ every 0.5 s (max backlog, time to drain after the
#      run), rows added to mailroom.messages (must equal the messages sent),
#      rows/s, and ingest lag (ingested_at - received_at of each row).
#   3. End-of-data latency: bench/smtp-latency.py times the round trip from
#      the final "." of DATA to the 250 reply, BENCH_LAT_MESSAGES messages
#      over BENCH_LAT_CONNECTIONS connections, and BENCH_LAT_SERIAL messages
#      over one connection, per listener, in every round.
#
# CPU accounting, per run, from /proc: the whole machine's busy time; the
# bench's own processes (its Postfix master with every child, reaped ones
# included; this script's children such as smtp-source; the two milters;
# the PostgreSQL backend of the bench milter's ingest); the dev stack's
# mailroom-worker and its backends (they process the rows the bench adds);
# and "other": everything else (kernel threads, interrupts, other people's
# processes; the worker too when the bench adds no rows, BENCH_INGEST=paused). A run during which other > 15 % of the machine, or the dev
# stack's logs grew, is marked disturbed; medians use undisturbed runs when
# a listener has any.
#
# Environment (defaults in brackets):
#   BENCH_ROUNDS [3]            rounds of the interleaved runs
#   BENCH_MESSAGES [3000]       messages per throughput run
#   BENCH_SESSIONS [20]         parallel smtp-source sessions
#   BENCH_SIZE [4096]           payload bytes per message (smtp-source -l)
#   BENCH_MODES ["close reuse"] close: a connection per message; reuse: -d
#   BENCH_LAT_MESSAGES [2000]   messages per latency run (0: skip)
#   BENCH_LAT_CONNECTIONS [20]  connections of a latency run
#   BENCH_LAT_SERIAL [300]      messages of the one-connection latency run (0: skip)
#   BENCH_NOOP_ARGS []          options of bench/noop-milter, e.g. -h: it also adds
#                               the three headers mailroom-milter adds
#   BENCH_COMMIT_WAIT_US []     milter.commit.max_wait_us of the bench milter
#                               (empty: the dev stack's value or the default).
#                               Several values, e.g. "500 0": the mailroom
#                               listener is measured once per value in every
#                               round (runs named mailroom-w500, mailroom-w0;
#                               the milter is restarted between them)
#   BENCH_INGEST [live]         live: the bench milter stores into the dev
#                               PostgreSQL while mail arrives. paused: its
#                               database is unreachable during the runs (intake
#                               alone: spool, no ingest, no database work on
#                               this machine); at the end it is restarted with
#                               the real database and the drain of everything
#                               spooled is timed: ingest capacity in rows/s
#   BENCH_QUIET_WAIT [30]       before each run, wait up to this many seconds
#                               for the machine to be idle (the dev stack's logs
#                               unchanged and the CPUs < 15 % busy for 3 s)
#   BENCH_RETRIES [2]           a disturbed run is repeated up to this many
#                               times (every attempt is kept in runs.csv)
#   BENCH_PERF [0]              1: after the rounds, one more run per listener
#                               and mode under `perf record -e cpu-clock -a -g`
#                               (not counted); CPU shares by command printed,
#                               and bench/perf-breakdown.py's ms per message by
#                               command and by the milters' system calls
#   BENCH_BUILD [the checkout]  a configured and built mailroom tree to take
#                               milter/mailroom-milter and bench/noop-milter
#                               from (e.g. a clone of a commit built with
#                               ./configure --enable-werror) while the
#                               checkout itself is a sanitizer build
#   BENCH_RESULTS [.run/bench/results]  where the results folder goes
#
# Results: printed, and kept in $BENCH_RESULTS/<UTC time>/ (setup.txt,
# runs.csv, latency and backlog samples, summary.txt, logs);
# `bench/gateway.sh --summary FOLDER` prints the tables of such a folder again. Rows the bench
# milter stores stay in mailroom.messages under gateway "bench.example.com".
set -euo pipefail
shopt -s nullglob

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUN=$ROOT/.run
B=$RUN/bench
DEV_CONF=$RUN/mailroom.conf
PG_BIN=/usr/lib/postgresql/15/bin

ROUNDS=${BENCH_ROUNDS:-3}
MESSAGES=${BENCH_MESSAGES:-3000}
SESSIONS=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-4096}
MODES=${BENCH_MODES:-close reuse}
LAT_MESSAGES=${BENCH_LAT_MESSAGES:-2000}
LAT_CONNECTIONS=${BENCH_LAT_CONNECTIONS:-20}
LAT_SERIAL=${BENCH_LAT_SERIAL:-300}
COMMIT_WAIT_US=${BENCH_COMMIT_WAIT_US:-}
INGEST=${BENCH_INGEST:-live}
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
PERF=${BENCH_PERF:-0}
RETRIES=${BENCH_RETRIES:-2}
BUILD=${BENCH_BUILD:-$ROOT}
OTHER_LIMIT=15 # percent of the machine used by others that marks a run disturbed

SENDER=bench@sender.test
RCPT=info@example.com
GATEWAY=bench.example.com
declare -A PORT=([none]=2601 [noop]=2602 [mailroom]=2603)
# What is measured: the three listeners, mailroom once per commit wait.
read -r -a WAITS <<<"$COMMIT_WAIT_US"
((${#WAITS[@]})) || WAITS=("")
LISTENERS=(none noop)
if ((${#WAITS[@]} == 1)); then
  LISTENERS+=(mailroom)
else
  for w in "${WAITS[@]}"; do LISTENERS+=("mailroom-w$w"); done
fi
WAIT_NOW=${WAITS[0]} # the commit wait the running bench milter has

PF=$B/postfix/etc
PF_QUEUE=$B/postfix/queue
PF_DATA=$B/postfix/data
SOCKDIR=$B/milter
SPOOL=$B/spool
BIN=$B/bin
CONF=$B/mailroom.conf
RES=${BENCH_RESULTS:-$B/results}/$(date -u +%Y%m%dT%H%M%SZ)
NO_DB="host=$B/no-database port=5433 dbname=mailroom user=mailroom_milter connect_timeout=1"
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

NOOP_PID=
MILTER_PID=
DISTURBED=0
LAST_ATTEMPT=0
SAMPLER_PID=
PG_BENCH_PID=
PF_STARTED=0
DB=

umask 022

say() { printf '==> %s\n' "$*"; }
warn() { printf 'gateway.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'gateway.sh: error: %s\n' "$*" >&2
  exit 1
}

# --- checks and binaries ------------------------------------------------------------

preflight() {
  [[ $(id -u) -eq 0 ]] || die "run as root (it starts a Postfix instance and a milter that drops to mailroom)"
  local n
  for n in ROUNDS MESSAGES SESSIONS SIZE LAT_MESSAGES LAT_CONNECTIONS LAT_SERIAL QUIET_WAIT PERF RETRIES; do
    [[ ${!n} =~ ^[0-9]+$ ]] || die "BENCH_$n must be a number"
  done
  [[ $COMMIT_WAIT_US =~ ^[0-9\ ]*$ ]] || die "BENCH_COMMIT_WAIT_US must be numbers"
  ((ROUNDS > 0 && MESSAGES > 0 && SESSIONS > 0 && LAT_CONNECTIONS > 0)) ||
    die "BENCH_ROUNDS, BENCH_MESSAGES, BENCH_SESSIONS and BENCH_LAT_CONNECTIONS must be > 0"
  [[ $INGEST == live || $INGEST == paused ]] || die "BENCH_INGEST must be live or paused"
  for n in $MODES; do
    [[ $n == close || $n == reuse ]] || die "BENCH_MODES: unknown mode '$n' (close, reuse)"
  done
  command -v smtp-source >/dev/null || die "smtp-source not found (Debian package postfix)"
  command -v postfix >/dev/null || die "postfix not found"
  [[ -f $BUILD/Makefile ]] || die "$BUILD is not configured: run ./dev.sh up first"
  if grep -q fsanitize "$BUILD/Makefile"; then
    die "$BUILD is built with sanitizers (./dev.sh test does that); its numbers would mean nothing. Run ./dev.sh up (a normal optimised build) first, or point BENCH_BUILD at a normal build."
  fi
  [[ -x $BUILD/milter/mailroom-milter ]] || die "$BUILD/milter/mailroom-milter is not built: run ./dev.sh up first"
  [[ -f $DEV_CONF ]] || die "$DEV_CONF not found: run ./dev.sh up first"
  if [[ ! -x $BUILD/bench/noop-milter || $BUILD/bench/noop-milter -ot $BUILD/bench/noop-milter.c ]]; then
    say "building bench/noop-milter"
    local owner
    owner=$(stat -c %U "$BUILD")
    if [[ $owner != root ]]; then
      runuser -u "$owner" -- make -C "$BUILD" -s bench/noop-milter
    else
      make -C "$BUILD" -s bench/noop-milter
    fi
  fi
  getent passwd mailroom >/dev/null || die "no account mailroom: run ./dev.sh up first"
  for n in none noop mailroom; do
    if ss -Hltn "sport = :${PORT[$n]}" 2>/dev/null | grep -q .; then
      die "port ${PORT[$n]} is in use (a bench left running? postfix -c $PF stop)"
    fi
  done
}

# The binaries are copied before use: a rebuild of the tree during the run
# (a sanitizer build for the tests, say) cannot swap them under us.
install_binaries() {
  install -d -m 0755 "$BIN"
  install -m 0755 "$BUILD/milter/mailroom-milter" "$BIN/mailroom-milter"
  install -m 0755 "$BUILD/bench/noop-milter" "$BIN/noop-milter"
  local f
  for f in "$BIN/mailroom-milter" "$BIN/noop-milter"; do
    if grep -q -a -e __asan_init -e __ubsan_handle "$f"; then
      die "$f was built with sanitizers: run ./dev.sh up (normal build) first"
    fi
  done
}

print_build() {
  local mk=$BUILD/Makefile producer src="not a git checkout"
  echo "compiler:  $($(sed -n 's/^CC = //p' "$mk") --version 2>/dev/null | head -1)"
  echo "Makefile:  CC=$(sed -n 's/^CC = //p' "$mk") CFLAGS=$(sed -n 's/^CFLAGS = //p' "$mk")" \
    "CPPFLAGS=$(sed -n 's/^CPPFLAGS = //p' "$mk") MR_SAN_CFLAGS=$(sed -n 's/^MR_SAN_CFLAGS = //p' "$mk")"
  producer=$(readelf --debug-dump=info "$BIN/mailroom-milter" 2>/dev/null | grep -m1 DW_AT_producer | sed 's/.*): //') || true
  echo "binary:    ${producer:-(no debug info: flags unknown)}"
  if git -C "$BUILD" rev-parse --show-toplevel >/dev/null 2>&1; then
    src=$(git -C "$BUILD" log -1 --format='commit %h, %cI')
    git -C "$BUILD" diff --quiet HEAD -- milter lib bench || src+=", with uncommitted changes in milter/ lib/ bench/"
  fi
  echo "built in:  $BUILD ($src)"
}

# --- PostgreSQL (the dev stack's, shared) -------------------------------------------

# dev_setting KEY - a value from the dev milter's effective configuration
dev_setting() {
  "$BIN/mailroom-milter" -n -c "$DEV_CONF" | sed -n "s/^$1 = \(.*\);\$/\1/p"
}

db() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$DB" "$@"; }

db_rows() { db -c "select count(*) from mailroom.messages where gateway = '$GATEWAY'" 2>/dev/null || echo -1; }

# find_pg_backend - the backend serving the bench milter's ingest, if connected
find_pg_backend() {
  PG_BENCH_PID=
  [[ $INGEST == live ]] || return 0
  PG_BENCH_PID=$(db -c "select pid from pg_stat_activity where application_name = 'mailroom-bench' limit 1" 2>/dev/null) || PG_BENCH_PID=
}

# --- the bench's mailroom.conf ------------------------------------------------------

# Derived from the dev stack's effective configuration (mailroom-milter -n
# prints it as dotted keys), with the bench's own socket, spool, gateway
# name and database application name; the benchmark recipient is a shared
# inbox so that every message is recorded in full. An argument replaces
# the database (BENCH_INGEST=paused points it at a server that does not
# exist).
write_conf() {
  local dbval shared overrides out
  dbval=$(dev_setting milter.database)
  dbval=${dbval#\"}
  dbval=${dbval%\"}
  [[ -n $dbval ]] || die "no milter.database in $DEV_CONF"
  DB=$dbval
  [[ $dbval == *://* ]] || dbval+=" application_name=mailroom-bench"
  [[ -n ${1:-} ]] && dbval=$1
  shared=$(dev_setting gateway.shared_inboxes)
  if [[ $shared != *"\"$RCPT\""* ]]; then
    if [[ $shared == "[]" ]]; then shared="[\"$RCPT\"]"; else shared="[\"$RCPT\", ${shared#[}"; fi
  fi
  overrides=$(mktemp)
  {
    printf 'gateway.shared_inboxes\t%s\n' "$shared"
    printf 'milter.socket\t"unix:%s/mailroom.sock"\n' "$SOCKDIR"
    printf 'milter.socket_group\t"postfix"\n'
    printf 'milter.user\t"mailroom"\n'
    printf 'milter.spool_dir\t"%s"\n' "$SPOOL"
    printf 'milter.gateway_name\t"%s"\n' "$GATEWAY"
    printf 'milter.database\t"%s"\n' "$dbval"
    [[ -n $WAIT_NOW ]] && printf 'milter.commit.max_wait_us\t%s\n' "$WAIT_NOW"
  } >"$overrides"
  "$BIN/mailroom-milter" -n -c "$DEV_CONF" | awk -v OVR="$overrides" '
    BEGIN { while ((getline line < OVR) > 0) { split(line, kv, "\t"); ovr[kv[1]] = kv[2] } }
    /^#/ || NF == 0 { next }
    {
      eq = index($0, " = "); key = substr($0, 1, eq - 1); val = substr($0, eq + 3)
      sub(/;$/, "", val)
      if (key in ovr) { val = ovr[key]; seen[key] = 1 }
      n = split(key, p, ".")
      common = 0
      while (common < depth && common < n - 1 && stack[common + 1] == p[common + 1]) common++
      while (depth > common) { depth--; printf "%*s};\n", 2 * depth, "" }
      while (depth < n - 1) { printf "%*s%s = {\n", 2 * depth, "", p[depth + 1]; depth++; stack[depth] = p[depth] }
      printf "%*s%s = %s;\n", 2 * depth, "", p[n], val
    }
    END {
      while (depth > 0) { depth--; printf "%*s};\n", 2 * depth, "" }
      for (k in ovr) if (!(k in seen)) { print "override of unknown key " k > "/dev/stderr"; exit 1 }
    }' >"$CONF.tmp" || die "cannot derive $CONF"
  rm -f "$overrides"
  {
    echo "# mailroom.conf of the benchmark's own milter instance, written by"
    echo "# bench/gateway.sh from the effective configuration of $DEV_CONF."
    cat "$CONF.tmp"
  } >"$CONF"
  rm -f "$CONF.tmp"
  out=$("$BIN/mailroom-milter" -n -c "$CONF" 2>&1) || die "mailroom-milter rejects $CONF: $out"
}

# --- the private Postfix instance ---------------------------------------------------

register_instance() {
  local current
  [[ -f /etc/postfix/main.cf ]] || echo "# created by mailroom bench/gateway.sh" >/etc/postfix/main.cf
  current=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  case " ${current//,/ } " in
    *" $PF "*) return 0 ;;
  esac
  say "adding $PF to alternate_config_directories in /etc/postfix/main.cf"
  postconf -c /etc/postfix -e "alternate_config_directories = ${current:+$current }$PF"
}

write_postfix() {
  install -d -m 0755 "$B/postfix" "$PF" "$PF_QUEUE" "$B/log"
  install -d -o postfix -g postfix -m 0700 "$PF_DATA"
  cat >"$PF/main.cf" <<EOF
# main.cf of the benchmark's private Postfix instance (bench/gateway.sh
# writes it on every run). Every recipient goes to discard: delivery costs
# nothing, so what differs between the listeners is their milter.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
syslog_name = postfix-bench
maillog_file = $B/log/postfix.log
maillog_file_prefixes = $B/log, /dev/stdout

myhostname = $GATEWAY
mydomain = example.com
myorigin = \$mydomain
mydestination =
relay_domains =
relayhost =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
message_size_limit = 67108864

default_transport = discard:
relay_transport = discard:
local_transport = discard:
virtual_transport = discard:

# Milters are set per listener in master.cf; the rest as in the dev
# instance (dev/postfix/main.cf.in).
smtpd_milters =
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 300s
milter_connect_macros = j {daemon_name} {daemon_addr} v _ {client_addr} {client_port} {client_name} {client_ptr}
milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer} {daemon_name} {client_addr} {client_name}
milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
milter_data_macros = i
milter_end_of_header_macros = i
milter_end_of_data_macros = i
EOF
  cat >"$PF/master.cf" <<EOF
# master.cf of the benchmark's private Postfix instance (bench/gateway.sh).
# Three listeners that differ only in their milter; nothing runs chrooted.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${PORT[none]} inet n  -       n       -       -       smtpd
  -o syslog_name=postfix-bench/none
  -o smtpd_milters=
127.0.0.1:${PORT[noop]} inet n  -       n       -       -       smtpd
  -o syslog_name=postfix-bench/noop
  -o smtpd_milters=unix:$SOCKDIR/noop.sock
127.0.0.1:${PORT[mailroom]} inet n  -       n       -       -       smtpd
  -o syslog_name=postfix-bench/mailroom
  -o smtpd_milters=unix:$SOCKDIR/mailroom.sock
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  register_instance
  postfix -c "$PF" check || die "postfix check failed for $PF (log: $B/log/postfix.log)"
}

postfix_start() {
  postfix -c "$PF" status >/dev/null 2>&1 && postfix -c "$PF" stop >/dev/null 2>&1
  if ! postfix -c "$PF" start >/dev/null 2>&1; then
    die "the bench Postfix did not start; details: postfix -c $PF -o maillog_file=/dev/stdout start-fg"
  fi
  PF_STARTED=1
  local i
  for ((i = 0; i < 100; i++)); do
    ss -Hltn "sport = :${PORT[mailroom]}" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  die "the bench Postfix does not listen on ${PORT[mailroom]} (log: $B/log/postfix.log)"
}

# queue_empty - nothing waits in the bench instance's queue
queue_empty() {
  [[ -z $(find "$PF_QUEUE"/{incoming,active,deferred,maildrop} -type f 2>/dev/null | head -1) ]]
}

# --- milters --------------------------------------------------------------------------

wait_socket() {
  local sock=$1 pid=$2 log=$3 i
  for ((i = 0; i < 300; i++)); do
    [[ -S $sock ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2
      die "$(basename "$sock" .sock) milter exited during start-up"
    fi
    sleep 0.1
  done
  die "no socket $sock after 30 s"
}

start_milters() {
  install -d -o mailroom -g postfix -m 0750 "$SOCKDIR"
  install -d -o mailroom -g mailroom -m 0750 "$SPOOL"
  rm -f "$SOCKDIR"/noop.sock "$SOCKDIR"/mailroom.sock
  # The no-op milter needs no privileges: it runs as mailroom from the start.
  setsid setpriv --reuid=mailroom --regid=mailroom --init-groups \
    "$BIN/noop-milter" ${BENCH_NOOP_ARGS:-} "unix:$SOCKDIR/noop.sock" </dev/null >>"$B/log/noop-milter.log" 2>&1 &
  NOOP_PID=$!
  wait_socket "$SOCKDIR/noop.sock" "$NOOP_PID" "$B/log/noop-milter.log"
  start_mailroom_milter
}

# mailroom-milter binds as root, then becomes mailroom (milter.user).
start_mailroom_milter() {
  printf '\n--- gateway.sh: start %s ---\n' "$(date -u +%FT%TZ)" >>"$B/log/milter.log"
  setsid "$BIN/mailroom-milter" -f -c "$CONF" </dev/null >>"$B/log/milter.log" 2>&1 &
  MILTER_PID=$!
  wait_socket "$SOCKDIR/mailroom.sock" "$MILTER_PID" "$B/log/milter.log"
}

stop_pid() {
  local pid=$1 name=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) did not stop within 30 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_sampler
  if ((PF_STARTED)); then
    say "stopping the bench Postfix instance"
    postfix -c "$PF" stop >/dev/null 2>&1 || true
  fi
  if [[ -n $MILTER_PID || -n $NOOP_PID ]]; then
    say "stopping the bench milters"
    stop_pid "$MILTER_PID" mailroom-milter
    stop_pid "$NOOP_PID" noop-milter
  fi
  if [[ -d $RES ]]; then
    cp -f "$B/log/milter.log" "$B/log/postfix.log" "$RES/" 2>/dev/null || true
  fi
  if [[ $INGEST == paused && -n $(spool_count new) && $(spool_count new) -gt 0 ]]; then
    warn "$(spool_count new) records are left in $SPOOL/new (the next bench run ingests them first)"
  fi
  exit "$rc"
}

# --- measuring --------------------------------------------------------------------------

# port_of LISTENER - its SMTP port
port_of() { echo "${PORT[${1%%-w*}]}"; }

# use_listener LISTENER - for mailroom-wN, restart the bench milter with
# commit.max_wait_us = N unless it runs with that already
use_listener() {
  [[ $1 == mailroom-w* ]] || return 0
  local w=${1#mailroom-w}
  [[ $w == "$WAIT_NOW" ]] && return 0
  quiesce
  stop_pid "$MILTER_PID" mailroom-milter
  MILTER_PID=
  WAIT_NOW=$w
  if [[ $INGEST == paused ]]; then write_conf "$NO_DB"; else write_conf; fi
  start_mailroom_milter
}

# spool_count new|tmp - records in that spool directory (a batch file holds several)
spool_count() {
  python3 "$ROOT/tests/tools/spool-records.py" "$SPOOL/$1"
}

# quiesce - wait until the previous run has left no trace: the bench queue
# delivered and, with live ingest, the bench spool ingested
quiesce() {
  local i
  for ((i = 0; i < 1200; i++)); do
    if queue_empty && [[ $INGEST == paused || $(spool_count new) == 0 ]]; then
      return 0
    fi
    sleep 0.1
  done
  warn "not quiet after 120 s: queue $(find "$PF_QUEUE"/{incoming,active,deferred} -type f | wc -l), spool $(spool_count new)"
}

# ticks PID [all] - CPU ticks (1/100 s) of a process, all threads; with
# "all", plus those of its children it has reaped
ticks() {
  local line rest f
  { line=$(<"/proc/$1/stat"); } 2>/dev/null || {
    echo 0
    return
  }
  rest=${line##*) }
  read -r -a f <<<"$rest"
  # after the command name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
  if [[ ${2:-} == all ]]; then
    echo $((f[11] + f[12] + f[13] + f[14]))
  else
    echo $((f[11] + f[12]))
  fi
}

# cpu_snapshot - "busy total noop mailroom postgres worker bench" in ticks:
# the machine's busy and total time (/proc/stat), the two milters, the bench
# ingest's PostgreSQL backend, the dev stack's worker with its backends, and
# everything the bench runs (Postfix master with all children, this script
# with all children, both milters, the ingest backend)
cpu_snapshot() {
  local _ u n s idle iow irq sirq steal master pid
  local noop mr pg worker=0 postfix=0
  read -r _ u n s idle iow irq sirq steal _ </proc/stat
  noop=$(ticks "$NOOP_PID")
  mr=$(ticks "$MILTER_PID")
  pg=0
  [[ -n $PG_BENCH_PID ]] && pg=$(ticks "$PG_BENCH_PID")
  master=$(tr -d ' ' <"$PF_QUEUE/pid/master.pid" 2>/dev/null) || master=
  if [[ -n $master ]]; then
    postfix=$(ticks "$master" all)
    for pid in $(pgrep -P "$master"); do
      postfix=$((postfix + $(ticks "$pid")))
    done
  fi
  for pid in $(pgrep -x mailroom-worker) $(pgrep -f '^postgres: mailroom_worker '); do
    worker=$((worker + $(ticks "$pid")))
  done
  echo "$((u + n + s + irq + sirq + steal)) $((u + n + s + idle + iow + irq + sirq + steal))" \
    "$noop $mr $pg $worker $((postfix + $(ticks $$ all) + noop + mr + pg))"
}

# cpu_report C0 C1 MESSAGES - "busy% ms/msg noop-ms mailroom-ms pg-ms worker-ms other%".
# The worker's CPU is the bench's doing only while the bench adds rows
# (live ingest); otherwise it counts as other.
cpu_report() {
  awk -v a="$1" -v b="$2" -v n="$3" -v ours="$([[ $INGEST == live ]] && echo 1 || echo 0)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= 7; i++) d[i] = y[i] - x[i]
    other = d[1] - d[7] - (ours ? d[6] : 0); if (other < 0) other = 0
    printf "%.0f %.2f %.2f %.2f %.2f %.2f %.0f\n", d[2] ? 100 * d[1] / d[2] : 0, d[1] * 10 / n,
      d[3] * 10 / n, d[4] * 10 / n, d[5] * 10 / n, d[6] * 10 / n, d[2] ? 100 * other / d[2] : 0
  }'
}

start_sampler() {
  (
    trap 'exit 0' TERM
    while :; do
      printf '%s %s\n' "$EPOCHREALTIME" "$(spool_count new)"
      sleep 0.5
    done
  ) >"$1" &
  SAMPLER_PID=$!
}

stop_sampler() {
  [[ -n $SAMPLER_PID ]] || return 0
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
}

# dev_activity - total size of the dev stack's logs: grows while someone
# else (the integration tests) uses the stack
dev_activity() {
  local f sum=0
  for f in "$RUN"/log/*.log; do
    sum=$((sum + $(stat -c %s "$f" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

# wait_quiet - wait (at most QUIET_WAIT s) until the dev stack's logs have
# not grown and the CPUs were less than 15 % busy for 3 s
wait_quiet() {
  local a b i still=0 c0 c1 busy0 total0 busy1 total1
  a=$(dev_activity)
  c0=$(cpu_snapshot)
  for ((i = 0; i < QUIET_WAIT * 2 && still < 6; i++)); do
    sleep 0.5
    b=$(dev_activity)
    c1=$(cpu_snapshot)
    read -r busy0 total0 _ <<<"$c0"
    read -r busy1 total1 _ <<<"$c1"
    c0=$c1
    if [[ $b == "$a" ]] && ((100 * (busy1 - busy0) < 15 * (total1 - total0))); then
      still=$((still + 1))
    else
      still=0
      a=$b
    fi
  done
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ingest_lag T0 T1 - "p50 p99 max" in ms of the bench rows received between
# the two times
ingest_lag() {
  local q="extract(epoch from ingested_at - received_at)"
  db -F ' ' -c "select coalesce(round(1000 * percentile_cont(0.5) within group (order by $q))::text, '-'),
                       coalesce(round(1000 * percentile_cont(0.99) within group (order by $q))::text, '-'),
                       coalesce(round(1000 * max($q))::text, '-')
                  from mailroom.messages
                 where gateway = '$GATEWAY' and received_at between to_timestamp($1) and to_timestamp($2)" \
    2>/dev/null || echo "- - -"
}

# throughput ROUND MODE LISTENER - one smtp-source run; appends to runs.csv
throughput() {
  local round=$1 mode=$2 l=$3 flags=() t0 t1 t2 secs rc=0 c0 c1 a0 a1 cpu msgps=- disturbed
  local rows0=- rows1=- backlog=- drain=- ingest_rps=- lag="- - -" rows=- i
  [[ $mode == reuse ]] && flags=(-d)
  use_listener "$l"
  quiesce
  wait_quiet
  find_pg_backend
  if [[ $l == mailroom* && $INGEST == live ]]; then
    rows0=$(db_rows)
    start_sampler "$RES/backlog-r$round-$mode-$l.txt"
  fi
  a0=$(dev_activity)
  c0=$(cpu_snapshot)
  t0=$EPOCHREALTIME
  smtp-source "${flags[@]}" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f "$SENDER" -t "$RCPT" \
    "127.0.0.1:$(port_of "$l")" 2>>"$RES/smtp-source.err" || rc=$?
  t1=$EPOCHREALTIME
  c1=$(cpu_snapshot)
  a1=$(dev_activity)
  secs=$(elapsed "$t0" "$t1")
  ((rc == 0)) && msgps=$(awk -v n="$MESSAGES" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
  cpu=$(cpu_report "$c0" "$c1" "$MESSAGES")
  if [[ $l == mailroom* && $INGEST == live ]]; then
    for ((i = 0; i < 1200; i++)); do
      [[ $(spool_count new) == 0 && $(spool_count tmp) == 0 ]] && break
      sleep 0.1
    done
    t2=$EPOCHREALTIME
    sleep 0.6 # one more sample of the drained spool
    stop_sampler
    drain=$(elapsed "$t1" "$t2")
    backlog=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$RES/backlog-r$round-$mode-$l.txt")
    rows1=$(db_rows)
    if [[ $rows0 != -1 && $rows1 != -1 ]]; then
      rows=$((rows1 - rows0))
      ingest_rps=$(awk -v n="$rows" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", n / (b - a) }')
      lag=$(ingest_lag "$t0" "$t1")
    fi
  fi
  disturbed=0
  [[ $a1 != "$a0" ]] && disturbed=1
  (($(awk '{ print $7 }' <<<"$cpu") > OTHER_LIMIT)) && disturbed=1
  DISTURBED=$disturbed
  # shellcheck disable=SC2086 # cpu and lag are lists of words
  printf '%s\n' "$round,$mode,$l,$MESSAGES,$secs,$msgps,$rc,$(printf '%s,' $cpu)$backlog,$drain,$rows,$ingest_rps,$(printf '%s,' $lag)$disturbed" >>"$RES/runs.csv"

  local busy ms noop_ms mr_ms pg_ms worker_ms other
  read -r busy ms noop_ms mr_ms pg_ms worker_ms other <<<"$cpu"
  printf '  r%d %-5s %-13s %7s msg/s %7s s  cpu %3s%% %5s ms/msg, other %2s%%' \
    "$round" "$mode" "$l" "$msgps" "$secs" "$busy" "$ms" "$other"
  [[ $l == noop ]] && printf '  (noop-milter %s ms/msg)' "$noop_ms"
  [[ $l == mailroom* ]] && printf '  (mailroom-milter %s, postgres %s, worker %s ms/msg)' "$mr_ms" "$pg_ms" "$worker_ms"
  ((disturbed)) && printf '  [disturbed]'
  ((rc == 0)) || printf '  smtp-source FAILED (exit %d, see %s)' "$rc" "$RES/smtp-source.err"
  echo
  if [[ $l == mailroom* && $INGEST == live ]]; then
    printf '        spool backlog max %s, drained %s s after the run; rows %s/%s; ingest %s rows/s; lag p50/p99/max %s ms\n' \
      "$backlog" "$drain" "$rows" "$MESSAGES" "$ingest_rps" "${lag// //}"
    [[ $rows == "$MESSAGES" ]] || warn "rows added ($rows) differ from messages sent ($MESSAGES): was the database down?"
  fi
}

# profile MODE LISTENER - one uncounted run under perf; CPU shares by command
profile() {
  local mode=$1 l=$2 flags=() data=$RES/perf-$1-$2.data pid
  [[ $mode == reuse ]] && flags=(-d)
  use_listener "$l"
  quiesce
  wait_quiet
  perf record -q -e cpu-clock -a -g -o "$data" -- sleep 600 >/dev/null 2>&1 &
  pid=$!
  sleep 1
  smtp-source "${flags[@]}" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f "$SENDER" -t "$RCPT" \
    "127.0.0.1:$(port_of "$l")" 2>>"$RES/smtp-source.err" || warn "profiled run $mode $l failed"
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  {
    echo "CPU samples by command, $mode, listener $l (perf record -e cpu-clock -a; 'swapper' is idle)"
    perf report -i "$data" --stdio --sort comm -g none --percent-limit 1 2>/dev/null | grep -v -e '^#' -e '^$'
    echo
  } | tee -a "$RES/perf.txt"
}

# latency ROUND LISTENER CONNECTIONS MESSAGES TAG - one run of smtp-latency.py
latency() {
  local round=$1 l=$2 conns=$3 msgs=$4 tag=$5 out a0 c0 c1 note=
  use_listener "$l"
  quiesce
  wait_quiet
  a0=$(dev_activity)
  c0=$(cpu_snapshot)
  out=$("$PYTHON" "$ROOT/bench/smtp-latency.py" -m "$msgs" -c "$conns" -l "$SIZE" -f "$SENDER" -t "$RCPT" \
    -o "$RES/latency-$tag-$l-r$round.txt" "127.0.0.1:$(port_of "$l")" 2>>"$RES/smtp-latency.err") ||
    warn "latency run $tag $l round $round had failures: $out"
  c1=$(cpu_snapshot)
  DISTURBED=0
  if [[ $(dev_activity) != "$a0" ]] || (($(cpu_report "$c0" "$c1" "$msgs" | awk '{ print $7 }') > OTHER_LIMIT)); then
    note='  [disturbed]'
    DISTURBED=1
    # set aside unless it is the last attempt (BENCH_RETRIES)
    ((LAST_ATTEMPT)) || mv "$RES/latency-$tag-$l-r$round.txt" "$RES/disturbed-latency-$tag-$l-r$round-$EPOCHSECONDS.txt"
  fi
  printf '  r%d latency %-3s %-13s %s%s\n' "$round" "$tag" "$l" "$out" "$note"
}

# ingest_drain - BENCH_INGEST=paused: restart the bench milter with the real
# database and time how fast it empties the spool (no intake meanwhile)
ingest_drain() {
  local n t0 t1 rows0 rows1 rows c0 c1 i cpu secs
  quiesce
  stop_pid "$MILTER_PID" mailroom-milter
  MILTER_PID=
  n=$(spool_count new)
  write_conf
  wait_quiet
  rows0=$(db_rows)
  PG_BENCH_PID=
  c0=$(cpu_snapshot)
  t0=$EPOCHREALTIME
  start_mailroom_milter
  start_sampler "$RES/backlog-drain.txt"
  for ((i = 0; i < 36000; i++)); do
    [[ $(spool_count new) == 0 ]] && break
    ((i % 10 == 0)) && [[ -z $PG_BENCH_PID ]] && INGEST=live find_pg_backend
    sleep 0.1
  done
  t1=$EPOCHREALTIME
  c1=$(cpu_snapshot)
  stop_sampler
  rows1=$(db_rows)
  rows=$((rows1 - rows0))
  secs=$(elapsed "$t0" "$t1")
  # The milter and the backend started after c0: their counters began at 0.
  cpu=$(INGEST=live cpu_report "$c0" "$c1" "$((rows > 0 ? rows : 1))")
  {
    echo "Ingest capacity (BENCH_INGEST=paused): $n records spooled while the database was unreachable;"
    echo "a restarted milter stored $rows rows in $secs s: $(awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%.0f", r / s }') rows/s."
    read -r busy ms _ mr pg worker other <<<"$cpu"
    echo "CPU per row: machine $ms ms ($busy % busy), mailroom-milter $mr ms, postgres backend $pg ms, worker $worker ms; other $other %"
    (($(spool_count new) == 0)) || echo "NOT DRAINED: $(spool_count new) records left after an hour"
  } | tee "$RES/ingest-capacity.txt"
}

# --- the summary -------------------------------------------------------------------------

# summarize DIR - the tables of a results folder (also: gateway.sh --summary DIR)
summarize() {
  "$PYTHON" - "$1" <<'EOF'
import csv, glob, os, re, statistics, sys

res = sys.argv[1]
settings = dict(re.findall(r"(\w+)=(\S+)", next(l for l in open(os.path.join(res, "setup.txt")) if l.startswith("settings:"))))
messages, sessions, size, ingest = int(settings["messages"]), int(settings["sessions"]), int(settings["size"]), settings["ingest"]
cols = ("round mode listener messages seconds msgps rc busy_pct cpu_ms noop_ms mailroom_ms pg_ms worker_ms "
        "other_pct backlog drain rows ingest_rps lag_p50 lag_p99 lag_max disturbed").split()
runs = [dict(zip(cols, r)) for r in csv.reader(open(os.path.join(res, "runs.csv")))]
out = []
def p(s=""): out.append(s)
def num(v):
    try: return float(v)
    except ValueError: return None
def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None
def fmt(v, f="%.1f"): return "-" if v is None else f % v

listeners = []
for r in runs:
    if r["listener"] not in listeners: listeners.append(r["listener"])
mailrooms = [l for l in listeners if l.startswith("mailroom")]
for mode in ("close", "reuse"):
    rs = [r for r in runs if r["mode"] == mode]
    if not rs: continue
    label = "a connection per message" if mode == "close" else "connections reused"
    p("Throughput, %s: smtp-source%s -s %d -m %d -l %d (ingest %s)" % (
        label, " -d" if mode == "reuse" else "", sessions, messages, size, ingest))
    p()
    p("| listener | msg/s per run (* disturbed) | median msg/s | CPU busy | CPU ms/msg | milter | postgres | worker | other CPU |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    m = {}
    for l in listeners:
        lr = [r for r in rs if r["listener"] == l]
        sel = [r for r in lr if r["disturbed"] == "0"] or lr
        m[l] = med(num(r["msgps"]) for r in sel)
        milter = "noop_ms" if l == "noop" else "mailroom_ms" if l.startswith("mailroom") else None
        p("| %s | %s | %s | %s %% | %s | %s | %s | %s | %s %% |" % (
            l, ", ".join(r["msgps"] + ("*" if r["disturbed"] != "0" else "") for r in lr), fmt(m[l]),
            fmt(med(num(r["busy_pct"]) for r in sel), "%.0f"), fmt(med(num(r["cpu_ms"]) for r in sel), "%.2f"),
            fmt(med(num(r[milter]) for r in sel), "%.2f") if milter else "-",
            fmt(med(num(r["pg_ms"]) for r in sel), "%.2f") if l.startswith("mailroom") and ingest == "live" else "-",
            fmt(med(num(r["worker_ms"]) for r in sel), "%.2f") if l.startswith("mailroom") and ingest == "live" else "-",
            fmt(med(num(r["other_pct"]) for r in sel), "%.0f")))
    ratio = lambda a, b: m[a] / m[b] if m[a] and m[b] else None
    p()
    p("   ".join(["%s/noop = %s" % (l, fmt(ratio(l, "noop"), "%.3f")) for l in mailrooms] +
                ["noop/none = %s" % fmt(ratio("noop", "none"), "%.3f")] +
                ["%s/none = %s" % (l, fmt(ratio(l, "none"), "%.3f")) for l in mailrooms]))
    # Runs of one round are neighbours in time: their ratio is less noisy
    # than the ratio of medians. By CPU: noop's CPU per message over ours.
    def last_run(rnd, l):
        lr = [r for r in rs if r["round"] == rnd and r["listener"] == l]
        return ([r for r in lr if r["disturbed"] == "0"] or lr or [None])[-1]
    for l in mailrooms:
        by_msgs, by_cpu = [], []
        for rnd in sorted({r["round"] for r in rs}, key=int):
            a, b = last_run(rnd, l), last_run(rnd, "noop")
            if a and b and num(a["msgps"]) and num(b["msgps"]):
                by_msgs.append(num(a["msgps"]) / num(b["msgps"]))
            if a and b and num(a["cpu_ms"]) and num(b["cpu_ms"]):
                by_cpu.append(num(b["cpu_ms"]) / num(a["cpu_ms"]))
        if by_msgs:
            p("%s/noop per round: %s (median %s); by CPU per message: %s (median %s)" % (
                l, ", ".join("%.3f" % v for v in by_msgs), fmt(med(by_msgs), "%.3f"),
                ", ".join("%.3f" % v for v in by_cpu) or "-", fmt(med(by_cpu), "%.3f")))
    p()

mr = [r for r in runs if r["listener"].startswith("mailroom") and r["backlog"] != "-"]
if mr:
    p("Ingest against intake (mailroom runs)")
    p()
    p("| round | mode | listener | intake msg/s | rows added | ingest rows/s | max backlog | drained after | lag p50 / p99 / max |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in mr:
        p("| %s | %s | %s | %s | %s/%d | %s | %s | %s s | %s / %s / %s ms |" % (
            r["round"], r["mode"], r["listener"], r["msgps"] + ("*" if r["disturbed"] != "0" else ""), r["rows"], messages,
            r["ingest_rps"], r["backlog"], r["drain"], r["lag_p50"], r["lag_p99"], r["lag_max"]))
    p()

def pct(s, q):
    k = max(0, min(len(s) - 1, -(-q * len(s) // 100) - 1))
    return s[int(k)]
lat = {}
for f in glob.glob(os.path.join(res, "latency-*-r*.txt")):
    tag, l = re.match(r"latency-(c\d+)-(.+)-r\d+\.txt$", os.path.basename(f)).groups()
    lat.setdefault((tag, l), []).extend(float(x) / 1000 for x in open(f) if x.strip())
    if l not in listeners: listeners.append(l)
if lat:
    p("End-of-data latency, final '.' to the 250 reply, undisturbed runs of all rounds pooled (ms)")
    p()
    p("| connections | listener | messages | p50 | p90 | p99 | max |")
    p("| --- | --- | --- | --- | --- | --- | --- |")
    for tag in sorted({t for t, _ in lat}, key=lambda t: int(t[1:])):
        for l in listeners:
            s = sorted(lat.get((tag, l), []))
            if s:
                p("| %s | %s | %d | %.2f | %.2f | %.2f | %.2f |" % (tag[1:], l, len(s), pct(s, 50), pct(s, 90), pct(s, 99), s[-1]))
    p()
cap = os.path.join(res, "ingest-capacity.txt")
if os.path.exists(cap):
    p(open(cap).read().rstrip())
    p()
text = "\n".join(out)
print(text)
open(os.path.join(res, "summary.txt"), "w").write(text + "\n")
EOF
}

# --- main --------------------------------------------------------------------------------

main() {
  preflight
  install -d -m 0755 "$B" "$B/log"
  install_binaries
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  install -d -m 0755 "$RES"

  say "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), Postfix $(postconf -dh mail_version)"
  print_build | sed 's/^/    /'
  write_conf
  [[ $(db -c 'select 1' 2>&1) == 1 ]] || die "the dev stack's PostgreSQL does not answer ($DB): run ./dev.sh up first"
  if [[ $INGEST == paused ]]; then
    write_conf "$NO_DB"
  fi
  say "bench milter: $CONF (commit.max_wait_us = ${COMMIT_WAIT_US:-$("$BIN/mailroom-milter" -n -c "$CONF" | sed -n 's/^milter.commit.max_wait_us = \(.*\);/\1/p')}, ingest $INGEST)"
  write_postfix
  start_milters
  postfix_start
  say "Postfix instance $PF: none 127.0.0.1:${PORT[none]}, noop :${PORT[noop]}, mailroom :${PORT[mailroom]}"
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "machine: $(nproc) CPUs; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); kernel $(uname -r); Postfix $(postconf -dh mail_version)"
    print_build
    echo "settings: rounds=$ROUNDS messages=$MESSAGES sessions=$SESSIONS size=$SIZE modes='$MODES' ingest=$INGEST commit_wait_us='$COMMIT_WAIT_US'" \
      "lat_messages=$LAT_MESSAGES lat_connections=$LAT_CONNECTIONS lat_serial=$LAT_SERIAL"
    "$BIN/mailroom-milter" -n -c "$CONF"
  } >"$RES/setup.txt"

  say "warming up (not counted)"
  local l r mode i rows0
  rows0=$(db_rows)
  for l in none noop mailroom; do
    smtp-source -s 5 -m 100 -l "$SIZE" -f "$SENDER" -t "$RCPT" "127.0.0.1:${PORT[$l]}" ||
      die "the $l listener (127.0.0.1:${PORT[$l]}) does not accept mail; see $B/log/postfix.log and $B/log/milter.log"
  done
  if [[ $INGEST == live ]]; then
    for ((i = 0; i < 300; i++)); do
      (($(db_rows) >= rows0 + 100)) && break
      sleep 0.1
    done
    (($(db_rows) >= rows0 + 100)) ||
      warn "the bench milter's records do not reach PostgreSQL (spool backlog $(spool_count new)); see $B/log/milter.log"
  fi

  echo "round,mode,listener,messages,seconds,msgps,rc,busy_pct,cpu_ms,noop_ms,mailroom_ms,pg_ms,worker_ms,other_pct,backlog,drain,rows,ingest_rps,lag_p50,lag_p99,lag_max,disturbed" \
    >"$RES/runs-columns.txt"
  say "throughput: $ROUNDS round(s), modes: $MODES (cpu: machine busy and ms per message; other: CPU used outside the bench)"
  for ((r = 1; r <= ROUNDS; r++)); do
    for mode in $MODES; do
      for l in "${LISTENERS[@]}"; do
        for ((i = 0; i <= RETRIES; i++)); do
          throughput "$r" "$mode" "$l"
          ((DISTURBED)) || break
        done
      done
    done
  done

  if ((PERF)); then
    if command -v perf >/dev/null; then
      say "profiled runs (not counted; perf.txt)"
      for mode in $MODES; do
        for l in "${LISTENERS[@]}"; do profile "$mode" "$l"; done
        for l in "${LISTENERS[@]}"; do
          [[ $l == mailroom* && -f $RES/perf-$mode-noop.data && -f $RES/perf-$mode-$l.data ]] || continue
          echo "noop (base) against $l (candidate), $mode:" | tee -a "$RES/perf.txt"
          "$PYTHON" "$ROOT/bench/perf-breakdown.py" -m "$MESSAGES" \
            "$RES/perf-$mode-noop.data" "$RES/perf-$mode-$l.data" | tee -a "$RES/perf.txt" ||
            warn "perf-breakdown.py failed for $mode $l"
        done
      done
    else
      warn "BENCH_PERF=1 but perf is not installed"
    fi
  fi

  if ((LAT_MESSAGES > 0 || LAT_SERIAL > 0)); then
    say "end-of-data latency"
    for ((r = 1; r <= ROUNDS; r++)); do
      for l in "${LISTENERS[@]}"; do
        for ((i = 0; LAT_MESSAGES > 0 && i <= RETRIES; i++)); do
          LAST_ATTEMPT=$((i == RETRIES))
          latency "$r" "$l" "$LAT_CONNECTIONS" "$LAT_MESSAGES" "c$LAT_CONNECTIONS"
          ((DISTURBED)) || break
        done
      done
      for l in "${LISTENERS[@]}"; do
        for ((i = 0; LAT_SERIAL > 0 && i <= RETRIES; i++)); do
          LAST_ATTEMPT=$((i == RETRIES))
          latency "$r" "$l" 1 "$LAT_SERIAL" c1
          ((DISTURBED)) || break
        done
      done
    done
  fi

  if [[ $INGEST == paused ]]; then
    say "ingest capacity: draining the spool into PostgreSQL"
    ingest_drain
  fi
  quiesce

  echo
  say "summary (also in $RES/summary.txt)"
  summarize "$RES"
}

if [[ ${1:-} == --summary ]]; then
  [[ -f ${2:-}/runs.csv ]] || die "usage: gateway.sh --summary RESULTS-FOLDER (with runs.csv)"
  summarize "$2"
  exit 0
fi
main "$@"
