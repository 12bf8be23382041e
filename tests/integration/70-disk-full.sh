#!/usr/bin/env bash
# 70-disk-full.sh - the spool's file system fills up: no half record, the milter's own answer.
#
# A second mailroom-milter (same binary, a config derived from the stack's)
# keeps its spool on a 3 MB tmpfs and cannot reach its database, so records
# stay in the spool. A Postfix smtpd service of the dev instance, on the
# port after the inbound one, uses it. 200 KB messages go in until the
# answer turns 4xx:
#   - the 4xx is the milter's ("could not be recorded"), not Postfix's;
#   - tmp/ is empty and new/ holds one complete record per 250 answer (each
#     ends with the 24-byte "MRREC1 " footer; its trailer names the file);
#   - with milter.on_spool_failure = "reject" (SIGUSR1) the answer is 5xx;
#   - pointed at the real database (SIGUSR1), the spool drains and every
#     queue id answered 250 has one row, with the id of its spool file.
# Afterwards the service is removed and master.cf is as it was.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

PORT=$((${MAILROOM_SMTP##*:} + 1)) # beside the inbound port of the dev stack
SERVER=127.0.0.1:$PORT
SERVICE=127.0.0.1:$PORT/inet
MSG_SIZE=200000
D=$MR_RUN/it-diskfull
SPOOL=$D/spool
SOCK=$D/milter/milter.sock
CONF=$D/mailroom.conf
LOG=$MAILROOM_LOGDIR/milter-diskfull.log
MASTER_CF=$MAILROOM_POSTFIX_CONF/master.cf
REAL_DB=$("$MR_MILTER_BIN" -n -c "$MAILROOM_CONF" | sed -n 's/^milter\.database = "\(.*\)";$/\1/p')

# write_conf DATABASE ON_SPOOL_FAILURE - the second instance's config: the
# stack's with its own socket, spool, database and failure answer
write_conf() {
	awk -v sock="unix:$SOCK" -v spool="$SPOOL" -v db="$1" -v fail="$2" '
		function put(k, v) { printf "  %s = \"%s\";\n", k, v; done[k] = 1 }
		/^[a-z_]+ = \{/ { sec = $1 }
		sec == "milter" && /^\};/ {
			if (!done["socket"]) put("socket", sock)
			if (!done["spool_dir"]) put("spool_dir", spool)
			if (!done["database"]) put("database", db)
			if (!done["on_spool_failure"]) put("on_spool_failure", fail)
		}
		/^\};/ { sec = "" }
		sec == "milter" && $1 == "socket" { put("socket", sock); next }
		sec == "milter" && $1 == "spool_dir" { put("spool_dir", spool); next }
		sec == "milter" && $1 == "database" { put("database", db); next }
		sec == "milter" && $1 == "on_spool_failure" { put("on_spool_failure", fail); next }
		{ print }' "$MAILROOM_CONF" >"$CONF.tmp" && chmod 0644 "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
}

# reload - SIGUSR1 to the second milter; wait until it took the file
reload() {
	local off
	off=$(log_mark "$LOG")
	kill -USR1 "$PID2"
	log_has "$LOG" "$off" 'reload: configuration from .* in force' 10
}

# send_big N - one 200 KB message through $SERVER; appends its answer to $T_TMP/out
send_big() {
	send --server "$SERVER" --generate 1 --size "$MSG_SIZE" --token "$(token "m$1")" --subject "$(token "m$1")" \
		2>>"$T_TMP/smtpsend.err" | sed "s/^gen-0/m$1/" >>"$T_TMP/out"
}

# --- set up: tmpfs, second milter, Postfix service ----------------------------------
cleanup_second() {
	if [[ -n ${PID2:-} ]] && kill -0 "$PID2" 2>/dev/null; then
		kill -TERM "$PID2"
		wait "$PID2"
	fi
	mountpoint -q "$SPOOL" && umount "$SPOOL"
	rm -rf "$D"
}
cleanup_postfix() {
	if postconf -c "$MAILROOM_POSTFIX_CONF" -M "$SERVICE" 2>/dev/null | grep -q .; then
		postconf -c "$MAILROOM_POSTFIX_CONF" -MX "$SERVICE"
	fi
	cmp -s "$T_TMP/master.cf" "$MASTER_CF" || cp "$T_TMP/master.cf" "$MASTER_CF"
	postfix -c "$MAILROOM_POSTFIX_CONF" reload
}

# Leftovers of an interrupted run.
if postconf -c "$MAILROOM_POSTFIX_CONF" -M "$SERVICE" 2>/dev/null | grep -q .; then
	postconf -c "$MAILROOM_POSTFIX_CONF" -MX "$SERVICE"
fi
if [[ -s $D/pid ]] && tr '\0' ' ' <"/proc/$(cat "$D/pid")/cmdline" 2>/dev/null | grep -q "mailroom-milter -c $CONF"; then
	kill -TERM "$(cat "$D/pid")"
	sleep 2
fi
mountpoint -q "$SPOOL" && umount "$SPOOL"
rm -rf "$D"

cp "$MASTER_CF" "$T_TMP/master.cf"
at_exit cleanup_postfix
at_exit cleanup_second
install -d -m 0755 "$D" "$SPOOL"
install -d -o mailroom -g postfix -m 0750 "$D/milter"
mount -t tmpfs -o size=3m,mode=0750,uid="$(id -u mailroom)",gid="$(id -g mailroom)" mailroom-it-diskfull "$SPOOL"
ok "a 3 MB tmpfs is mounted for the spool" mountpoint -q "$SPOOL"

write_conf "host=$D/no-database port=5433 dbname=mailroom user=mailroom_milter" tempfail
eff=$("$MR_MILTER_BIN" -n -c "$CONF")
like "$eff" "milter\.spool_dir = \"$SPOOL\";" "the second instance's config has its own spool"
like "$eff" "milter\.socket = \"unix:$SOCK\";" "and its own socket"

# Started like the stack's milter (same sanitizer settings), as our child.
mapfile -t san_env < <(milter_env_of "$(milter_pid)")
printf '\n--- 70-disk-full: start %s ---\n' "$(date -u +%FT%TZ)" >>"$LOG"
LOG_OFF=$(log_mark "$LOG")
env "${san_env[@]}" "$MR_MILTER_BIN" -c "$CONF" -f </dev/null >>"$LOG" 2>&1 &
PID2=$!
echo "$PID2" >"$D/pid"
for ((i = 0; i < 300; i++)); do
	[[ -S $SOCK ]] && break
	kill -0 "$PID2" 2>/dev/null || break
	sleep 0.1
done
ok "the second milter runs and listens on its socket" test -S "$SOCK"
[[ -S $SOCK ]] || bail "the second milter did not start; see $LOG"

postconf -c "$MAILROOM_POSTFIX_CONF" -M "$SERVICE=127.0.0.1:$PORT inet n - n - - smtpd" &&
	postconf -c "$MAILROOM_POSTFIX_CONF" -P "$SERVICE/smtpd_milters=unix:$SOCK" \
		"$SERVICE/syslog_name=postfix-mailroom/diskfull" &&
	postfix -c "$MAILROOM_POSTFIX_CONF" reload >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	port_listens=$(ss -Hltn "sport = :$PORT" | grep -c .)
	((port_listens)) && break
	sleep 0.1
done
cmp_ok "$port_listens" '>' 0 "Postfix listens on $SERVER"

# --- fill the spool ------------------------------------------------------------------------
: >"$T_TMP/out"
for ((n = 1; n <= 40; n++)); do
	send_big "$n"
	[[ $(tail -1 "$T_TMP/out" | cut -f2) == 250 ]] || break
done
n250=$(count_code "$T_TMP/out" 250)
last=$(tail -1 "$T_TMP/out")
diag "answers: $(codes "$T_TMP/out"); the last: $(cut -f2- <<<"$last")"
cmp_ok "$n250" '>' 5 "several 200 KB messages were accepted before the file system was full"
like "$(cut -f2 <<<"$last")" '^4[0-9][0-9]$' "then the answer turned 4xx"
like "$(cut -f3 <<<"$last")" '4\.3\.0 Message could not be recorded' "the 4xx is the milter's"
ok "the milter logged the spool failure" log_has "$LOG" "$LOG_OFF" 'spool: record .*: No space left on device' 5

is "$(spool_count "$SPOOL" tmp)" 0 "tmp/ on the full file system is empty"
is "$(spool_count "$SPOOL" new)" "$n250" "new/ holds one file per 250 answer"
complete=0
for f in "$SPOOL"/new/*; do
	[[ -f $f ]] || continue
	footer=$(tail -c 24 "$f" | tr '\n' '$')
	[[ $footer =~ ^MRREC1\ ([0-9a-f]{16})\$$ ]] || continue
	len=$((16#${BASH_REMATCH[1]}))
	# The trailer begins with the record's id, which is also the file's name.
	[[ $(tail -c $((24 + len)) "$f" | head -c 42) == "id 36"$'\n'"$(basename "$f")" ]] || continue
	complete=$((complete + 1))
done
is "$complete" "$n250" "every file in new/ is a complete record (footer, trailer with its id)"
ls "$SPOOL/new" | sort >"$T_TMP/spool.ids"

# --- on_spool_failure = reject ----------------------------------------------------------------------
write_conf "host=$D/no-database port=5433 dbname=mailroom user=mailroom_milter" reject
ok "reload with on_spool_failure = reject" reload
send_big reject
last=$(tail -1 "$T_TMP/out")
like "$(cut -f2 <<<"$last")" '^5[0-9][0-9]$' "with reject the answer is 5xx ($(cut -f2- <<<"$last"))"
like "$(cut -f3 <<<"$last")" '5\.3\.0 Message could not be recorded' "the 5xx is the milter's"
is "$(spool_count "$SPOOL" tmp) $(spool_count "$SPOOL" new)" "0 $n250" "still nothing in tmp/, the same records in new/"

# --- the database comes back: the spool drains --------------------------------------------------------
write_conf "$REAL_DB" tempfail
ok "reload with the real database" reload
ok "the full spool drains" wait_spool_empty 60 "$SPOOL"
qids "$T_TMP/out" >"$T_TMP/qids"
wait_qids_recorded "$T_TMP/qids" 30
is "$BAD" "" "each queue id answered 250 has exactly one row"
sql "SELECT id FROM auditor.messages WHERE queue_id = ANY ('{$(paste -sd, "$T_TMP/qids")}')
      AND $MINE ORDER BY id::text" >"$T_TMP/db.ids"
ok "the rows are the records that were in the spool" cmp -s "$T_TMP/spool.ids" "$T_TMP/db.ids"
send_big after
is "$(tail -1 "$T_TMP/out" | cut -f2)" 250 "with room in the spool again, mail is accepted"

# --- clean up --------------------------------------------------------------------------------------------
kill -TERM "$PID2"
wait "$PID2"
is "$?" 0 "the second milter exits 0 on SIGTERM"
PID2=
ok "its log says it stopped with an empty spool" log_has "$LOG" "$LOG_OFF" 'stopped; 0 records left in the spool' 1
umount "$SPOOL"
ok "the tmpfs is unmounted" test "$(mountpoint -q "$SPOOL"; echo $?)" != 0
cleanup_postfix >/dev/null 2>&1
ok "master.cf is as it was" cmp -s "$T_TMP/master.cf" "$MASTER_CF"
is "$(postconf -c "$MAILROOM_POSTFIX_CONF" -M "$SERVICE" 2>/dev/null)" "" "the $PORT service is gone"
ok "the Postfix instance still runs" postfix_up

done_testing
