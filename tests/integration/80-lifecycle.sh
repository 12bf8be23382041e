#!/usr/bin/env bash
# 80-lifecycle.sh - reload on SIGUSR1, a refused reload, SIGTERM with and without the database.
#
# Reload: gateway.personal_policy "none" in the running milter's config and
# SIGUSR1: a personal message (anna@example.com) gets no record and no
# X-Mailroom-Id, but X-Mailroom-Direction. Back to "metadata": a personal
# message gets a record that holds its header section only, with the size
# and SHA-256 of the whole message. A config with an error is refused at
# reload (logged with file and line) and the running settings stay.
# SIGTERM: with the database up the milter drains and exits 0, its log says
# "stopped; 0 records left in the spool"; with the database down its
# records stay in new/ and the next start, with the database up, drains them.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

CONF=$MAILROOM_CONF
cp -p "$CONF" "$T_TMP/mailroom.conf.orig"
# Whatever happens: the stack's config, PostgreSQL and the milter as dev.sh runs them.
at_exit 'devsh start pg'
at_exit 'milter_pid >/dev/null || devsh start milter'
at_exit 'cmp -s "$T_TMP/mailroom.conf.orig" "$CONF" || { cp -p "$T_TMP/mailroom.conf.orig" "$CONF"; kill -USR1 "$(milter_pid)"; }'

grep -q '^  personal_policy = "metadata";$' "$CONF" || bail "$CONF does not set personal_policy = \"metadata\""

# reload_milter - SIGUSR1; wait for the log line that says how it went; prints it
reload_milter() {
	local off
	off=$(log_mark "$MR_MILTER_LOG")
	kill -USR1 "$(milter_pid)"
	wait_log "$MR_MILTER_LOG" "$off" 'reload: ' 10
}

# set_policy POLICY [EXTRA-LINE] - personal_policy in the running config
set_policy() {
	sed -e "s/^  personal_policy = .*/  personal_policy = \"$1\";/" \
		-e "${2:+/^  personal_policy = /a\\$2}" "$T_TMP/mailroom.conf.orig" >"$CONF.tmp" &&
		mv "$CONF.tmp" "$CONF"
}

# personal NAME - send a personal message (bob@customer.test -> anna@example.com)
# with every header, so that Postfix adds none; sets QID and FILE (delivered copy)
QID=
FILE=
personal() {
	local tok
	tok=$(token "$1")
	printf 'From: bob@customer.test\r\nTo: Anna <anna@example.com>\r\nSubject: %s\r\nMessage-ID: <%s@sender.test>\r\nDate: %s\r\n\r\n' \
		"$tok" "$tok" "$(date -R)" >"$T_TMP/$1.head"
	printf 'Dear Anna,\r\nthis is personal.\r\n' >"$T_TMP/$1.body"
	cat "$T_TMP/$1.head" "$T_TMP/$1.body" >"$T_TMP/$1.eml"
	QID=$(send_one "$T_TMP/$1.out" "$T_TMP/$1.eml" --server "$MAILROOM_SMTP" --from bob@customer.test \
		--to anna@example.com)
	like "$QID" '^[0-9A-F]{6,}$' "$1: a personal message is answered 250 ($(cut -f2- "$T_TMP/$1.out"))"
	FILE=$(maildir_find "$tok" 30 | head -1)
	like "$FILE" /example.com/anna/new/ "$1: delivered to anna@"
}

# sentinel NAME - a message to info@ (always recorded); waits for its row
sentinel() {
	local q
	make_message "$T_TMP/$1.eml" "$(token "$1")"
	q=$(send_one "$T_TMP/$1.out" "$T_TMP/$1.eml" --server "$MAILROOM_SMTP")
	wait_rows "SELECT count(*) FROM auditor.messages WHERE queue_id = '$q' AND $MINE" 1 30
	is "$ROWS" 1 "$1: a message to info@ is recorded ($q)"
}

