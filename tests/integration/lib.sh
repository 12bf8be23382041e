# lib.sh - shared helpers of the integration tests (sourced, not run).
#
# Each tests/integration/NN-name.sh sources this file and drives the running
# development stack of ./dev.sh: PostgreSQL, mailroom-milter and the private
# Postfix instance. The tests print TAP for automake's tap-driver.sh (the plan
# comes last, from done_testing). They need root: they stop and start parts
# of the stack, read the milter's /proc entry and mount file systems.
#
# `make check-integration` exports the variables of `./dev.sh env`; a test
# run by hand reads them itself:
#   top_srcdir=$PWD top_builddir=$PWD bash tests/integration/10-delivery.sh
#
# Conventions: every assertion compares real values (queue ids, record ids,
# counts); rows are looked up by queue id or record id, never by counting a
# whole table, because other programs may write to the same database.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

# Run by itself (the harness's wildcard finds it too) it has nothing to test.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	echo "1..0 # SKIP lib.sh holds the helpers that the tests source"
	exit 0
fi

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}"
: "${top_builddir:=$top_srcdir}"
if [[ -z ${MAILROOM_CONF:-} || -z ${PGHOST:-} ]]; then
	eval "$("$top_srcdir/dev.sh" env)"
fi
export PGHOST PGPORT PGDATABASE PGUSER

MR_ROOT=$top_srcdir
MR_RUN=$(dirname "$MAILROOM_LOGDIR")
MR_MILTER_BIN=$top_builddir/milter/mailroom-milter
MR_MILTER_LOG=$MAILROOM_LOGDIR/milter.log
MR_POSTFIX_LOG=$MAILROOM_LOGDIR/postfix.log
MR_ASAN_DIR=$MAILROOM_LOGDIR/asan
MR_SMTPSEND=$top_srcdir/tests/tools/smtpsend.py
MR_AS_QUEUED=$top_srcdir/tests/tools/as-queued.py
# Queue ids are unique per gateway only: rows are looked up with its name.
MR_GATEWAY=$("$MR_MILTER_BIN" -n -c "$MAILROOM_CONF" 2>/dev/null | sed -n 's/^milter\.gateway_name = "\(.*\)";$/\1/p')

T_NAME=$(basename "$0" .sh)
T_COUNT=0
T_FAILED=0
T_STARTED=$SECONDS
# Rows of this run: received at or after this moment (same clock as the milter).
T_SINCE=$(date -u +'%Y-%m-%d %H:%M:%S.%6N+00')
# SQL condition for the rows of this run on this gateway.
MINE="gateway = '$MR_GATEWAY' AND received_at >= '$T_SINCE'"
T_TMP=$(mktemp -d "/tmp/mailroom-$T_NAME.XXXXXX")
# Delivered files newer than this marker belong to this run.
T_MARK=$T_TMP/.start
touch -d '-1 second' "$T_MARK"
T_CLEANUPS=()

# The tests stop and start parts of the one stack: never two at once (make
# -j). A lock directory, not a held file descriptor, which the daemons a test
# starts would inherit.
T_LOCK=$MR_RUN/integration-tests.lock
# A test that needs no stack may run before ./dev.sh up made .run/.
mkdir -p "$MR_RUN" || exit 1
until mkdir "$T_LOCK" 2>/dev/null; do
	holder=$(cat "$T_LOCK/pid" 2>/dev/null)
	# Left by a test that died: its process is gone (or never wrote its pid).
	if [[ -n $holder ]] && ! kill -0 "$holder" 2>/dev/null ||
		[[ -z $holder && -n $(find "$T_LOCK" -maxdepth 0 -mmin +1 2>/dev/null) ]]; then
		rm -rf "$T_LOCK"
	fi
	sleep 1
done
echo $$ >"$T_LOCK/pid"

# --- TAP ------------------------------------------------------------------------

