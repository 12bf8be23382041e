#!/usr/bin/env bash
# 97-web-actions.sh - the team's actions on conversations through lighttpd
# and mailroom.cgi, with curl, against the running stack.
#
# 1. The worker copied gateway.shared_inboxes into mailroom.inboxes; the
#    test's conversations (real mail through Postfix) belong to info@.
# 2. Every action of POST /c/ID/ACTION changes its row and writes one audit
#    row "conversation.ACTION" with the changed fields before and after;
#    claim by one agent then another is 409 unless forced; release and
#    hand-over of someone else's claim need a lead.
# 3. Bad input in every field is 400 and changes nothing; SQL and markup in
#    text fields is stored as text.
# 4. Missing, wrong or another session's CSRF token, another origin, no
#    session: 403; an auditor: 403; another user's private conversation,
#    or one of an inbox the user is not a member of: 404 and unchanged;
#    unknown action or id: 404.
# 5. POST /bulk: archive, label, assign, classify on several conversations,
#    each audited on its own; invisible ids skipped; 200 ids pass the form
#    parser, 201 are refused.
# 6. GET /orgs: the organisation search, escaped; its classify forms carry
#    the right CSRF token.
# 7. `mailroomctl audit verify` passes after all this and finds an edited
#    action row (put back afterwards; 87-audit.sh covers the rest).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
TZ_CONF=$("$WORKER_BIN" -n -c "$MAILROOM_CONF" | sed -n 's/^deadlines\.timezone = "\(.*\)";$/\1/p')
[[ -n $TZ_CONF ]] || bail "cannot read deadlines.timezone"

tok=$(date +%s)$$
pw='correct horse battery staple'
printf '%s\n' "$pw" >"$T_TMP/pw"
declare -A UID_OF COOKIE
for who in ann:agent bob:agent lea:lead aud:auditor; do
	login=${who%%:*}$tok
	ctl user add "$login" --name "${who%%:*}" --role "${who#*:}" --password-file "$T_TMP/pw" >/dev/null ||
		bail "user add $login"
	UID_OF[${who%%:*}]=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$login'")
	web_sign_in "$login" "$pw"
	[[ $ST == 303 && -n $SC ]] || bail "$login cannot sign in ($ST)"
	COOKIE[${who%%:*}]=$SC
done
at_exit "sql_admin \"DELETE FROM mailroom.users WHERE login LIKE '%$tok'\" >/dev/null"
ann=${UID_OF[ann]} bob=${UID_OF[bob]} lea=${UID_OF[lea]}

# 1. shared inboxes and the test's conversations
is "$(sql_admin "SELECT count(*) FROM mailroom.inboxes WHERE address IN ('info@example.com', 'service@example.com')")" 2 \
	"the worker copied gateway.shared_inboxes into mailroom.inboxes"