# check_metadata NAME - QID has one metadata record holding NAME's header section
check_metadata() {
	local id
	wait_rows "SELECT count(*) FROM auditor.messages WHERE queue_id = '$QID' AND $MINE" 1 30
	is "$ROWS" 1 "$1: one row for queue id $QID"
	id=$(sql "SELECT id FROM auditor.messages WHERE queue_id = '$QID' AND $MINE")
	is "$(header_values "${FILE:-/dev/null}" X-Mailroom-Id)" "$id" "$1: the delivered copy carries the record's id"
	is "$(sql_admin "SELECT record_policy, encode(substring(raw FROM length(raw) - 3), 'hex')
	                   FROM mailroom.messages WHERE id::text = '$id'")" "metadata|0d0a0d0a" \
		"$1: a metadata record whose raw ends with CRLF CRLF"
	is "$(sql_admin "SELECT encode(raw, 'hex') FROM mailroom.messages WHERE id::text = '$id'")" \
		"$(od -An -v -tx1 "$T_TMP/$1.head" | tr -d ' \n')" "$1: raw is exactly the header section sent"
	is "$(sql "SELECT size_bytes || ' ' || sha256 FROM auditor.messages WHERE id::text = '$id'")" \
		"$(stat -c %s "$T_TMP/$1.eml") $(sha256_of "$T_TMP/$1.eml")" "$1: size and sha256 cover the whole message"
}

# --- reload: personal_policy = none ---------------------------------------------------
set_policy none
like "$(reload_milter)" "reload: configuration from $CONF in force" "SIGUSR1 reloads the configuration"
ml_off=$(log_mark "$MR_MILTER_LOG")
personal none
is "$(header_values "${FILE:-/dev/null}" X-Mailroom-Id)" "" "none: the delivered copy has no X-Mailroom-Id"
is "$(header_values "${FILE:-/dev/null}" X-Mailroom-Direction)" inbound "none: it has X-Mailroom-Direction: inbound"
ok "none: the milter logged it as not recorded" \
	log_has "$MR_MILTER_LOG" "$ml_off" "queue_id=$QID direction=inbound size=[0-9]+ policy=none \(not recorded\)" 5
sentinel none-sentinel
# Ingest takes the oldest records first: after the later message's row, none can come.
is "$(sql "SELECT count(*) FROM auditor.messages WHERE queue_id = '$QID' AND $MINE")" 0 \
	"none: no row for queue id $QID"

# --- reload: back to metadata ---------------------------------------------------------------
cp -p "$T_TMP/mailroom.conf.orig" "$CONF"
like "$(reload_milter)" "reload: configuration from $CONF in force" "SIGUSR1 with personal_policy metadata"
personal metadata
check_metadata metadata

# --- a reload with an error is refused -------------------------------------------------------------
set_policy none '  no_such_setting = 1;'
line=$(grep -n 'no_such_setting = 1;' "$CONF" | cut -d: -f1)
like "$(reload_milter)" "reload: $CONF:$line: unknown setting 'gateway.no_such_setting'; keeping the running configuration" \
	"a config with an error is refused at reload, with file and line"
sentinel refused-sentinel
personal refused
check_metadata refused
cp -p "$T_TMP/mailroom.conf.orig" "$CONF"
like "$(reload_milter)" "in force" "the restored config reloads"

# --- SIGTERM with the database up -------------------------------------------------------------------
asan_before=$(asan_reports)
pid=$(milter_pid)
env_of_milter=$(milter_env_of "$pid")
ml_off=$(log_mark "$MR_MILTER_LOG")
devsh stop milter
ok "SIGTERM: the milter is gone" proc_gone "$pid"
ok "SIGTERM: it drained" log_has "$MR_MILTER_LOG" "$ml_off" "mailroom-milter\[$pid\]: stopping: draining the spool" 1
ok "SIGTERM: its log says stopped; 0 records left in the spool" \
	log_has "$MR_MILTER_LOG" "$ml_off" "mailroom-milter\[$pid\]: stopped; 0 records left in the spool" 1
is "$(comm -13 <(printf '%s\n' "$asan_before") <(asan_reports) | grep -c .)" 0 "SIGTERM: no sanitizer report"

