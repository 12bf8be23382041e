#!/usr/bin/env bash
# 97g-web-compose.sh - writing mail in the browser, through lighttpd and
# mailroom.cgi with curl, against the running stack (Postfix, milter,
# worker, PostgreSQL).
#
# 1. The form: reply, reply-all and forward from a conversation (To, Cc,
#    subject prefilled; our own inboxes never as recipients), new mail to a
#    contact; signed out: the sign-in page; auditors 403; bad kind 400;
#    a conversation that does not exist 404.
# 2. The preview lists the recipients; one who never wrote or received mail
#    in the conversation is marked .recipient-warning, the usual ones not.
# 3. Refusals: a line break in To, Cc or Subject (header injection), a too
#    long subject or text, a bad address, a bad CSRF token, an auditor:
#    nothing is stored.
# 4. Sending (confirm=1 with the preview's send token; without one 400):
#    303 to the conversation, and the same form submitted again (a double
#    click) 303 too without a second mail; sent_mail has the Message-ID before the outcome and state sent; the audit trail has
#    mail.sent; the reply comes back through Postfix and the milter as an
#    outbound message that the worker threads into the same conversation,
#    with In-Reply-To and References of the customer's mail.
# 5. A failed send (Postfix stopped): 502, the form again with the text,
#    sent_mail state failed with the error, audited as mail.failed; the same
#    form again once Postfix is back: 409, not sent.
# 6. New mail to a contact: To prefilled, other addresses warned about.
# 7. Mail templates: a lead adds and edits them (audited); an unknown
#    placeholder, a line break in the subject, a taken name are refused and
#    nothing is stored; agents may read and use but not change them (403);
#    in the form the placeholders are filled from the contact, the agent,
#    the inbox and the subject, and a sent mail records its template.
# 8. Signatures: the user's own and a shared inbox's (admins and leads
#    only), audited; a mail from the inbox gets the inbox's and then the
#    writer's, a mail from the writer's own address only the writer's; an
#    empty text removes one.
# 9. Standard attachments: the active ones offered, listed in the preview,
#    attached to the mail (the worker finds the same bytes, SHA-256, in the
#    outbound copy); an inactive or unknown one, a malformed id or more
#    than ten are refused and nothing is sent.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
[[ -n $(stack_workers) ]] || devsh start worker || bail "mailroom-worker is not running and did not start"
URL=$MAILROOM_URL
ORIGIN=${URL%/mailroom.cgi*}
BASE=${URL#"$ORIGIN"}

tag=$(date +%s)$$
ann=ann$tag aud=aud$tag led=led$tag
dom="cust-$tag.example"
pw='correct horse battery staple'
printf '%s\n' "$pw" >"$T_TMP/pw"
"$CTL" -c "$MAILROOM_CONF" user add "$ann" --name "Ann $tag" --role agent --password-file "$T_TMP/pw" >/dev/null ||
	bail "user add $ann"
"$CTL" -c "$MAILROOM_CONF" user add "$aud" --role auditor --password-file "$T_TMP/pw" >/dev/null || bail "user add $aud"
"$CTL" -c "$MAILROOM_CONF" user add "$led" --role lead --password-file "$T_TMP/pw" >/dev/null || bail "user add $led"
ann_id=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$ann'")
sql_admin "UPDATE mailroom.users SET email = 'ann-$tag@example.com' WHERE id = $ann_id;
           INSERT INTO mailroom.inboxes (address, name) VALUES ('info@example.com', 'Info') ON CONFLICT DO NOTHING" \
	>/dev/null
postfix_stopped=0
cleanup() {
	((postfix_stopped)) && devsh start postfix >/dev/null 2>&1
	sql_admin "DELETE FROM mailroom.sent_mail WHERE sent_by = $ann_id;
	           DELETE FROM mailroom.contacts WHERE last_name = 'Last$tag';
	           DELETE FROM mailroom.mail_templates WHERE name LIKE '%$tag';
	           DELETE FROM mailroom.standard_attachments WHERE name LIKE '%$tag';
	           DELETE FROM mailroom.signatures WHERE inbox = 'info@example.com' AND body LIKE '%$tag%';
	           DELETE FROM mailroom.users WHERE login IN ('$ann', '$aud', '$led')" >/dev/null
}
at_exit cleanup

# get COOKIE PATH - GET; prints the status, the page in $T_TMP/page.html
get() {
	curl -s -g -o "$T_TMP/page.html" -D "$T_TMP/page.hdr" -w '%{http_code}' \
		${1:+-H "Cookie: __Host-mailroom=$1"} "$URL$2"
}
# post_to PATH COOKIE FIELD=VALUE... - POST from our origin; prints the
# status, the page in $T_TMP/post.html, the headers in $T_TMP/post.hdr
post_to() {
	local path=$1 cookie=$2 f args=()
	shift 2
	for f in "$@"; do
		args+=(--data-urlencode "$f")
	done
	curl -s -o "$T_TMP/post.html" -D "$T_TMP/post.hdr" -w '%{http_code}' -H "Origin: $ORIGIN" \
		-H "Cookie: __Host-mailroom=$cookie" "${args[@]}" "$URL$path"
}
# post COOKIE FIELD=VALUE... - POST /compose
post() {
	post_to /compose "$@"
}
sent_rows() { sql_admin "SELECT count(*) FROM mailroom.sent_mail WHERE sent_by = $ann_id"; }
# stok - a fresh send token, as the preview's send form carries one
stok() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# --- a customer's mail ----------------------------------------------------------------
crlf() { sed 's/$/\r/'; }
{
	printf 'From: Carla Customer <carla@%s>\nTo: info@example.com\nCc: Colleague <col@%s>\n' "$dom" "$dom"
	printf 'Subject: Order question %s\nMessage-ID: <m1.%s@%s>\n' "$tag" "$tag" "$dom"
	printf 'References: <m0.%s@%s>\nDate: %s\nMIME-Version: 1.0\n' "$tag" "$dom" "$(date -R)"
	printf 'Content-Type: text/plain; charset=utf-8\n\nWhere is my order? first-%s\n' "$tag"
} | crlf >"$T_TMP/m1.eml"
id1=$(deliver m1 "$MAILROOM_SMTP" "carla@$dom" info@example.com)
like "$id1" '^[0-9a-f-]{36}$' "the customer's mail is recorded"
wait_query sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE message_id = '$id1' AND conversation_id IS NOT NULL" 1 60 ||
	bail "the worker did not thread the customer's mail"
conv=$(sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '$id1'")

web_sign_in "$ann" "$pw"
ac=$SC
is "$ST" 303 "ann (agent) signs in"
web_sign_in "$aud" "$pw"
uc=$SC
is "$ST" 303 "aud (auditor) signs in"
csrf=$(web_csrf "$ac" compose)

# --- 1. the form -------------------------------------------------------------------------
is "$(get "$ac" "/c/$conv")" 200 "the conversation page"
like "$(cat "$T_TMP/page.html")" "<nav class=\"compose\">
<a class=\"compose-reply\" href=\"$BASE/c/$conv/compose\?kind=reply\">Reply</a>" "links to reply"
like "$(cat "$T_TMP/page.html")" "href=\"$BASE/c/$conv/compose\?kind=reply-all\".*href=\"$BASE/c/$conv/compose\?kind=forward\"" \
	"to reply to all and to forward"
is "$(get "$uc" "/c/$conv")" 200 "the auditor's conversation page"
unlike "$(cat "$T_TMP/page.html")" "compose" "has no compose links"
is "$(get "" "/c/$conv/compose")" 303 "signed out: to the sign-in page"
is "$(get "$uc" "/c/$conv/compose")" 403 "an auditor may not write mail"
is "$(get "$ac" "/c/$conv/compose?kind=bogus")" 400 "an unknown kind is 400"
is "$(get "$ac" "/c/999999999999/compose")" 404 "a conversation that does not exist is 404"
is "$(get "$ac" "/c/$conv/compose")" 200 "the reply form"
page=$(cat "$T_TMP/page.html")
like "$page" "<form method=\"post\" action=\"$BASE/compose\" id=\"compose\"" "it posts to /compose"
like "$page" "name=\"to\" [^>]*value=\"carla@$dom\"" "To: the customer"
like "$page" "name=\"cc\" [^>]*value=\"\"" "no Cc on a plain reply"
like "$page" "name=\"subject\" [^>]*value=\"Re: Order question $tag\"" "the subject with Re:"
like "$page" "&gt; Where is my order\? first-$tag" "the customer's text quoted"
like "$page" "<option value=\"info@example.com\" selected>" "sent from the conversation's inbox"
like "$page" "<option value=\"ann-$tag@example.com\">" "or from ann's own address"
is "$(get "$ac" "/c/$conv/compose?kind=reply-all")" 200 "the reply-all form"
page=$(cat "$T_TMP/page.html")
like "$page" "name=\"cc\" [^>]*value=\"col@$dom\"" "Cc: the colleague, not our own inbox"
is "$(get "$ac" "/c/$conv/compose?kind=forward")" 200 "the forward form"
page=$(cat "$T_TMP/page.html")
like "$page" "name=\"to\" [^>]*value=\"\"" "no recipient for a forward"
like "$page" "name=\"subject\" [^>]*value=\"Fwd: Order question $tag\"" "the subject with Fwd:"
like "$page" "Forwarded message" "the original below a forwarding line"

# --- 2. the preview ----------------------------------------------------------------------
body="Your order ships today. reply-$tag"
subj="Re: Order question $tag"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	cc="stranger@elsewhere-$tag.example" subject="$subj" body="$body")" 200 "a preview"
page=$(cat "$T_TMP/post.html")
like "$page" "<li class=\"cc recipient-warning\">Cc: stranger@elsewhere-$tag.example" \
	"a stranger to the conversation is marked"
like "$page" "<li class=\"to\">To: carla@$dom</li>" "the customer is not"
like "$page" "<p class=\"recipient-warning\" role=\"alert\">1 recipient never" "the warning above the list"
like "$page" "<input type=\"hidden\" name=\"confirm\" value=\"1\">" "the send form confirms"
like "$page" "<input type=\"hidden\" name=\"send_token\" value=\"[0-9a-f]{32}\">" "with a send token"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	cc="col@$dom" subject="$subj" body="$body")" 200 "a preview to the usual correspondents"
unlike "$(cat "$T_TMP/post.html")" "recipient-warning" "no warning for them"
is "$(sent_rows)" 0 "a preview sends nothing"