declare -a CONV MSG
for i in 1 2 3 4 5; do
	compose "$T_TMP/m$i.eml" "Kunde <kunde$i@customer-$tok.example>" info@example.com "Anfrage $i $tok" \
		"m$i.$tok@customer-$tok.example" "Bitte um Antwort $i."
	MSG[i]=$(deliver "m$i" "$MAILROOM_SMTP" "kunde$i@customer-$tok.example" info@example.com) ||
		bail "message $i was not recorded and sorted"
	CONV[i]=$(sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '${MSG[i]}'")
	[[ -n ${CONV[i]} ]] || bail "message $i has no conversation"
done
c1=${CONV[1]} c2=${CONV[2]}
is "$(sql_admin "SELECT inboxes FROM mailroom.conversations WHERE id = $c1")" "{info@example.com}" \
	"a conversation of info@ belongs to that inbox"
org=$(sql_admin "WITH o AS (INSERT INTO mailroom.organisations (name, kind) VALUES ('Kunde <b>$tok</b> GmbH', 'customer')
                 RETURNING id) INSERT INTO mailroom.organisation_domains SELECT 'customer-$tok.example', id FROM o
                 RETURNING organisation_id")
at_exit "sql_admin \"DELETE FROM mailroom.organisations WHERE id = $org\" >/dev/null"

# post WHO PATH FORM [curl args] - POST SN/PATH as WHO with the CSRF token of
# FORM; prints the status, the answer's headers are in $T_TMP/post.hdr
post() {
	local who=$1 path=$2 form=$3
	shift 3
	curl -s -o "$T_TMP/post.html" -D "$T_TMP/post.hdr" -w '%{http_code}' -H "Origin: $WEB_ORIGIN" \
		-H "Cookie: __Host-mailroom=${COOKIE[$who]}" --data-urlencode "csrf=$(web_csrf "${COOKIE[$who]}" "$form")" \
		"$@" "$WEB_URL$path"
}
# act WHO ID ACTION [curl args] - one action on conversation ID
act() {
	local who=$1 id=$2 action=$3
	shift 3
	post "$who" "/c/$id/$action" "$action" "$@"
}
# col ID COLUMN - a column of a conversation, as the superuser sees it
col() {
	sql_admin "SELECT $2 FROM mailroom.conversations WHERE id = $1"
}
# last_audit ID ACTION - before|after of the newest audit row of ACTION on conversation ID
last_audit() {
	sql_admin "SELECT coalesce(before::text, '-') || '|' || coalesce(after::text, '-') FROM mailroom.audit
	            WHERE object = 'conversation:$1' AND action = 'conversation.$2' ORDER BY id DESC LIMIT 1"
}
# audits ID ACTION - how many audit rows of ACTION conversation ID has
audits() {
	sql_admin "SELECT count(*) FROM mailroom.audit WHERE object = 'conversation:$1' AND action = 'conversation.$2'"
}

# 2. each action
is "$(act ann "$c1" claim)" 303 "claim: 303"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: $WEB_BASE/c/$c1" "... to the conversation"
is "$(col "$c1" "holder_id || '|' || (held_since IS NOT NULL)")" "$ann|true" "... ann holds it"
is "$(last_audit "$c1" claim)" "{\"holder_id\": null}|{\"holder_id\": $ann}" "... audited with before and after"
is "$(sql_admin "SELECT actor FROM mailroom.audit WHERE object = 'conversation:$c1' ORDER BY id DESC LIMIT 1")" \
	"ann$tok" "... by ann"
is "$(act bob "$c1" claim)" 409 "claim of a conversation ann holds by bob: 409"
is "$(col "$c1" holder_id)" "$ann" "... ann still holds it"
is "$(act ann "$c1" claim)" 303 "claim again by the holder"
is "$(audits "$c1" claim)" 1 "... changes nothing, so no audit row"
is "$(act bob "$c1" claim --data-urlencode force=yes)" 400 "force=yes: 400"
is "$(act bob "$c1" claim --data-urlencode force=1)" 303 "claim with force=1 by bob"
is "$(last_audit "$c1" claim)" "{\"holder_id\": $ann}|{\"force\": true, \"holder_id\": $bob}" "... audited as forced"
is "$(act ann "$c1" release)" 403 "release of bob's claim by ann (an agent): 403"
is "$(act bob "$c1" release)" 303 "release by the holder"
is "$(col "$c1" "coalesce(holder_id::text, 'nobody') || '|' || (held_since IS NULL)")" "nobody|true" "... nobody holds it"
is "$(act bob "$c1" handover --data-urlencode "user=$ann")" 303 "handover to ann"
is "$(col "$c1" holder_id)" "$ann" "... ann holds it"
is "$(act bob "$c1" handover --data-urlencode "user=$bob")" 409 "handover of ann's claim by bob: 409"
is "$(act lea "$c1" handover --data-urlencode "user=$bob")" 303 "a lead may hand it over"
is "$(last_audit "$c1" handover)" "{\"holder_id\": $ann}|{\"holder_id\": $bob}" "... audited"
is "$(act lea "$c1" handover --data-urlencode "user=${UID_OF[aud]}")" 400 "handover to an auditor: 400"
is "$(act lea "$c1" handover --data-urlencode "user=x1")" 400 "handover to a non-id: 400"
is "$(act lea "$c1" release)" 303 "a lead may release someone else's claim"

is "$(act ann "$c1" assign --data-urlencode "user=$bob")" 303 "assign to bob"
is "$(col "$c1" assignee_id)" "$bob" "... bob is the assignee"
is "$(act ann "$c1" assign --data-urlencode "user=")" 303 "assign to nobody"
is "$(col "$c1" "coalesce(assignee_id::text, 'nobody')")" nobody "... nobody is"
is "$(last_audit "$c1" assign)" "{\"assignee_id\": $bob}|{\"assignee_id\": null}" "... audited"
is "$(act ann "$c1" assign --data-urlencode "user=999999999999")" 400 "assign to an unknown user: 400"
is "$(act ann "$c1" assign)" 400 "assign without user: 400"

is "$(act ann "$c1" status --data-urlencode status=closed)" 303 "status closed"
is "$(col "$c1" status)" closed "... closed"
is "$(last_audit "$c1" status)" '{"status": "open"}|{"status": "closed"}' "... audited"
is "$(act ann "$c1" status --data-urlencode status=deleted)" 400 "status deleted: 400"
is "$(act ann "$c1" status --data-urlencode status=open)" 303 "status open again"

evil="Ärger <script>alert(1)</script> '); DROP TABLE mailroom.conversations; --"
old_title=$(col "$c1" title)
is "$(act ann "$c1" title --data-urlencode "title=$evil")" 303 "title with markup and SQL"
is "$(col "$c1" title)" "$evil" "... stored as text"
is "$(last_audit "$c1" title)" "$(sql_admin "SELECT jsonb_build_object('title', \$q\$$old_title\$q\$)::text || '|' ||
                                            jsonb_build_object('title', \$q\$$evil\$q\$)::text")" "... audited"
is "$(act ann "$c1" title --data-urlencode "title=")" 400 "empty title: 400"
is "$(act ann "$c1" title --data-urlencode "title=$(printf 'x%.0s' {1..201})")" 400 "201 characters: 400"
is "$(act ann "$c1" title --data-urlencode "title=$(printf 'ä%.0s' {1..200})")" 303 "200 characters of two bytes: 303"
is "$(act ann "$c1" title --data-urlencode "title=$(printf 'two\nlines')")" 400 "a title with a line break: 400"
is "$(col "$c1" "length(title)")" 200 "... the 200-character title stayed"

is "$(act ann "$c1" folder --data-urlencode "folder_name=Projekt $tok")" 303 "folder by a new name"
folder=$(sql_admin "SELECT id FROM mailroom.folders WHERE name = 'Projekt $tok'")
at_exit "sql_admin \"DELETE FROM mailroom.folders WHERE name = 'Projekt $tok'\" >/dev/null"
is "$(col "$c1" folder_id)" "$folder" "... created and moved there"
is "$(last_audit "$c1" folder)" "{\"folder_id\": null}|{\"folder\": \"Projekt $tok\", \"folder_id\": $folder}" "... audited"
is "$(act ann "$c1" folder --data-urlencode "folder=")" 303 "out of the folder"
is "$(col "$c1" "coalesce(folder_id::text, 'none')")" none "... in no folder"
is "$(act ann "$c1" folder --data-urlencode "folder=$folder")" 303 "folder by id"
is "$(col "$c1" folder_id)" "$folder" "... moved"
is "$(act ann "$c1" folder --data-urlencode "folder=999999999999")" 400 "an unknown folder: 400"
is "$(act ann "$c1" folder --data-urlencode "folder_name=$(printf 'f%.0s' {1..65})")" 400 "a 65-character folder name: 400"
is "$(act ann "$c1" folder)" 400 "neither folder nor folder_name: 400"

lname="<b>VIP</b> $tok"
is "$(act ann "$c1" label --data-urlencode "label=$lname")" 303 "label by a new name"
label=$(sql_admin "SELECT id FROM mailroom.labels WHERE name = '$lname'")
at_exit "sql_admin \"DELETE FROM mailroom.labels WHERE name LIKE '%$tok%'\" >/dev/null"
is "$(sql_admin "SELECT added_by FROM mailroom.conversation_labels WHERE conversation_id = $c1 AND label_id = 0$label")" \
	"$ann" "... the label is on the conversation, added by ann"
is "$(last_audit "$c1" label)" "-|{\"label\": {\"id\": $label, \"name\": \"$lname\"}}" "... audited"
is "$(act ann "$c1" label --data-urlencode "label=$(printf 'l%.0s' {1..65})")" 400 "a 65-character label: 400"
is "$(act ann "$c1" unlabel --data-urlencode "label=$label")" 303 "unlabel"
is "$(sql_admin "SELECT count(*) FROM mailroom.conversation_labels WHERE conversation_id = $c1")" 0 "... gone"
is "$(last_audit "$c1" unlabel)" "{\"label\": {\"id\": $label, \"name\": \"$lname\"}}|-" "... audited"
is "$(act ann "$c1" unlabel --data-urlencode "label=$lname")" 400 "unlabel by name instead of id: 400"

body=$(printf 'Rückruf: Kunde sagt zu.\n<img src=x onerror=alert(1)>\n'"'"'; DELETE FROM mailroom.notes; --')
is "$(act ann "$c1" note --data-urlencode kind=phone --data-urlencode "body=$body")" 303 "a phone note"
is "$(sql_admin "SELECT kind || '|' || author FROM mailroom.notes WHERE conversation_id = $c1")" "phone|$ann" \
	"... stored with kind and author"
is "$(sql_admin "SELECT body FROM mailroom.notes WHERE conversation_id = $c1")" "$body" "... the body as text"
is "$(sql_admin "SELECT after->'note'->>'body' FROM mailroom.audit WHERE object = 'conversation:$c1'
                  AND action = 'conversation.note'")" "$body" "... audited with its body"
is "$(act ann "$c1" note --data-urlencode kind=fax --data-urlencode "body=x")" 400 "kind fax: 400"
is "$(act ann "$c1" note --data-urlencode kind=note --data-urlencode "body=")" 400 "an empty note: 400"
is "$(act ann "$c1" note --data-urlencode kind=note --data-urlencode "body=$(printf 'n%.0s' {1..20001})")" 400 \
	"a note of 20001 characters: 400"
is "$(act ann "$c1" note --data-urlencode kind=note --data-urlencode "body=$(printf 'ü%.0s' {1..20000})")" 303 \
	"a note of 20000 two-byte characters (120000 bytes encoded): 303"
is "$(sql_admin "SELECT string_agg(length(body)::text, ',' ORDER BY id) FROM mailroom.notes WHERE conversation_id = $c1")" \
	"$(( ${#body} )),20000" "... stored whole, beside the first"

is "$(act ann "$c1" reminder --data-urlencode due=2030-01-15T09:30 --data-urlencode "message=Nachfassen <b>" \
	--data-urlencode "user=$bob")" 303 "a reminder for bob"
is "$(sql_admin "SELECT (due_at = '2030-01-15 09:30'::timestamp AT TIME ZONE '$TZ_CONF') || '|' || message || '|' ||
                        created_by || '|' || assignee || '|' || state FROM mailroom.reminders WHERE conversation_id = $c1")" \
	"true|Nachfassen <b>|$ann|$bob|pending" "... due at that wall-clock time of $TZ_CONF, pending for the worker"
is "$(sql_admin "SELECT after->'reminder'->>'due_local' FROM mailroom.audit WHERE object = 'conversation:$c1'
                  AND action = 'conversation.reminder'")" "2030-01-15T09:30" "... audited"
for due in 2030-02-29T09:00 2030-01-15T24:00 2030-01-15 "2030-01-15 09:30" 15.01.2030; do
	is "$(act ann "$c1" reminder --data-urlencode "due=$due" --data-urlencode message=x)" 400 "due $due: 400"
done
is "$(act ann "$c1" reminder --data-urlencode due=2032-02-29T09:00 --data-urlencode message=)" 400 "an empty message: 400"
is "$(act ann "$c1" reminder --data-urlencode due=2032-02-29T09:00 --data-urlencode "message=$(printf 'r%.0s' {1..501})")" \
	400 "a message of 501 characters: 400"
is "$(act ann "$c1" reminder --data-urlencode due=2032-02-29T09:00 --data-urlencode message=x --data-urlencode user=me)" \
	400 "user me: 400"
is "$(sql_admin "SELECT count(*) FROM mailroom.reminders WHERE conversation_id = $c1")" 1 "... no reminder was added"

is "$(act ann "$c1" read)" 303 "read"
is "$(sql_admin "SELECT count(*) FROM mailroom.conversation_reads WHERE user_id = $ann AND conversation_id = $c1")" 1 \
	"... a read row for ann"
like "$(last_audit "$c1" read)" '^\{"read_at": null\}\|\{"read_at": "[0-9]{4}-' "... audited"
is "$(act ann "$c1" unread)" 303 "unread"
is "$(sql_admin "SELECT count(*) FROM mailroom.conversation_reads WHERE user_id = $ann AND conversation_id = $c1")" 0 \
	"... the read row is gone"

# The stack's worker rests while corrections are made: a level correction
# would train the shared model (every later message of the stack scored
# by it), so the test removes its own before the worker may learn them.
devsh stop worker
at_exit "devsh start worker"
models=$(sql_admin "SELECT count(*) FROM mailroom.models")
was_class=$(sql_admin "SELECT coalesce(class, '-') FROM mailroom.message_meta WHERE message_id = '${MSG[1]}'")
is "$(act ann "$c1" classify --data-urlencode class=supplier --data-urlencode "org=$org")" 303 "classify as supplier of an organisation"
is "$(col "$c1" "class || '|' || organisation_id")" "supplier|$org" "... class and organisation set"
is "$(sql_admin "SELECT kind || '|' || coalesce(old_value, '-') || '|' || new_value || '|' || actor
                  FROM mailroom.corrections WHERE message_id = '${MSG[1]}' AND kind = 'class'")" \
	"class|$was_class|supplier|ann$tok" "... a class correction of the newest inbound message, by ann"
like "$(last_audit "$c1" classify)" "\"class\": \"supplier\".*\"organisation_id\": $org" "... audited"
for bad in "class=spam" "class=customer&org=abc" "class=customer&org=999999999999"; do
	is "$(act ann "$c1" classify -d "$bad")" 400 "classify $bad: 400"
done
is "$(col "$c1" class)" supplier "... the class stayed"

is "$(act ann "$c1" priority --data-urlencode level=urgent)" 303 "priority urgent"
is "$(col "$c1" priority_level)" urgent "... set"
is "$(sql_admin "SELECT new_value || '|' || actor FROM mailroom.corrections WHERE message_id = '${MSG[1]}' AND kind = 'level'")" \
	"urgent|ann$tok" "... and a level correction"
like "$(last_audit "$c1" priority)" '"priority_level": "urgent"' "... audited"
is "$(act ann "$c1" priority --data-urlencode level=max)" 400 "level max: 400"
sql_admin "DELETE FROM mailroom.corrections WHERE actor = 'ann$tok' AND kind = 'level'" >/dev/null
devsh start worker
wait_query sql_admin "SELECT class || '|' || (SELECT learnt_at IS NOT NULL FROM mailroom.corrections
                       WHERE message_id = '${MSG[1]}' AND kind = 'class')
                        FROM mailroom.message_meta WHERE message_id = '${MSG[1]}'" "supplier|true" 40