# diag - each argument (and each line of it) as a TAP comment
diag() {
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

# todo_next REASON - the next result is a known defect: TAP "# TODO". A
# failure then does not fail the file, a pass shows up as XPASS (and fails
# `make check`), which says that the TODO mark can go.
T_TODO=
todo_next() {
	T_TODO=$1
}

# pass / fail - record one result; fail's further arguments are diagnostics
pass() {
	T_COUNT=$((T_COUNT + 1))
	printf 'ok %d - %s%s\n' "$T_COUNT" "${1//#/no.}" "${T_TODO:+ # TODO $T_TODO}"
	T_TODO=
}

fail() {
	T_COUNT=$((T_COUNT + 1))
	[[ -z $T_TODO ]] && T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d - %s%s\n' "$T_COUNT" "${1//#/no.}" "${T_TODO:+ # TODO $T_TODO}"
	T_TODO=
	shift
	(($#)) && diag "$@"
	return 0
}

# ok DESCRIPTION COMMAND [ARG...] - passes when the command succeeds
ok() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi
}

# is GOT WANT DESCRIPTION - string equality
is() {
	if [[ $1 == "$2" ]]; then
		pass "$3"
	else
		fail "$3" "got:  '$1'" "want: '$2'"
	fi
}

# isnt GOT UNWANTED DESCRIPTION
isnt() {
	if [[ $1 != "$2" ]]; then
		pass "$3"
	else
		fail "$3" "got '$1', which it must not be"
	fi
}

# like GOT REGEX DESCRIPTION - extended regular expression match
like() {
	if [[ $1 =~ $2 ]]; then
		pass "$3"
	else
		fail "$3" "got:  '$1'" "want match of: $2"
	fi
}

# unlike GOT REGEX DESCRIPTION
unlike() {
	if [[ $1 =~ $2 ]]; then
		fail "$3" "got:  '$1'" "must not match: $2"
	else
		pass "$3"
	fi
}

# cmp_ok GOT OP WANT DESCRIPTION - integer comparison, OP one of < <= == != >= >
cmp_ok() {
	local got=$1 op=$2 want=$3 desc=$4 r=1
	if [[ $got =~ ^-?[0-9]+$ && $want =~ ^-?[0-9]+$ ]]; then
		case $op in
		'<') ((got < want)) && r=0 ;;
		'<=') ((got <= want)) && r=0 ;;
		'==') ((got == want)) && r=0 ;;
		'!=') ((got != want)) && r=0 ;;
		'>=') ((got >= want)) && r=0 ;;
		'>') ((got > want)) && r=0 ;;
		esac
	fi
	if ((r == 0)); then
		pass "$desc"
	else
		fail "$desc" "got:  '$got'" "want: $op '$want'"
	fi
}

# skip REASON [COUNT] - COUNT tests that cannot run here
skip() {
	local i
	for ((i = 0; i < ${2:-1}; i++)); do
		T_COUNT=$((T_COUNT + 1))
		printf 'ok %d # SKIP %s\n' "$T_COUNT" "$1"
	done
}

# skip_all REASON - the whole file cannot run here
skip_all() {
	printf '1..0 # SKIP %s\n' "$1"
	exit 0
}

# bail REASON - stop the whole file: the environment is not usable
bail() {
	printf 'Bail out! %s\n' "$1"
	exit 1
}

# done_testing - print the plan; exit status 1 when anything failed
done_testing() {
	diag "$T_NAME: $((SECONDS - T_STARTED)) s"
	printf '1..%d\n' "$T_COUNT"
	if ((T_FAILED)); then
		diag "$T_FAILED of $T_COUNT failed; files of this run kept in $T_TMP"
		T_KEEP_TMP=1
		exit 1
	fi
	exit 0
}

# at_exit COMMAND... - run at exit, last registered first (restores the stack)
at_exit() {
	T_CLEANUPS+=("$*")
}