# --- 3. refusals ---------------------------------------------------------------------------
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject=$'Hi\r\nBcc: victim@evil.example' body="$body" confirm=1 send_token="$(stok)")" 400 "CR LF in the subject: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com \
	to=$'carla@'"$dom"$'\nBcc: victim@evil.example' subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 400 "LF in To: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	cc=$'x@y.example\rBcc: victim@evil.example' subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 400 "CR in Cc: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$(head -c 999 /dev/zero | tr '\0' s)" body="$body" confirm=1 send_token="$(stok)")" 400 "a subject of 999 characters: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="$(head -c 50001 /dev/zero | tr '\0' b)" confirm=1 send_token="$(stok)")" 400 "a text of 50001 characters: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="not an address" \
	subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 400 "a bad address: 400"
like "$(cat "$T_TMP/post.html")" "Your order ships today" "the form again with the text"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=someone@else.example to="carla@$dom" \
	subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 400 "a sender the user may not use: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation=999999999999 inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 404 "a conversation that does not exist: 404"
is "$(post "$ac" csrf=0000 kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 403 "a bad CSRF token: 403"
is "$(post "$uc" csrf="$(web_csrf "$uc" compose)" kind=reply conversation="$conv" inbox=info@example.com \
	to="carla@$dom" subject="$subj" body="$body" confirm=1 send_token="$(stok)")" 403 "an auditor: 403"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="$body" confirm=1)" 400 "a send without the preview's token: 400"