is "$ROWS" "supplier|true" "the worker learns the class correction: the message's class follows"
is "$(sql_admin "SELECT count(*) FROM mailroom.models")" "$models" \
	"... and, a class other than advertising, trains no model version"

# 3./4. private conversations, CSRF, origin, roles, paths
is "$(act ann "$c2" private --data-urlencode private=1)" 303 "ann makes a conversation private"
is "$(col "$c2" "private || '|' || owner_id")" "true|$ann" "... private, ann owns it"
is "$(last_audit "$c2" private)" "{\"private\": false, \"owner_id\": null}|{\"private\": true, \"owner_id\": $ann}" "... audited"
before2=$(sql_admin "SELECT to_jsonb(c) FROM mailroom.conversations c WHERE id = $c2")
for a in "claim" "status -d status=closed" "title -d title=mine" "private -d private=0" "note -d kind=note&body=x" \
	"read" "label -d label=x$tok"; do
	# shellcheck disable=SC2086 # action and its arguments
	is "$(act bob "$c2" $a)" 404 "bob: $a on ann's private conversation: 404"
done
is "$(sql_admin "SELECT to_jsonb(c) FROM mailroom.conversations c WHERE id = $c2")" "$before2" "... it is unchanged"
is "$(sql_admin "SELECT count(*) FROM mailroom.notes WHERE conversation_id = $c2")" 0 "... no note was added"
is "$(act ann "$c2" private --data-urlencode private=2)" 400 "private=2: 400"
# An inbox with members is theirs (and the admins'): bob is not one.
sql_admin "INSERT INTO mailroom.inbox_members VALUES ('info@example.com', $ann)" >/dev/null
at_exit "sql_admin \"DELETE FROM mailroom.inbox_members WHERE user_id = $ann\" >/dev/null"
is "$(act bob "$c1" status --data-urlencode status=closed)" 404 "bob, not a member of info@ once it has members: 404"
is "$(act ann "$c1" read)" 303 "... while its member ann may act"
sql_admin "DELETE FROM mailroom.inbox_members WHERE user_id = $ann" >/dev/null
is "$(col "$c1" status)" open "... the status bob tried stayed"

