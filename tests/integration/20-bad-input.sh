#!/usr/bin/env bash
# 20-bad-input.sh - malformed and unusual mail is recorded and delivered, nothing lost.
#
# Raw 8-bit and invalid UTF-8 in headers, NUL bytes, 5,000-character lines,
# no body, one header, no header at all, duplicate Message-IDs. Each message
# is answered 250, has exactly one row with its queue id and a delivered copy
# with that row's id. Where Postfix passes the bytes unchanged, the stored
# raw bytes are compared with what was sent (SHA-256 and size of the CRLF
# form smtplib put on the wire); where Postfix adds headers, the parts that
# were sent are found unchanged in place.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

# send_case NAME - send $T_TMP/NAME.eml inbound to info@; check the answer, the
# row and the delivered copy. Sets QID and REC_ID.
QID=
send_case() {
	local name=$1 file
	QID=$(send_one "$T_TMP/$name.out" "$T_TMP/$name.eml" --server "$MAILROOM_SMTP" \
		--from bob@customer.test --to info@example.com)
	like "$QID" '^[0-9A-F]{6,}$' "$name: 250 with a queue id ($(cut -f2- "$T_TMP/$name.out"))"
	file=$(maildir_find "$(token "$name")" 30 | head -1)
	[[ -n $file ]] || file=$(maildir_find "$QID" 5 | head -1)
	like "$file" /example.com/info/new/ "$name: delivered"
	check_delivery "$name" "$QID" "${file:-/dev/null}" inbound '{info@example.com}'
}

# raw_hex ID - the stored bytes of a record as hex
raw_hex() {
	sql_admin "SELECT encode(raw, 'hex') FROM mailroom.messages WHERE id::text = '$1'"
}

# raw_text ID - RAW: the stored bytes with escapes for NUL and 8-bit bytes,
# trailing line ends kept
RAW=
raw_text() {
	RAW=$(sql_admin "SELECT encode(raw, 'escape') || '|' FROM mailroom.messages WHERE id::text = '$1'")
	RAW=${RAW%|}
}

# hex_of FILE - a file's bytes as lowercase hex, one line
hex_of() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}

# sent_equals_record NAME - the record holds exactly the bytes sent
sent_equals_record() {
	local name=$1
	is "$(sql "SELECT sha256 || ' ' || size_bytes FROM auditor.messages WHERE id::text = '$REC_ID'")" \
		"$(sha256_of "$T_TMP/$name.eml") $(stat -c %s "$T_TMP/$name.eml")" \
		"$name: the record's sha256 and size are those of the bytes sent"
}

crlf() { printf '%s\r\n' "$@"; }

# --- 8-bit and invalid UTF-8 in headers --------------------------------------------
tok=$(token eightbit)
{
	printf 'From: J\xfcrgen \xff\xfe M\xfcller <juergen@customer.test>\r\n'
	crlf 'To: info@example.com'
	printf 'Subject: Gr\xfc\xdfe \xff\xfe caf\xe9 %s\r\n' "$tok"
	crlf "Message-ID: <$tok@sender.test>" "Date: $(date -R)" ''
	printf 'Body in Latin-1: \xe4\xf6\xfc \xff\xfe\r\n'
} >"$T_TMP/eightbit.eml"
send_case eightbit
sent_equals_record eightbit
subject=$(sql "SELECT subject FROM auditor.messages WHERE id::text = '$REC_ID'")
like "$subject" "^Gr.*caf.* $tok\$" "eightbit: the subject column holds readable text around the bad bytes"
is "$(sql_admin "SELECT position('\\xfffe'::bytea IN raw) > 0 FROM mailroom.messages WHERE id::text = '$REC_ID'")" \
	t "eightbit: raw keeps the invalid bytes"

# --- NUL bytes and dots in the body -------------------------------------------------
tok=$(token nul)
{
	crlf 'From: bob@customer.test' 'To: info@example.com' "Subject: $tok" "Message-ID: <$tok@sender.test>" \
		"Date: $(date -R)" ''
	printf 'before\0after\r\n\0\0\0\r\n.leading dot\r\n..two dots\r\nend\0\r\n'
} >"$T_TMP/nul.eml"
send_case nul
sent_equals_record nul

# --- 5,000-character lines ----------------------------------------------------------------
tok=$(token long)
long=$(head -c 5000 </dev/zero | tr '\0' 'x')
crlf 'From: bob@customer.test' 'To: info@example.com' "Subject: $tok" "Message-ID: <$tok@sender.test>" \
	"Date: $(date -R)" "X-Long: ${long:0:4990}" '' >"$T_TMP/long.head"
