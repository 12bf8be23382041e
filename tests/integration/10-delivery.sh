#!/usr/bin/env bash
# 10-delivery.sh - every way into the gateway is tagged, recorded and delivered.
#
# Inbound (port 2525), outbound and internal (the originating service, 2587),
# several messages on one connection, several recipients, local submission
# through sendmail, and forged X-Mailroom-* headers. For each message the
# delivered copy's X-Mailroom-Id names exactly one row of auditor.messages
# with the queue id Postfix reported, the direction of its way in and every
# envelope recipient; the row's SHA-256 and size describe its stored bytes.
# Also: the milter runs unprivileged, -n prints the effective configuration
# and an unknown setting is refused with its file and line.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

# --- inbound -------------------------------------------------------------------
tok=$(token inbound)
make_message "$T_TMP/inbound.eml" "$tok"
qid=$(send_one "$T_TMP/inbound.out" "$T_TMP/inbound.eml" --server "$MAILROOM_SMTP" \
	--from bob@customer.test --to info@example.com)
like "$qid" '^[0-9A-F]{6,}$' "inbound: 250 with a queue id ($(cut -f2- "$T_TMP/inbound.out"))"
file=$(maildir_find "$tok" 30 | head -1)
like "$file" "/example.com/info/new/" "inbound: delivered to the info@ Maildir"
check_delivery inbound "$qid" "${file:-/dev/null}" inbound '{info@example.com}'
is "$(sql "SELECT sha256 || ' ' || size_bytes FROM auditor.messages WHERE id::text = '$REC_ID'")" \
	"$(sha256_of "$T_TMP/inbound.eml") $(stat -c %s "$T_TMP/inbound.eml")" \
	"inbound: sha256 and size are those of the bytes sent (Postfix passed them unchanged)"
is "$(sql "SELECT envelope_from || ' ' || host(client_addr) || ' ' || gateway || ' ' || subject
             FROM auditor.messages WHERE id::text = '$REC_ID'")" \
	"bob@customer.test 127.0.0.1 $MR_GATEWAY test $tok" "inbound: sender, client, gateway and subject"

# --- outbound: the originating service, to the outside world --------------------
tok=$(token outbound)
make_message "$T_TMP/outbound.eml" "$tok"
qid=$(send_one "$T_TMP/outbound.out" "$T_TMP/outbound.eml" --server "$MAILROOM_SUBMIT" \
	--from info@example.com --to bob@customer.test)
like "$qid" '^[0-9A-F]{6,}$' "outbound: 250 with a queue id ($(cut -f2- "$T_TMP/outbound.out"))"
file=$(maildir_find "$tok" 30 | head -1)
like "$file" "/sink/new/" "outbound: delivered to the sink (the outside world)"
check_delivery outbound "$qid" "${file:-/dev/null}" outbound '{bob@customer.test}'

# --- internal: originating, sender and recipient local ------------------------------
tok=$(token internal)
make_message "$T_TMP/internal.eml" "$tok"
qid=$(send_one "$T_TMP/internal.out" "$T_TMP/internal.eml" --server "$MAILROOM_SUBMIT" \
	--from info@example.com --to service@example.com)
like "$qid" '^[0-9A-F]{6,}$' "internal: 250 with a queue id ($(cut -f2- "$T_TMP/internal.out"))"
file=$(maildir_find "$tok" 30 | head -1)
like "$file" "/example.com/service/new/" "internal: delivered to the service@ Maildir"
check_delivery internal "$qid" "${file:-/dev/null}" internal '{service@example.com}'

# --- several recipients: every one in the record, every copy with the same id ----------
tok=$(token rcpts)
make_message "$T_TMP/rcpts.eml" "$tok"
qid=$(send_one "$T_TMP/rcpts.out" "$T_TMP/rcpts.eml" --server "$MAILROOM_SMTP" --from bob@customer.test \
	--to info@example.com --to service@example.com --to carol@customer.test)