is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $WEB_ORIGIN" -H "Cookie: __Host-mailroom=${COOKIE[ann]}" \
	-d status=closed "$WEB_URL/c/$c1/status")" 403 "no CSRF token: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $WEB_ORIGIN" -H "Cookie: __Host-mailroom=${COOKIE[ann]}" \
	-d status=closed --data-urlencode "csrf=$(web_csrf "${COOKIE[ann]}" claim)" "$WEB_URL/c/$c1/status")" 403 \
	"the token of another form: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $WEB_ORIGIN" -H "Cookie: __Host-mailroom=${COOKIE[ann]}" \
	-d status=closed --data-urlencode "csrf=$(web_csrf "${COOKIE[bob]}" status)" "$WEB_URL/c/$c1/status")" 403 \
	"another session's token: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: https://evil.example" -H "Cookie: __Host-mailroom=${COOKIE[ann]}" \
	-d status=closed --data-urlencode "csrf=$(web_csrf "${COOKIE[ann]}" status)" "$WEB_URL/c/$c1/status")" 403 \
	"another origin: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $WEB_ORIGIN" -d status=closed "$WEB_URL/c/$c1/status")" 403 \
	"no session: 403"
is "$(col "$c1" status)" open "... the status stayed open"
is "$(act aud "$c1" status --data-urlencode status=closed)" 403 "an auditor's action: 403"
is "$(act aud "$c1" claim)" 403 "an auditor's claim: 403"
is "$(post aud /bulk bulk -d action=archive -d "id=$c1")" 403 "an auditor's bulk action: 403"
is "$(col "$c1" "status || '|' || coalesce(holder_id::text, 'nobody')")" "open|nobody" "... nothing changed"
is "$(act ann "$c1" delete)" 404 "an unknown action: 404"
is "$(act ann "1234567890123456789" claim)" 404 "a 19-digit id: 404"
is "$(act ann "999999999999999" claim)" 404 "a conversation that does not exist: 404"
is "$(act ann "$c1/x" claim)" 404 "a longer path: 404"