crlf "$long" "${long//x/y}" 'short line' "$(head -c 5000 </dev/urandom | base64 -w0 | head -c 5000)" >"$T_TMP/long.body"
cat "$T_TMP/long.head" "$T_TMP/long.body" >"$T_TMP/long.eml"
send_case long
sent_equals_record long
got=$(raw_hex "$REC_ID")
want=$(hex_of "$T_TMP/long.body")
is "${got: -${#want}}" "$want" "long: the stored body equals the sent body byte for byte ($(stat -c %s "$T_TMP/long.body") bytes)"
is "$((${#got} / 2))" "$(stat -c %s "$T_TMP/long.eml")" "long: raw is as long as the message sent"

# --- no body: the header section only, not even the empty line ------------------------
tok=$(token nobody)
crlf 'From: bob@customer.test' 'To: info@example.com' "Subject: $tok" "Message-ID: <$tok@sender.test>" \
	"Date: $(date -R)" >"$T_TMP/nobody.eml"
send_case nobody
# The record is the header section and the empty line that ends it.
{ cat "$T_TMP/nobody.eml"; printf '\r\n'; } >"$T_TMP/nobody.expected"
is "$(raw_hex "$REC_ID")" "$(hex_of "$T_TMP/nobody.expected")" \
	"nobody: raw is the header section plus the empty line that ends it"

# --- one header only: Postfix adds Message-Id, Date and From --------------------------------
tok=$(token onehdr)
crlf "Subject: $tok" '' 'A message with a single header.' >"$T_TMP/onehdr.eml"
send_case onehdr
raw_text "$REC_ID"
like "$RAW" "^Subject: $tok"$'\r\n' "onehdr: raw starts with the one header sent"
like "$RAW" $'\r\n\r\nA message with a single header.\r\n$' "onehdr: raw ends with the body sent"
is "$(sql "SELECT message_id LIKE '<%.$QID@gw.example.com>' FROM auditor.messages WHERE id::text = '$REC_ID'")" t \
	"onehdr: the Message-ID that Postfix added is recorded"

# --- no header at all: the body is all that was sent --------------------------------------------
tok=$(token nohdr)
crlf "This message has no header; $tok" 'second line' >"$T_TMP/nohdr.eml"
send_case nohdr
raw_text "$REC_ID"
like "$RAW" $'\r\n\r\n'"This message has no header; $tok"$'\r\nsecond line\r\n$' \
	"nohdr: raw ends with the empty line and the body sent"
headers=$(printf '%s' "${RAW%%$'\r\n\r\n'*}" | sed -E 's/^([^:]+):.*/\1/' | tr '\r\n' '  ' | tr -s ' ')
diag "nohdr: headers Postfix added: $headers"
like "$headers" 'Message-Id' "nohdr: the record holds the headers Postfix added"

# --- duplicate Message-IDs: two messages, two records ----------------------------------------------
tok=$(token dupid)
for n in 1 2; do
	crlf 'From: bob@customer.test' 'To: info@example.com' "Subject: $tok copy $n" \
		"Message-ID: <$tok@sender.test>" '' "copy $n" >"$T_TMP/dupid$n.eml"
	qid=$(send_one "$T_TMP/dupid$n.out" "$T_TMP/dupid$n.eml" --server "$MAILROOM_SMTP" \
		--from bob@customer.test --to info@example.com)
	like "$qid" '^[0-9A-F]{6,}$' "dupid copy $n: 250 with a queue id"
	printf '%s\n' "$qid" >>"$T_TMP/dupid.qids"
done
wait_qids_recorded "$T_TMP/dupid.qids" 30
is "$BAD" "" "dupid: each queue id has one row"
rows=$(sql "SELECT count(*), count(DISTINCT id), count(DISTINCT queue_id) FROM auditor.messages
             WHERE message_id = '<$tok@sender.test>' AND $MINE")
is "$rows" "2|2|2" "dupid: two records with distinct ids for one Message-ID"
files=$(maildir_find "$tok" 30 2)
ids=$(while read -r f; do header_values "$f" X-Mailroom-Id; done <<<"$files" | sort -u | paste -sd' ')
is "$ids" "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id::text) FROM auditor.messages
                  WHERE message_id = '<$tok@sender.test>' AND $MINE")" \
	"dupid: both delivered, each with its own record's id"

done_testing