like "$qid" '^[0-9A-F]{6,}$' "three recipients: 250 with a queue id ($(cut -f2- "$T_TMP/rcpts.out"))"
files=$(maildir_find "$tok" 30 3)
is "$(wc -l <<<"$files")" 3 "three recipients: three delivered copies"
check_delivery "three recipients" "$qid" "$(head -1 <<<"$files")" inbound \
	'{info@example.com,service@example.com,carol@customer.test}'
ids=$(while read -r f; do header_values "$f" X-Mailroom-Id; done <<<"$files" | sort -u)
is "$ids" "$REC_ID" "three recipients: every copy carries the same X-Mailroom-Id"

# --- three messages on one connection ------------------------------------------------------
pf_off=$(log_mark "$MR_POSTFIX_LOG")
tok=$(token perconn)
send --server "$MAILROOM_SMTP" --generate 3 --per-conn 3 --token "$tok" --subject "$tok" \
	>"$T_TMP/perconn.out" 2>>"$T_TMP/smtpsend.err"
is "$(codes "$T_TMP/perconn.out")" "250 x3" "one connection: three messages answered 250"
qids "$T_TMP/perconn.out" >"$T_TMP/perconn.qids"
is "$(sort -u "$T_TMP/perconn.qids" | wc -l)" 3 "one connection: three distinct queue ids"
# smtpd logs "QID: client=" per transaction; one process and one session for all three.
pids=$(while read -r q; do
	wait_log "$MR_POSTFIX_LOG" "$pf_off" "smtpd\[[0-9]+\]: $q: client=" 10 | sed -E 's/.*smtpd\[([0-9]+)\].*/\1/'
done <"$T_TMP/perconn.qids" | sort -u)
like "$(wc -l <<<"$pids")" '^1$' "one connection: one smtpd process took all three ($pids)"
like "$(wait_log "$MR_POSTFIX_LOG" "$pf_off" "smtpd\[$pids\]: disconnect from .* data=3" 10)" 'data=3' \
	"one connection: the session had three DATA commands"
for i in 0 1 2; do
	label=gen-$i
	qid=$(awk -F'\t' -v l="$label" '$1 == l { print $3 }' "$T_TMP/perconn.out")
	file=$(maildir_find "X-Test-Token: $tok-$i" 30 | head -1)
	check_delivery "one connection, message $i" "$qid" "${file:-/dev/null}" inbound '{info@example.com}'
done

# --- local submission: sendmail -> pickup -> cleanup-originating -----------------------------
pf_off=$(log_mark "$MR_POSTFIX_LOG")
tok=$(token sendmail)
make_message "$T_TMP/sendmail.eml" "$tok"
sed -i 's/\r$//' "$T_TMP/sendmail.eml" # sendmail takes local text files
sendmail -C "$MAILROOM_POSTFIX_CONF" -f info@example.com someone@customer.test <"$T_TMP/sendmail.eml"
is "$?" 0 "sendmail: accepted the message"
qid=$(pflog_qid_by_msgid "$pf_off" "$tok@sender.test" 60)
like "$qid" '^[0-9A-F]{6,}$' "sendmail: Postfix logged its queue id"
file=$(maildir_find "$tok" 60 | head -1)
like "$file" "/sink/new/" "sendmail: delivered to the sink"
check_delivery sendmail "$qid" "${file:-/dev/null}" outbound '{someone@customer.test}'
# Postfix presents local submission as a connection from localhost,
# 127.0.0.1, port 0; docs/schema.md promises NULL for such mail.
is "$(sql "SELECT coalesce(host(client_addr), 'NULL') || ' ' || envelope_from FROM auditor.messages
             WHERE id::text = '$REC_ID'")" "NULL info@example.com" "sendmail: no client address, the -f sender"

# --- forged X-Mailroom-* headers -----------------------------------------------------------------
tok=$(token forged)
make_message "$T_TMP/forged.eml" "$tok" 'X-Mailroom-Class: customer' \
	'X-Mailroom-Id: 00000000-0000-0000-0000-000000000000' 'x-mailroom-direction: outbound' \
	'X-Mailroom-Class: supplier'