t_run_cleanups() {
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUPS[i]}" >>"$T_TMP/cleanup.log" 2>&1 || true
	done
	if [[ -z ${T_KEEP_TMP:-} ]]; then
		rm -rf "$T_TMP"
	fi
	rm -rf "$T_LOCK"
}
trap t_run_cleanups EXIT

# --- the stack ---------------------------------------------------------------------

# devsh ARGS... - ./dev.sh quietly; its output goes to the run's dev.log
devsh() {
	"$MR_ROOT/dev.sh" "$@" >>"$T_TMP/dev.log" 2>&1
}

# milter_pid - pid of the stack's running mailroom-milter, or status 1
milter_pid() {
	local pid
	pid=$(cat "$MR_RUN/milter.pid" 2>/dev/null) || return 1
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q mailroom-milter || return 1
	echo "$pid"
}

# milter_env_of PID - the sanitizer settings the running milter got from dev.sh,
# as NAME=VALUE lines, to start another instance the same way
milter_env_of() {
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -E '^(ASAN|UBSAN|LSAN)_OPTIONS=' || true
}

# rss_kb PID - resident set size in kB
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

postfix_up() {
	postfix -c "$MAILROOM_POSTFIX_CONF" status >/dev/null 2>&1
}

# require_stack - bail out unless PostgreSQL, the milter and Postfix run
require_stack() {
	[[ $(id -u) -eq 0 ]] || bail "the integration tests need root"
	[[ -x $MR_MILTER_BIN ]] || bail "$MR_MILTER_BIN not built"
	milter_pid >/dev/null || bail "mailroom-milter is not running (./dev.sh up)"
	postfix_up || bail "the Postfix instance is not running (./dev.sh up)"
	[[ $(sql 'SELECT 1' 2>/dev/null) == 1 ]] || bail "PostgreSQL does not answer as $PGUSER (./dev.sh up)"
}

# postfix_wait_queue [TIMEOUT] - wait until the instance's queue is empty
postfix_wait_queue() {
	local end=$((SECONDS + ${1:-60})) q
	q=$(postconf -c "$MAILROOM_POSTFIX_CONF" -h queue_directory)
	while [[ -n $(find "$q"/{incoming,active,deferred,maildrop} -type f 2>/dev/null | head -1) ]]; do
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	return 0
}