# The exit status needs a child of ours: started the way dev.sh does it, with
# the same sanitizer settings, and its pid where ./dev.sh stop looks for it.
CHILD=
start_child() {
	local sock i off
	mapfile -t san_env <<<"$env_of_milter"
	printf '\n--- 80-lifecycle: start %s ---\n' "$(date -u +%FT%TZ)" >>"$MR_MILTER_LOG"
	off=$(log_mark "$MR_MILTER_LOG")
	env "${san_env[@]}" "$MR_MILTER_BIN" -c "$CONF" -f </dev/null >>"$MR_MILTER_LOG" 2>&1 &
	CHILD=$!
	echo "$CHILD" >"$MR_RUN/milter.pid"
	sock=$(sed -n 's/^milter\.socket = "unix:\(.*\)";$/\1/p' <("$MR_MILTER_BIN" -n -c "$CONF"))
	for ((i = 0; i < 300; i++)); do
		log_has "$MR_MILTER_LOG" "$off" "mailroom-milter\[$CHILD\]: started" 0 && [[ -S $sock ]] && return 0
		kill -0 "$CHILD" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# stop_child - ./dev.sh stop milter; EXIT holds the child's exit status
EXIT=
stop_child() {
	devsh stop milter
	wait "$CHILD"
	EXIT=$?
}

ok "a milter of this test's own starts" start_child
sentinel child-sentinel
stop_child
is "$EXIT" 0 "SIGTERM with the database up: exit status 0"

# --- SIGTERM with the database down ----------------------------------------------------------------------
ok "the milter starts again" start_child
devsh stop pg
ok "PostgreSQL is down" test "$(sql 'SELECT 1' 2>/dev/null)" != 1
ml_off=$(log_mark "$MR_MILTER_LOG")
tok=$(token dbdown)
send --server "$MAILROOM_SMTP" --generate 20 --per-conn 5 --subject "$tok" --token "$tok" \
	>"$T_TMP/dbdown.out" 2>>"$T_TMP/smtpsend.err"
is "$(codes "$T_TMP/dbdown.out")" "250 x20" "database down: 20 messages answered 250"
qids "$T_TMP/dbdown.out" >"$T_TMP/dbdown.qids"
# Each one's record: the log names its id, which is its file in new/.
ids=$(while read -r q; do
	log_since "$MR_MILTER_LOG" "$ml_off" | sed -nE "s/.*queue_id=$q id=([0-9a-f-]{36}) .*/\\1/p"
done <"$T_TMP/dbdown.qids")
is "$(grep -c . <<<"$ids")" 20 "database down: the milter logged a record id for each"
waiting=$(while read -r id; do [[ -f $MAILROOM_SPOOL/new/$id ]] && echo "$id"; done <<<"$ids" | grep -c .)
is "$waiting" 20 "database down: the 20 records wait in new/"
ml_off=$(log_mark "$MR_MILTER_LOG")
stop_child
is "$EXIT" 0 "SIGTERM with the database down: exit status 0"
left=$(log_since "$MR_MILTER_LOG" "$ml_off" | sed -nE "s/.*mailroom-milter\[$CHILD\]: stopped; ([0-9]+) records left in the spool.*/\\1/p")
cmp_ok "${left:-0}" '>=' 20 "SIGTERM with the database down: the log says $left records are left in the spool"
waiting=$(while read -r id; do [[ -f $MAILROOM_SPOOL/new/$id ]] && echo "$id"; done <<<"$ids" | grep -c .)
is "$waiting" 20 "the 20 records are still in new/"

devsh start pg
ml_off=$(log_mark "$MR_MILTER_LOG")
devsh start milter
ok "restarted with the database up, the milter counts the records waiting" \
	log_has "$MR_MILTER_LOG" "$ml_off" "spool: [0-9]+ records wait for ingest" 10
ok "the spool drains" wait_spool_empty 60
wait_qids_recorded "$T_TMP/dbdown.qids" 30
is "$BAD" "" "each of the 20 queue ids has exactly one row"
is "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id::text) FROM auditor.messages
            WHERE queue_id = ANY ('{$(paste -sd, "$T_TMP/dbdown.qids")}') AND $MINE")" \
	"$(sort <<<"$ids" | paste -sd' ')" "the rows are the records that waited"

done_testing