# 5. bulk
c3=${CONV[3]} c4=${CONV[4]} c5=${CONV[5]}
is "$(post bob /bulk bulk -d action=archive -d "id=$c3" -d "id=$c4" -d "id=$c5" -d "id=$c2")" 303 \
	"bulk archive of three, and ann's private one, by bob"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: $WEB_BASE/"$'\n' "... to the inbox"
is "$(sql_admin "SELECT string_agg(status, ',' ORDER BY id) FROM mailroom.conversations WHERE id IN ($c3, $c4, $c5)")" \
	"archived,archived,archived" "... the three are archived"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE object IN ('conversation:$c3', 'conversation:$c4', 'conversation:$c5')
                  AND action = 'conversation.status' AND after = '{\"status\": \"archived\"}'")" 3 "... each audited on its own"
is "$(col "$c2" status)" open "... ann's private one was skipped"
is "$(post bob /bulk bulk -d action=label --data-urlencode "label=Bulk $tok" -d "id=$c3" -d "id=$c4")" 303 "bulk label"
is "$(sql_admin "SELECT count(*) FROM mailroom.conversation_labels cl JOIN mailroom.labels l ON l.id = cl.label_id
                  WHERE l.name = 'Bulk $tok' AND cl.conversation_id IN ($c3, $c4)")" 2 "... both labelled"