# spool_count [SPOOL] [SUB] - files in SPOOL/SUB (default: the stack's new/)
spool_count() {
	find "${1:-$MAILROOM_SPOOL}/${2:-new}" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# wait_spool_empty [TIMEOUT] [SPOOL] - until new/ holds no record
wait_spool_empty() {
	local end=$((SECONDS + ${1:-60}))
	while (($(spool_count "${2:-$MAILROOM_SPOOL}") > 0)); do
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	return 0
}

asan_reports() {
	find "$MR_ASAN_DIR" -maxdepth 1 -type f 2>/dev/null | sort
}

# --- logs ----------------------------------------------------------------------------
# A mark is a byte offset: *_since prints what was written after it.

log_mark() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# log_since FILE OFFSET
log_since() {
	tail -c +$(($2 + 1)) "$1" 2>/dev/null
}

# wait_log FILE OFFSET REGEX [TIMEOUT] - until a line after OFFSET matches; prints it
wait_log() {
	local end=$((SECONDS + ${4:-30})) line
	while :; do
		line=$(log_since "$1" "$2" | grep -E -m1 -- "$3") && {
			printf '%s\n' "$line"
			return 0
		}
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
}

# log_has FILE OFFSET REGEX [TIMEOUT] - wait_log without output
log_has() {
	wait_log "$@" >/dev/null
}

# pflog_qid_by_msgid OFFSET MESSAGE-ID [TIMEOUT] - queue id that cleanup logged
# for a Message-ID (without <>) after OFFSET of the Postfix log
pflog_qid_by_msgid() {
	local line
	line=$(wait_log "$MR_POSTFIX_LOG" "$1" "cleanup\[[0-9]+\]: [0-9A-Za-z]+: message-id=<$2>" "${3:-30}") || return 1
	sed -E 's/.*: ([0-9A-Za-z]+): message-id=.*/\1/' <<<"$line"
}

# pflog_queued OFFSET - queue ids qmgr took in (its from= lines) after OFFSET, sorted
pflog_queued() {
	log_since "$MR_POSTFIX_LOG" "$1" | sed -nE 's/.*postfix-mailroom\/qmgr\[[0-9]+\]: ([0-9A-Za-z]+): from=<.*/\1/p' | sort -u
}

# --- SMTP ------------------------------------------------------------------------------

# send ARGS... - tests/tools/smtpsend.py: "label TAB code TAB queue-id-or-reply" per message
send() {
	python3 "$MR_SMTPSEND" "$@"
}

# codes FILE - "code count" lines of a send result, most frequent first
codes() {
	cut -f2 "$1" | sort | uniq -c | sort -rn | awk '{ print $2 " x" $1 }' | paste -sd ' '
}

# count_code FILE CODE - how many messages got CODE
count_code() {
	awk -F'\t' -v c="$2" '$2 == c' "$1" | wc -l
}

# qids FILE - queue ids of the messages answered 250, sorted
qids() {
	awk -F'\t' '$2 == 250 { print $3 }' "$1" | sort
}

# reply_of FILE LABEL - "code TAB text" of one message
reply_of() {
	awk -F'\t' -v l="$2" '$1 == l { print $2 "\t" $3; exit }' "$1"
}

# send_one OUT FILE [smtpsend options] - one message from FILE; prints its queue
# id when it was answered 250 (status 1 otherwise, the reply is in OUT)
send_one() {
	local out=$1 file=$2
	shift 2
	send "$@" "$file" >"$out" 2>>"$T_TMP/smtpsend.err"
	awk -F'\t' '$2 == 250 { print $3; found = 1 } END { exit !found }' "$out"
}

# proc_state PID - the process's state letter (R, S, D, Z ...); fails when it is gone
proc_state() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	echo "${s%% *}"
}

# proc_gone PID - the process has exited (a zombie nobody reaped yet counts)
proc_gone() {
	local st
	st=$(proc_state "$1") || return 0
	[[ $st == Z ]]
}

# stack_workers - pids of the live mailroom-worker processes of this stack
# (its configuration on their command line): other checkouts' workers on the
# same machine and zombies nobody reaped are left out
stack_workers() {
	local p
	for p in $(pgrep -f "mailroom-worker -c $MAILROOM_CONF( |\$)"); do
		[[ $(proc_state "$p") == Z ]] || echo "$p"
	done
	return 0
}

# --- extra workers -----------------------------------------------------------------------
# A test may run workers of its own beside (or instead of) the stack's.
WORKER_BIN=$top_builddir/worker/mailroom-worker

W_PIDS=()
# start_worker LABEL - a worker as user mailroom, logging to $T_TMP/worker-LABEL.log;
# W_PID is its pid (runuser's child), W_NAME the name it claims jobs with
start_worker() {
	local rpid i
	W_PID=
	runuser -u mailroom -- "$WORKER_BIN" -c "$MAILROOM_CONF" -f </dev/null >>"$T_TMP/worker-$1.log" 2>&1 &
	rpid=$!
	for ((i = 0; i < 100; i++)); do
		W_PID=$(pgrep -P "$rpid" -x mailroom-worker) && break
		sleep 0.1
	done
	[[ -n $W_PID ]] || bail "worker $1 did not start: $(tail -n 5 "$T_TMP/worker-$1.log")"
	W_PIDS+=("$W_PID")
	W_NAME=$(wait_log "$T_TMP/worker-$1.log" 0 'started as ' 10 | sed 's/.*started as //')
	[[ -n $W_NAME ]] || bail "worker $1 did not say its name"
}