like "$(cat "$T_TMP/post.html")" "out of date: preview the mail again" "and why"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="$body" confirm=1 send_token="ABC$(stok)")" 400 "a malformed send token: 400"
is "$(sent_rows)" 0 "nothing stored or sent"

# --- 4. sending --------------------------------------------------------------------------
sent_token=$(stok)
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	cc="col@$dom" subject="$subj" body="$body" confirm=1 send_token="$sent_token")" 303 "sent: 303"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: [^ ]*$BASE/c/$conv" "back to the conversation"
# A double click, a reload or the back button submits the same form again.
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	cc="col@$dom" subject="$subj" body="$body" confirm=1 send_token="$sent_token")" 303 \
	"the same send form again: 303 as well"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: [^ ]*$BASE/c/$conv" "to the same conversation"
is "$(sent_rows)" 1 "one sent_mail row for both submissions"
row=$(sql_admin "SELECT state, header_message_id, in_reply_to, array_to_string(to_addrs, ','),
                        array_to_string(cc_addrs, ','), conversation_id, kind
                   FROM mailroom.sent_mail WHERE sent_by = $ann_id")
like "$row" "^sent\|[0-9a-f]{32}\.mailroom@example\.com\|m1\.$tag@$dom\|carla@$dom\|col@$dom\|$conv\|reply$" \
	"sent_mail: sent, its Message-ID, In-Reply-To, recipients"
mid=$(sql_admin "SELECT header_message_id FROM mailroom.sent_mail WHERE sent_by = $ann_id")
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'mail.sent' AND object = 'conversation:$conv'
                  AND after->>'message_id' = '$mid' AND actor = '$ann'")" 1 "audited as mail.sent"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'mail.sent' AND object = 'conversation:$conv'")" 1 \
	"one mail.sent for the two submissions"
wait_query sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE header_message_id = '$mid' AND conversation_id IS NOT NULL" \
	1 60
out=$(sql_admin "SELECT m.direction, mm.conversation_id, mm.in_reply_to, array_to_string(mm.references_ids, ' '),
                        mm.from_addr
                   FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id
                  WHERE mm.header_message_id = '$mid'")
is "$out" "outbound|$conv|m1.$tag@$dom|m0.$tag@$dom m1.$tag@$dom|info@example.com" \
	"the reply came back through the milter, outbound, threaded into conversation $conv"
raw=$(sql_admin "SELECT convert_from(m.raw, 'UTF8') FROM mailroom.messages m
                   JOIN mailroom.message_meta mm ON mm.message_id = m.id WHERE mm.header_message_id = '$mid'")
like "$raw" "In-Reply-To: <m1\.$tag@$dom>" "In-Reply-To as sent"
like "$raw" "References: <m0\.$tag@$dom>[[:space:]]+<m1\.$tag@$dom>" "References as sent"
like "$raw" "reply-$tag" "the text as sent"

# --- 5. a failed send ----------------------------------------------------------------------
devsh stop postfix >/dev/null 2>&1 && postfix_stopped=1
fail_token=$(stok)
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Second try fail-$tag" confirm=1 send_token="$fail_token")" 502 \
	"Postfix is down: 502"
like "$(cat "$T_TMP/post.html")" "<textarea name=\"body\"[^>]*>Second try fail-$tag" "the form again with the text"
like "$(cat "$T_TMP/post.html")" "class=\"error\" role=\"alert\">The mail could not be sent" "and why"
devsh start postfix >/dev/null 2>&1 && postfix_stopped=0
# wait_submit - until the originating service takes connections again
wait_submit() {
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/${MAILROOM_SUBMIT%:*}/${MAILROOM_SUBMIT##*:}") 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
wait_submit || bail "Postfix did not come back"
row=$(sql_admin "SELECT state, smtp_reply IS NOT NULL, header_message_id <> '$mid', sent_at IS NULL
                   FROM mailroom.sent_mail WHERE sent_by = $ann_id ORDER BY id DESC LIMIT 1")
is "$row" "failed|t|t|t" "sent_mail keeps it as failed, with the error and its own Message-ID"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'mail.failed' AND object = 'conversation:$conv'
                  AND actor = '$ann'")" 1 "audited as mail.failed"
rows_before=$(sent_rows)
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Second try fail-$tag" confirm=1 send_token="$fail_token")" 409 \
	"the failed form submitted again (Postfix is back): 409, not sent behind the writer's back"
like "$(cat "$T_TMP/post.html")" "preview it again to send it" "and what to do"
is "$(sent_rows)" "$rows_before" "nothing stored"

# --- 6. new mail to a contact ---------------------------------------------------------------
pid=$(sql_admin "WITH c AS (INSERT INTO mailroom.contacts (salutation, first_name, last_name)
                            VALUES ('Ms', 'Dora', 'Last$tag') RETURNING id),
                      a AS (INSERT INTO mailroom.contact_addresses (address, contact_id)
                            SELECT 'dora@$dom', id FROM c)
                 SELECT id FROM c")
is "$(get "$ac" "/compose?p=$pid")" 200 "the new-mail form for a contact"
like "$(cat "$T_TMP/page.html")" "name=\"to\" [^>]*value=\"dora@$dom\"" "To: the contact's address"
is "$(get "$ac" "/compose?p=x1")" 400 "a bad contact id: 400"
is "$(get "$ac" "/compose?p=999999999999")" 404 "a contact that does not exist: 404"
is "$(post "$ac" csrf="$csrf" kind=new p="$pid" inbox=info@example.com to="dora@$dom, other@elsewhere-$tag.example" \
	subject="Hello $tag" body="New mail $tag")" 200 "a preview of new mail"
like "$(cat "$T_TMP/post.html")" "<li class=\"to recipient-warning\">To: other@elsewhere-$tag.example" \
	"an address not the contact's is marked"
like "$(cat "$T_TMP/post.html")" "<li class=\"to\">To: dora@$dom</li>" "the contact's is not"
is "$(post "$ac" csrf="$csrf" kind=new p="$pid" inbox=info@example.com to="dora@$dom" subject="Hello $tag" \
	body="New mail $tag" confirm=1 send_token="$(stok)")" 303 "new mail sent"
is "$(sql_admin "SELECT state || ' ' || kind || ' ' || contact_id FROM mailroom.sent_mail
                  WHERE sent_by = $ann_id ORDER BY id DESC LIMIT 1")" "sent new $pid" "sent_mail: the contact's"
ok "the contact's first contact is set" test "$(sql_admin "SELECT first_contact_at IS NOT NULL FROM mailroom.contacts WHERE id = $pid")" = t

# --- 7. mail templates ----------------------------------------------------------------------
web_sign_in "$led" "$pw"
lc=$SC
is "$ST" 303 "led (lead) signs in"
tcsrf=$(web_csrf "$lc" mailtpl)
tpls() { sql_admin "SELECT count(*) FROM mailroom.mail_templates WHERE name LIKE '%$tag'"; }
is "$(get "$lc" /templates/mail)" 200 "the template list"
like "$(cat "$T_TMP/page.html")" "<form method=\"post\" action=\"$BASE/templates/mail\" id=\"mailtpl-new\"" \
	"a lead gets the form to add one"
tbody='Dear {{salutation}} {{last_name}} of {{organisation}},

about "{{subject}}": we answer from {{inbox}}.
{{agent_name}} <{{agent_email}}>'
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Greeting $tag" subject="Hello {{first_name}}" \
	body="$tbody")" 303 "a lead adds a template"
tid=$(sql_admin "SELECT id FROM mailroom.mail_templates WHERE name = 'Greeting $tag'")
like "$tid" '^[0-9]+$' "it is stored"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'mail_template.create'
                  AND object = 'mail_template:$tid' AND actor = '$led' AND after->>'name' = 'Greeting $tag'")" 1 \
	"audited as mail_template.create"
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Bad $tag" body='Hi {{password}}')" 400 \
	"an unknown placeholder: 400"
like "$(cat "$T_TMP/post.html")" "Unknown placeholder \{\{password\}\}" "named in the answer"
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Bad2 $tag" subject='Hi {{first_name}' body='x')" 400 \
	"an unclosed placeholder: 400"
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Bad3 $tag" subject=$'Hi\r\nBcc: x@y.example' body='x')" 400 \
	"a line break in the subject: 400"
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Greeting $tag" body='x')" 409 "a taken name: 409"
is "$(post_to /templates/mail "$lc" csrf="$tcsrf" name="Bad4 $tag" body='x' inbox=nobody@nowhere.example)" 400 \
	"an unknown inbox: 400"
is "$(tpls)" 1 "nothing more stored"
is "$(post_to /templates/mail "$ac" csrf="$(web_csrf "$ac" mailtpl)" name="Agent $tag" body='x')" 403 \
	"an agent may not add one"
is "$(get "$ac" /templates/mail)" 200 "an agent reads the list"
unlike "$(cat "$T_TMP/page.html")" "mailtpl-new" "without the form"
like "$(cat "$T_TMP/page.html")" "<a href=\"$BASE/templates/mail/$tid\">Greeting $tag</a>" "the template listed"
is "$(get "$lc" "/templates/mail/$tid")" 200 "the edit page"
like "$(cat "$T_TMP/page.html")" "id=\"mailtpl-edit\"" "with its form"
is "$(get "$lc" "/templates/mail/999999999999")" 404 "a template that does not exist: 404"
is "$(post_to "/templates/mail/$tid" "$lc" csrf="$tcsrf" name="Greeting $tag" subject="Hello {{first_name}}" \
	body="$tbody
Regards" active=1)" 303 "a lead edits it"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'mail_template.update'
                  AND object = 'mail_template:$tid' AND before->>'body' NOT LIKE '%Regards'
                  AND after->>'body' LIKE '%Regards'")" 1 "audited with before and after"
is "$(get "$ac" "/compose?p=$pid&template=$tid")" 200 "the new-mail form with the template"
page=$(cat "$T_TMP/page.html")
like "$page" "name=\"subject\" [^>]*value=\"Hello Dora\"" "its subject, filled in"
like "$page" "Dear Ms Last$tag of ," "the contact's salutation and name"
like "$page" "about &quot;Hello Dora&quot;: we answer from info@example.com\." "the subject and the inbox"
like "$page" "Ann $tag &lt;ann-$tag@example.com&gt;" "the agent's name and address"
is "$(get "$ac" "/compose?p=$pid&template=999999999999")" 400 "a template that does not exist: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="My own words $tag" template="$tid" use_template=1)" 200 "insert a template into a reply"
page=$(cat "$T_TMP/post.html")
like "$page" "about &quot;$subj&quot;: we answer from info@example.com\." "filled in with the reply's subject"
like "$page" "Regards
My own words $tag</textarea>" "before the text already written"
is "$(post "$ac" csrf="$csrf" kind=new p="$pid" inbox=info@example.com to="dora@$dom" subject="With template $tag" \
	body="Dear Ms Last$tag" template="$tid" confirm=1 send_token="$(stok)")" 303 "a mail with a template sent"
is "$(sql_admin "SELECT template_id FROM mailroom.sent_mail WHERE sent_by = $ann_id ORDER BY id DESC LIMIT 1")" \
	"$tid" "sent_mail records the template"

# --- 8. signatures ------------------------------------------------------------------------
scsrf=$(web_csrf "$ac" signature)
is "$(get "$ac" /account/signature)" 200 "ann's signature page"
like "$(cat "$T_TMP/page.html")" "<form method=\"post\" action=\"$BASE/account/signature\" id=\"signature\"" "with its form"
is "$(post_to /account/signature "$ac" csrf="$scsrf" body="Ann $tag
Support desk")" 303 "ann saves her signature"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'signature.update' AND object = 'user:$ann_id'
                  AND after->>'body' LIKE 'Ann $tag%' AND before IS NULL")" 1 "audited as signature.update"
is "$(post_to /account/signature "$ac" csrf="$scsrf" body="$(head -c 5001 /dev/zero | tr '\0' s)")" 400 \
	"a signature of 5001 characters: 400"
is "$(post_to /account/signature "$uc" csrf="$(web_csrf "$uc" signature)" body="x")" 403 "an auditor may not"
is "$(post_to /inboxes/info@example.com/signature "$ac" csrf="$scsrf" body="Agent $tag")" 403 \
	"an agent may not change an inbox's signature"
is "$(get "$ac" /inboxes/nobody@nowhere.example/signature)" 404 "an inbox that does not exist: 404"
is "$(post_to /inboxes/info@example.com/signature "$lc" csrf="$(web_csrf "$lc" signature)" body="Info team $tag")" \
	303 "a lead saves the inbox's signature"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'signature.update'
                  AND object = 'inbox:info@example.com' AND after->>'body' = 'Info team $tag'")" 1 "audited"
is "$(get "$ac" /inboxes/info@example.com/signature)" 200 "an agent reads it"
like "$(cat "$T_TMP/page.html")" "<pre class=\"signature\">Info team $tag</pre>" "without a form"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Signed $tag")" 200 "a preview from the inbox"
like "$(cat "$T_TMP/post.html")" "<pre class=\"mail-text\">Signed $tag

-- 
Info team $tag

Ann $tag
Support desk
</pre>" "the inbox's signature, then the writer's"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox="ann-$tag@example.com" to="carla@$dom" \
	subject="$subj" body="Signed $tag")" 200 "a preview from ann's own address"
like "$(cat "$T_TMP/post.html")" "<pre class=\"mail-text\">Signed $tag

-- 
Ann $tag
Support desk
</pre>" "only the writer's"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Signed $tag" confirm=1 send_token="$(stok)")" 303 "sent with signatures"
smid=$(sql_admin "SELECT header_message_id FROM mailroom.sent_mail WHERE sent_by = $ann_id ORDER BY id DESC LIMIT 1")
wait_query sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE header_message_id = '$smid'" 1 60
like "$(sql_admin "SELECT body_text FROM mailroom.message_meta WHERE header_message_id = '$smid'")" \
	"Signed $tag.*Info team $tag.*Ann $tag" "the signatures went out with the mail"
is "$(post_to /account/signature "$ac" csrf="$scsrf" body="")" 303 "ann removes her signature"
is "$(sql_admin "SELECT count(*) FROM mailroom.signatures WHERE user_id = $ann_id")" 0 "it is gone"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'signature.delete' AND object = 'user:$ann_id'")" 1 \
	"audited as signature.delete"

# --- 9. standard attachments ------------------------------------------------------------------
head -c 60000 /dev/urandom >"$T_TMP/terms.bin"
# the bytes go in through standard input: as an argument they would pass the kernel's limit
att=$({
	printf "WITH d AS (SELECT decode('"
	od -An -v -tx1 "$T_TMP/terms.bin" | tr -d ' \n'
	printf "', 'hex') AS b) INSERT INTO mailroom.standard_attachments "
	printf "(name, filename, content_type, size_bytes, sha256, data) "
	printf "SELECT 'Terms %s', 'terms-%s.pdf', 'application/pdf', 60000, sha256(b), b FROM d RETURNING id" "$tag" "$tag"
} | psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres)
old=$(sql_admin "INSERT INTO mailroom.standard_attachments (name, filename, content_type, size_bytes, sha256, data, active)
                 VALUES ('Old $tag', 'old-$tag.txt', 'text/plain', 3, sha256('old'), 'old', false) RETURNING id")
is "$(get "$ac" "/c/$conv/compose")" 200 "the form"
like "$(cat "$T_TMP/page.html")" "<input type=\"checkbox\" name=\"attachment\" value=\"$att\"> Terms $tag \(terms-$tag.pdf, 60000 bytes\)" \
	"offers the active standard attachment"
unlike "$(cat "$T_TMP/page.html")" "value=\"$old\"" "not the inactive one"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" attachment="$att")" 200 "a preview with an attachment"
like "$(cat "$T_TMP/post.html")" "<ul class=\"attached\">
<li>terms-$tag.pdf \(Terms $tag, 60000 bytes\)</li>" "lists it"
like "$(cat "$T_TMP/post.html")" "<input type=\"hidden\" name=\"attachment\" value=\"$att\">" "and sends it on"
before=$(sent_rows)
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" attachment="$old" confirm=1 send_token="$(stok)")" 400 "an inactive attachment: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" attachment=999999999999 confirm=1 send_token="$(stok)")" 400 "an unknown attachment: 400"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" attachment=x1 confirm=1 send_token="$(stok)")" 400 "a malformed attachment id: 400"
many=()
for i in 1 2 3 4 5 6 7 8 9 10 11; do many+=(attachment="$att"); done
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" "${many[@]}" confirm=1 send_token="$(stok)")" 400 "eleven attachments: 400"
is "$(sent_rows)" "$before" "none of them stored or sent"
is "$(post "$ac" csrf="$csrf" kind=reply conversation="$conv" inbox=info@example.com to="carla@$dom" \
	subject="$subj" body="Attached $tag" attachment="$att" confirm=1 send_token="$(stok)")" 303 "sent with the attachment"
amid=$(sql_admin "SELECT header_message_id FROM mailroom.sent_mail WHERE sent_by = $ann_id ORDER BY id DESC LIMIT 1")
wait_query sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE header_message_id = '$amid' AND conversation_id = $conv" 1 60
is "$(sql_admin "SELECT a.filename || ' ' || a.content_type || ' ' || a.size_bytes || ' ' || encode(a.sha256, 'hex')
                   FROM mailroom.attachments a JOIN mailroom.message_meta mm ON mm.message_id = a.message_id
                  WHERE mm.header_message_id = '$amid'")" \
	"terms-$tag.pdf application/pdf 60000 $(sha256sum "$T_TMP/terms.bin" | cut -d' ' -f1)" \
	"the outbound copy carries the same bytes"
is "$(sql_admin "SELECT after->'attachments' FROM mailroom.audit WHERE action = 'mail.sent'
                  AND after->>'message_id' = '$amid'")" "[$att]" "the audit row names the attachment"

done_testing