is "$(post bob /bulk bulk -d action=assign -d "assignee=$ann" -d "id=$c3" -d "id=$c4")" 303 "bulk assign"
is "$(sql_admin "SELECT string_agg(assignee_id::text, ',') FROM mailroom.conversations WHERE id IN ($c3, $c4)")" "$ann,$ann" \
	"... both assigned to ann"
is "$(post bob /bulk bulk -d action=classify -d class=newsletter -d "id=$c3" -d "id=$c4")" 303 "bulk classify"
is "$(sql_admin "SELECT count(*) FROM mailroom.corrections WHERE message_id IN ('${MSG[3]}', '${MSG[4]}')
                  AND kind = 'class' AND new_value = 'newsletter'")" 2 "... a correction for each"
is "$(audits "$c3" classify)|$(audits "$c4" classify)" "1|1" "... each audited"
ids=$(for i in $(seq 1 199); do printf -- '-d id=%d ' $((999999999000 + i)); done)
# shellcheck disable=SC2086 # the ids are words
is "$(post bob /bulk bulk -d action=archive $ids -d "id=$c5")" 303 "200 ids pass the form parser (the rest unknown)"
# shellcheck disable=SC2086
is "$(post bob /bulk bulk -d action=archive $ids -d "id=$c5" -d "id=$c4")" 400 "201 ids: 400"
is "$(post bob /bulk bulk -d action=archive)" 400 "no id: 400"
is "$(post bob /bulk bulk -d action=delete -d "id=$c3")" 400 "action delete: 400"
is "$(post bob /bulk bulk -d action=archive -d "id=${c3}x")" 400 "a malformed id: 400"
is "$(post bob /bulk bulk -d action=assign -d assignee=999999999999 -d "id=$c1")" 400 "assign to an unknown user: 400"
is "$(post bob /bulk claim -d action=archive -d "id=$c1")" 403 "bulk with another form's token: 403"