# stop_worker PID - SIGTERM, then wait until it is gone
stop_worker() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
}

stop_test_workers() {
	local p
	for p in "${W_PIDS[@]}"; do
		stop_worker "$p"
	done
}

# --- PostgreSQL --------------------------------------------------------------------------

# sql QUERY - as the auditor role of ./dev.sh env; unaligned, tuples only
sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# sql_admin QUERY - as the superuser, for mailroom.* (raw bytes)
sql_admin() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -c "$1"
}

# sql_array WORD... - a text[] literal for queries ('{a,b}'); words must be plain
sql_array() {
	local IFS=,
	printf "'{%s}'::text[]" "$*"
}

# wait_rows QUERY EXPECTED [TIMEOUT] - poll the auditor query until it prints
# EXPECTED; ROWS holds the last answer
ROWS=
wait_rows() {
	wait_query sql "$@"
}

# wait_query RUNNER QUERY EXPECTED [TIMEOUT] - wait_rows with another runner (sql_admin)
wait_query() {
	local run=$1
	shift
	local end=$((SECONDS + ${3:-30}))
	while :; do
		ROWS=$("$run" "$1" 2>&1)
		[[ $ROWS == "$2" ]] && return 0
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
}

# rows_per_qid FILE-OF-QIDS - "queue_id count" for each queue id of the file
# (0 for none), recorded by this gateway during this run
rows_per_qid() {
	local list
	list=$(paste -sd, "$1")
	sql "SELECT q, (SELECT count(*) FROM auditor.messages m
	                 WHERE m.queue_id = q AND m.gateway = '$MR_GATEWAY' AND m.received_at >= '$T_SINCE')
	       FROM unnest('{$list}'::text[]) AS q ORDER BY q" | tr '|' ' '
}

# wait_qids_recorded FILE-OF-QIDS [TIMEOUT] - until each queue id has a row;
# BAD then lists every queue id whose count is not exactly 1
BAD=
wait_qids_recorded() {
	local end=$((SECONDS + ${2:-60}))
	while :; do
		BAD=$(rows_per_qid "$1" | awk '$2 != 1')
		# More than one row cannot get better by waiting.
		[[ -z $BAD ]] && return 0
		if ((SECONDS >= end)) || awk '$2 > 1 { f = 1 } END { exit !f }' <<<"$BAD"; then
			return 1
		fi
		sleep 0.5
	done
}

# --- delivered mail ------------------------------------------------------------------------

# maildir_find TOKEN [TIMEOUT] [COUNT] - delivered files of this run that
# contain TOKEN, once there are at least COUNT (default 1) of them
maildir_find() {
	local end=$((SECONDS + ${2:-30})) found
	while :; do
		found=$(find "$MAILROOM_MAILDIR" -path '*/new/*' -type f -newer "$T_MARK" -print0 2>/dev/null |
			xargs -0 -r grep -lF -e "$1" -- 2>/dev/null | sort)
		if [[ -n $found ]] && (($(wc -l <<<"$found") >= ${3:-1})); then
			printf '%s\n' "$found"
			return 0
		fi
		if ((SECONDS >= end)); then
			[[ -n $found ]] && printf '%s\n' "$found"
			return 1
		fi
		sleep 0.2
	done
}

# header_values FILE NAME - every value of header NAME (any case) in the header
# section of FILE, unfolded and trimmed, one per line
header_values() {
	awk -v name="$2" '
		function emit() { gsub(/^[ \t]+|[ \t]+$/, "", val); print val; inh = 0 }
		BEGIN { want = tolower(name) ":" }
		{ sub(/\r$/, "") }
		/^$/ { exit }
		/^[ \t]/ { if (inh) val = val $0; next }
		{
			if (inh) emit()
			if (tolower(substr($0, 1, length(want))) == want) { inh = 1; val = substr($0, length(want) + 1) }
		}
		END { if (inh) emit() }' "$1"
}