qid=$(send_one "$T_TMP/forged.out" "$T_TMP/forged.eml" --server "$MAILROOM_SMTP" \
	--from bob@customer.test --to info@example.com)
like "$qid" '^[0-9A-F]{6,}$' "forged headers: 250 with a queue id ($(cut -f2- "$T_TMP/forged.out"))"
file=$(maildir_find "$tok" 30 | head -1)
check_delivery "forged headers" "$qid" "${file:-/dev/null}" inbound '{info@example.com}' forged
is "$(header_values "${file:-/dev/null}" X-Mailroom-Class)" "" "forged headers: no X-Mailroom-Class delivered"
is "$(grep -ci '^x-mailroom-' "${file:-/dev/null}")" 2 "forged headers: only our two X-Mailroom-* headers delivered"
unlike "$(cat "${file:-/dev/null}")" '00000000-0000-0000-0000-000000000000' "forged headers: the forged id is gone"
is "$(sql_admin "SELECT position('X-Mailroom-Class: customer'::bytea IN raw) > 0,
                        position('X-Mailroom-Id: 00000000-0000-0000-0000-000000000000'::bytea IN raw) > 0
                   FROM mailroom.messages WHERE id::text = '$REC_ID'")" "t|t" \
	"forged headers: kept in the record as evidence"

# --- storage: a long message is compressed with LZ4 (schema 030) -------------------------------
tok=$(token long)
make_message "$T_TMP/long.eml" "$tok"
for i in $(seq 1 400); do
	printf 'Line %d of a long letter about order %s: please confirm the delivery date.\r\n' "$i" "$tok"
done >>"$T_TMP/long.eml"
qid=$(send_one "$T_TMP/long.out" "$T_TMP/long.eml" --from bob@customer.test --to info@example.com)
file=$(maildir_find "$tok" 30 | head -1)
check_delivery long "$qid" "${file:-/dev/null}" inbound '{info@example.com}'
is "$(sql_admin "SELECT pg_column_compression(raw) || ' ' || (pg_column_size(raw) < length(raw) / 4)
                   FROM mailroom.messages WHERE id::text = '$REC_ID'")" "lz4 true" \
	"long: the raw bytes are stored compressed with LZ4, in under a quarter of their size"

# --- privileges and configuration -------------------------------------------------------------------
pid=$(milter_pid)
uid=$(id -u mailroom)
gid=$(id -g mailroom)
is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$uid $uid $uid $uid" \
	"the milter runs as mailroom (real, effective, saved, fs uid)"
is "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$gid $gid $gid $gid" \
	"the milter runs with the mailroom group"
sock=$(sed -n 's/^milter\.socket = "unix:\(.*\)";$/\1/p' <("$MR_MILTER_BIN" -n -c "$MAILROOM_CONF"))
is "$(stat -c '%a %G' "$sock")" "660 postfix" "the socket is mode 0660, group postfix"

out=$("$MR_MILTER_BIN" -n -c "$MAILROOM_CONF" 2>&1)
is "$?" 0 "-n exits 0"
like "$out" $'(^|\n)milter\.commit\.max_batch = [0-9]+;' "-n prints milter.commit.max_batch"
like "$out" $'(^|\n)gateway\.personal_policy = "metadata";' "-n prints the file's gateway.personal_policy"

bad=$T_TMP/unknown.conf
line=$(($(grep -n '^gateway = {' "$MAILROOM_CONF" | cut -d: -f1) + 1))
sed "$((line - 1))a\\  no_such_setting = 1;" "$MAILROOM_CONF" >"$bad"
out=$("$MR_MILTER_BIN" -n -c "$bad" 2>&1)
is "$?" 1 "a config with an unknown setting exits 1"
like "$out" "$bad:$line: unknown setting 'gateway.no_such_setting'" "the error names file, line and setting"

done_testing