# 6. organisation search
orgs() { # QUERY-ARGS... - GET /orgs as ann; the status
	curl -s -o "$T_TMP/orgs.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=${COOKIE[ann]}" --get "$@" "$WEB_URL/orgs"
}
is "$(orgs --data-urlencode "q=$tok" --data-urlencode "c=$c1")" 200 "organisation search by name"
page=$(cat "$T_TMP/orgs.html")
like "$page" "<li class=\"org\" data-id=\"$org\"><span class=\"name\">Kunde &lt;b&gt;$tok&lt;/b&gt; GmbH</span>" \
	"... lists the organisation, its name escaped"
like "$page" "customer-$tok.example" "... with its domain"
like "$page" "action=\"$WEB_BASE/c/$c1/classify\"" "... and the classify form of the conversation"
like "$page" "name=\"csrf\" value=\"$(web_csrf "${COOKIE[ann]}" classify)\"" "... carrying the classify form's token"
is "$(orgs --data-urlencode "q=CUSTOMER-$tok.EXAMPLE")" 200 "search by domain, any case"
like "$(cat "$T_TMP/orgs.html")" "data-id=\"$org\"" "... finds it"
is "$(orgs --data-urlencode "q=<script>alert(1)</script>")" 200 "markup in the query"
unlike "$(cat "$T_TMP/orgs.html")" "<script>alert" "... is not echoed as markup"
is "$(orgs --data-urlencode "q=$(printf 'q%.0s' {1..201})")" 400 "a query of 201 characters: 400"
is "$(orgs --data-urlencode "q=x" --data-urlencode "c=abc")" 400 "c=abc: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=${COOKIE[aud]}" "$WEB_URL/orgs?q=$tok")" 200 \
	"an auditor may search"

is "$(act ann "$c2" private --data-urlencode private=0)" 303 "ann shares her conversation again"
is "$(col "$c2" private)" f "... not private any more"

# 7. the trail is intact, and an edited action row is found
verify() {
	"$CTL" -c "$MAILROOM_CONF" audit verify >"$T_TMP/verify.out" 2>&1
}
verify
is $? 0 "audit verify: intact after the actions"
row=$(sql_admin "SELECT id FROM mailroom.audit WHERE object = 'conversation:$c1' AND action = 'conversation.status' ORDER BY id LIMIT 1")
saved=$(sql_admin "SELECT after::text FROM mailroom.audit WHERE id = $row")
tamper() {
	sql_admin "ALTER TABLE mailroom.audit DISABLE TRIGGER audit_no_update; UPDATE mailroom.audit SET after = '$1' WHERE id = $row;
	           ALTER TABLE mailroom.audit ENABLE TRIGGER audit_no_update" >/dev/null
}
tamper '{"status": "open"}'
verify
is $? 1 "an action's after edited behind the trail's back: verify exits 1"
like "$(cat "$T_TMP/verify.out")" "audit row $row \(conversation.status, conversation:$c1\)" "... and names the row"
tamper "$saved"
verify
is $? 0 "put back: intact again"

is "$(asan_reports)" "" "no sanitizer reports"
done_testing