# as_queued FILE - "queue-id sha256 size" of the message Postfix queued, rebuilt
# from its delivered copy (tests/tools/as-queued.py)
as_queued() {
	python3 "$MR_AS_QUEUED" "$@"
}

# check_delivery LABEL QID FILE DIRECTION RCPTS [forged] - the checks every
# delivered message gets: FILE (a delivered copy) carries one X-Mailroom-Id;
# it names exactly one row; that row has queue id QID, DIRECTION and the
# envelope recipients RCPTS (a text[] literal such as {a@x,b@y}); its SHA-256
# and size describe its raw bytes, and are those of the message Postfix
# queued (unless "forged": forged X-Mailroom-* headers are in the record but
# not in the delivered copy). Sets REC_ID.
REC_ID=
check_delivery() {
	local label=$1 qid=$2 file=$3 dir=$4 rcpts=$5 ids row
	ids=$(header_values "$file" X-Mailroom-Id)
	REC_ID=$ids
	like "$ids" '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
		"$label: the delivered copy has one X-Mailroom-Id (a UUIDv7)"
	is "$(header_values "$file" X-Mailroom-Direction)" "$dir" "$label: X-Mailroom-Direction: $dir"
	wait_rows "SELECT count(*) FROM auditor.messages WHERE queue_id = '$qid' AND $MINE" 1 30
	is "$ROWS" 1 "$label: one row for queue id $qid"
	row=$(sql "SELECT queue_id, direction, envelope_to FROM auditor.messages WHERE id::text = '$ids'")
	is "$row" "$qid|$dir|$rcpts" "$label: the row of id $ids has queue id, direction and recipients"
	row=$(sql_admin "SELECT v.sha256 = encode(sha256(m.raw), 'hex'), v.size_bytes = length(m.raw), m.record_policy
	                   FROM auditor.messages v JOIN mailroom.messages m USING (id) WHERE v.id::text = '$ids'")
	is "$row" "t|t|full" "$label: sha256 and size_bytes describe the stored raw bytes"
	[[ ${6:-} == forged ]] && return 0
	is "$(as_queued "$file" 2>&1)" \
		"$(sql "SELECT queue_id || ' ' || sha256 || ' ' || size_bytes FROM auditor.messages WHERE id::text = '$ids'")" \
		"$label: the record is byte for byte the message Postfix queued and delivered"
}

# --- messages ----------------------------------------------------------------------------------

# T_RUN makes tokens of this run unique across runs and machines.
T_RUN=$(date +%s).$$

# token WORD - a string unique to this run, for Message-IDs and searches
token() {
	printf '%s.%s.%s' "$T_NAME" "$1" "$T_RUN"
}

# compose FILE FROM TO SUBJECT MESSAGE-ID BODY [HEADER-LINE...] - a small
# US-ASCII text/plain message with CRLF line ends; the header lines come after Date
compose() {
	local file=$1 from=$2 to=$3 subject=$4 msgid=$5 body=$6 h
	shift 6
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$subject"
		printf 'Message-ID: <%s>\r\nDate: %s\r\n' "$msgid" "$(date -R)"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n' "$body"
	} >"$file"
}

# make_message FILE TOKEN [HEADER-LINE...] - a small message with CRLF line
# ends; its Subject and Message-ID (<TOKEN@sender.test>) carry TOKEN, the
# extra header lines come after the usual ones
make_message() {
	local file=$1 tok=$2 h
	shift 2
	{
		printf 'From: Customer <bob@customer.test>\r\n'
		printf 'To: info@example.com\r\n'
		printf 'Subject: test %s\r\n' "$tok"
		printf 'Message-ID: <%s@sender.test>\r\n' "$tok"
		printf 'Date: %s\r\n' "$(date -R)"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf '\r\nBody of %s.\r\n' "$tok"
	} >"$file"
}

# sha256_of FILE - hex digest
sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}

# --- the web pages ----------------------------------------------------------------------------

