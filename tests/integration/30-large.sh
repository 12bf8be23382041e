#!/usr/bin/env bash
# 30-large.sh - 30 MB attachments stream through the milter in bounded memory.
#
# One message with a 30 MiB attachment (base64, about 41 MB on the wire) is
# recorded whole: the record's SHA-256 and size are those of the bytes sent
# (the message carries every header, so Postfix adds none the milter sees)
# and the delivered copy carries the record's id. Then ten such messages at
# once: the milter's resident size, sampled every 0.2 s until all ten are in
# PostgreSQL, grows by less than 150 MB over its size before the run;
# holding ten messages in memory would need more than 400 MB.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

ATTACH_BYTES=$((30 * 1024 * 1024))
LIMIT_KB=$((150 * 1024))
PARALLEL=10

# The attachment, shared by every message: base64 in 76-character CRLF lines.
head -c "$ATTACH_BYTES" /dev/urandom | base64 -w 76 | sed 's/$/\r/' >"$T_TMP/attachment.b64"

# make_large FILE TOKEN - a multipart message with the attachment
make_large() {
	{
		printf 'From: Customer <bob@customer.test>\r\nTo: info@example.com\r\n'
		printf 'Subject: large %s\r\nMessage-ID: <%s@sender.test>\r\nDate: %s\r\n' "$2" "$2" "$(date -R)"
		printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b-%s"\r\n\r\n' "$2"
		printf -- '--b-%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe drawings, as promised.\r\n' "$2"
		printf -- '--b-%s\r\nContent-Type: application/octet-stream; name="drawings.bin"\r\n' "$2"
		printf 'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="drawings.bin"\r\n\r\n'
		cat "$T_TMP/attachment.b64"
		printf -- '--b-%s--\r\n' "$2"
	} >"$1"
}

# Delivered copies are large; remove this run's from the Maildirs at the end.
at_exit 'find "$MAILROOM_MAILDIR" -path "*/new/*" -type f -newer "$T_MARK" -size +30M -delete'

# --- one message ------------------------------------------------------------------
tok=$(token one)
make_large "$T_TMP/one.eml" "$tok"
size=$(stat -c %s "$T_TMP/one.eml")
diag "message size on the wire: $size bytes"
start=$SECONDS
qid=$(send_one "$T_TMP/one.out" "$T_TMP/one.eml" --server "$MAILROOM_SMTP" --timeout 600)
like "$qid" '^[0-9A-F]{6,}$' "one: 250 with a queue id ($(cut -f2- "$T_TMP/one.out"))"
diag "one: answered after $((SECONDS - start)) s"
wait_rows "SELECT count(*) FROM auditor.messages WHERE queue_id = '$qid' AND $MINE" 1 120
is "$ROWS" 1 "one: one row for queue id $qid"
row=$(sql "SELECT size_bytes, sha256 FROM auditor.messages WHERE queue_id = '$qid' AND $MINE")
cmp_ok "${row%%|*}" '>=' $((ATTACH_BYTES * 4 / 3)) "one: size_bytes covers the base64 attachment"
is "$row" "$size|$(sha256_of "$T_TMP/one.eml")" "one: size_bytes and sha256 are those of the message sent"
file=$(maildir_find "$tok" 120 | head -1)
check_delivery one "$qid" "${file:-/dev/null}" inbound '{info@example.com}'
rm -f "$T_TMP/one.eml"

# --- ten at once, with the milter's memory watched -------------------------------------
for ((i = 0; i < PARALLEL; i++)); do
	make_large "$T_TMP/par$i.eml" "$(token "par$i")"
done
pid=$(milter_pid)
before=$(rss_kb "$pid")
sampler() {
	while [[ -r /proc/$pid/status ]]; do
		rss_kb "$pid"
		sleep 0.2
	done
}
sampler >"$T_TMP/rss.log" &
sampler_pid=$!
at_exit "kill $sampler_pid"
start=$SECONDS
send --server "$MAILROOM_SMTP" --parallel "$PARALLEL" --timeout 600 "$T_TMP"/par*.eml \
	>"$T_TMP/par.out" 2>>"$T_TMP/smtpsend.err"
diag "ten at once: answered after $((SECONDS - start)) s"
is "$(codes "$T_TMP/par.out")" "250 x$PARALLEL" "ten at once: every message answered 250"
qids "$T_TMP/par.out" >"$T_TMP/par.qids"
wait_qids_recorded "$T_TMP/par.qids" 300
is "$BAD" "" "ten at once: each queue id has exactly one row"
diag "ten at once: in PostgreSQL after $((SECONDS - start)) s"
kill "$sampler_pid" 2>/dev/null
wait "$sampler_pid" 2>/dev/null
peak=$(sort -n "$T_TMP/rss.log" | tail -1)
samples=$(wc -l <"$T_TMP/rss.log")
growth=$((${peak:-0} - ${before:-0}))
diag "milter RSS: before $((before / 1024)) MB, peak $((peak / 1024)) MB, growth $((growth / 1024)) MB ($samples samples)"
cmp_ok "$samples" '>=' 5 "ten at once: the resident size was sampled during the run"
cmp_ok "$growth" '<' "$LIMIT_KB" "ten at once: the milter grew by less than 150 MB"

# Each record is the message that was sent.
while IFS=$'\t' read -r label code q; do
	[[ $code == 250 ]] || continue
	printf '%s|%s|%s\n' "$q" "$(stat -c %s "$label")" "$(sha256_of "$label")"
done <"$T_TMP/par.out" | sort >"$T_TMP/par.want"
sql "SELECT queue_id, size_bytes, sha256 FROM auditor.messages
      WHERE queue_id = ANY ('{$(paste -sd, "$T_TMP/par.qids")}') AND $MINE
      ORDER BY queue_id" >"$T_TMP/par.got"
ok "ten at once: each record's size and sha256 are those of its message" cmp -s "$T_TMP/par.want" "$T_TMP/par.got"
ids=0
for ((i = 0; i < PARALLEL; i++)); do
	file=$(maildir_find "$(token "par$i")" 120 | head -1)
	[[ -n $file && -n $(header_values "$file" X-Mailroom-Id) ]] && ids=$((ids + 1))
done
is "$ids" "$PARALLEL" "ten at once: every delivered copy carries an X-Mailroom-Id"

done_testing