# Through lighttpd at $MAILROOM_URL (./dev.sh up starts it): WEB_URL
# (…/mailroom.cgi), WEB_ORIGIN (scheme, host and port) and WEB_BASE (the
# script's path, what links start with).
WEB_URL=${MAILROOM_URL:-}
WEB_ORIGIN=${WEB_URL%/mailroom.cgi*}
WEB_BASE=${WEB_URL#"$WEB_ORIGIN"}

# require_web - bail out unless mailroomctl is built and lighttpd runs;
# then CTL is mailroomctl and ctl ARGS... runs it with the stack's settings
require_web() {
	CTL=$top_builddir/ctl/mailroomctl
	[[ -x $CTL ]] || bail "mailroomctl not built"
	[[ -n $WEB_URL ]] || bail "MAILROOM_URL is not set: ./dev.sh up starts lighttpd"
}
ctl() { "$CTL" -c "$MAILROOM_CONF" "$@"; }

# web_login_form - GET /login of $MAILROOM_URL; LC the login cookie, LF the form's token
web_login_form() {
	curl -s -D "$T_TMP/lf.hdr" -o "$T_TMP/lf.html" "$MAILROOM_URL/login"
	LC=$(sed -n 's/^Set-Cookie: __Host-mailroom-login=\([0-9a-f]\{64\}\);.*/\1/p' "$T_TMP/lf.hdr" | tr -d '\r')
	LF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]\{64\}\)".*/\1/p' "$T_TMP/lf.html")
}

# web_sign_in LOGIN PASSWORD [CODE] - POST /login; ST the status, SC the
# session cookie ("" when none); the answer in $T_TMP/si.hdr and si.html
web_sign_in() {
	web_login_form
	SC=
	ST=$(curl -s -D "$T_TMP/si.hdr" -o "$T_TMP/si.html" -w '%{http_code}' -H "Origin: ${MAILROOM_URL%/mailroom.cgi*}" \
		-H "Cookie: __Host-mailroom-login=$LC" --data-urlencode "csrf=$LF" --data-urlencode "login=$1" \
		--data-urlencode "password=$2" --data-urlencode "code=${3:-}" "$MAILROOM_URL/login")
	SC=$(sed -n 's/^Set-Cookie: __Host-mailroom=\([0-9a-f]\{64\}\);.*/\1/p' "$T_TMP/si.hdr" | tr -d '\r')
}

# web_totp SECRET [OFFSET_STEPS] - the TOTP code (RFC 6238, SHA-1, 30 s) of
# a base32 key now, or OFFSET_STEPS time steps away
web_totp() {
	python3 -c '
import base64, hmac, hashlib, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1" "${2:-0}"
}

# web_csrf COOKIE FORM - the CSRF token of form name FORM for the session of
# COOKIE: HMAC-SHA256 of the name under the session's key (webui-cgi/csrf.c)
web_csrf() {
	local key
	key=$(sql_admin "SELECT encode(csrf_key, 'hex') FROM mailroom.web_sessions
	                  WHERE token_hash = sha256(decode('$1', 'hex'))")
	python3 -c 'import hmac, hashlib, sys
print(hmac.new(bytes.fromhex(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$key" "$2"
}

# deliver NAME SERVER ENVELOPE-FROM RCPT - send $T_TMP/NAME.eml; the record id once sorted by a worker
deliver() {
	local name=$1 server=$2 from=$3 rcpt=$4 qid id end=$((SECONDS + 30))
	qid=$(send_one "$T_TMP/$name.out" "$T_TMP/$name.eml" --server "$server" --from "$from" --to "$rcpt") ||
		return 1
	while :; do
		id=$(sql_admin "SELECT m.id FROM mailroom.messages m JOIN mailroom.message_meta mm ON mm.message_id = m.id
		                 WHERE m.queue_id = '$qid' AND $MINE")
		[[ -n $id ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$id"
}
