#!/usr/bin/env bash
# 97d-web-customer-file.sh - the customer file page and its changes through
# lighttpd and mailroom.cgi, with curl, against the running stack.
#
# 1. GET /o/ID and /p/ID: header, the seven sections, the organisation's
#    conversations (real mail through Postfix, sorted by the worker, and
#    our reply through the originating service) with in/out counts,
#    status and level; another user's private conversation
#    is neither listed nor named; filters all/open/done, a bad filter 400,
#    a bad or unknown id 404. The conversation page links the sender to
#    the contact's file.
# 2. POST note: stored, escaped on the page, first contact set, the
#    customer reserved for the agent who wrote it, audited with before and
#    after; a second agent is refused with 409 "held by NAME"; a lead is
#    not reserved and may write; two first notes at once reserve for
#    exactly one of the two agents.
# 3. Note templates (admins and leads; an agent 403): add, edit, audited;
#    a note from a template applies its labels and lead status at once.
# 4. Tasks (create, done, reopen), labels (add, remove), lead status: each
#    changes its row and writes one audit row; bad input 400; an auditor,
#    a missing or wrong CSRF token or no session 403.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web

tok=$(date +%s)$$
pw='correct horse battery staple'
printf '%s\n' "$pw" >"$T_TMP/pw"
declare -A UID_OF COOKIE
for who in ann:agent bob:agent lea:lead aud:auditor adm:admin; do
	login=${who%%:*}$tok
	ctl user add "$login" --name "${who%%:*} $tok" --role "${who#*:}" --password-file "$T_TMP/pw" >/dev/null ||
		bail "user add $login"
	UID_OF[${who%%:*}]=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$login'")
	web_sign_in "$login" "$pw"
	[[ $ST == 303 && -n $SC ]] || bail "$login cannot sign in ($ST)"
	COOKIE[${who%%:*}]=$SC
done
ann=${UID_OF[ann]} bob=${UID_OF[bob]} lea=${UID_OF[lea]}

# the customer: an organisation with a domain and one contact
org=$(sql_admin "WITH o AS (INSERT INTO mailroom.organisations (name, kind, vip, city, postal_code)
                 VALUES ('Kunde <b>$tok</b> GmbH', 'customer', true, 'Bremen', '28195') RETURNING id)
                 INSERT INTO mailroom.organisation_domains SELECT 'customer-$tok.example', id FROM o
                 RETURNING organisation_id")
contact=$(sql_admin "WITH p AS (INSERT INTO mailroom.contacts (organisation_id, first_name, last_name, position)
                     VALUES ($org, 'Karla', 'Kunde', 'Einkauf') RETURNING id)
                     INSERT INTO mailroom.contact_addresses SELECT 'kunde1@customer-$tok.example', id FROM p
                     RETURNING contact_id")
[[ -n $org && -n $contact ]] || bail "cannot create the customer"
at_exit "sql_admin \"DELETE FROM mailroom.notes WHERE author IN (SELECT id FROM mailroom.users WHERE login LIKE '%$tok');
         DELETE FROM mailroom.contacts WHERE id = $contact; DELETE FROM mailroom.organisations WHERE id = $org;
         DELETE FROM mailroom.note_templates WHERE title LIKE '%$tok%'; DELETE FROM mailroom.labels WHERE name LIKE '%$tok%';
         DELETE FROM mailroom.tasks WHERE created_by IN (SELECT id FROM mailroom.users WHERE login LIKE '%$tok');
         DELETE FROM mailroom.users WHERE login LIKE '%$tok'\""

declare -a CONV
for i in 1 2; do
	compose "$T_TMP/m$i.eml" "Karla Kunde <kunde1@customer-$tok.example>" info@example.com "Anfrage $i $tok" \
		"m$i.$tok@customer-$tok.example" "Bitte um Antwort $i."
	msg=$(deliver "m$i" "$MAILROOM_SMTP" "kunde1@customer-$tok.example" info@example.com) ||
		bail "message $i was not recorded and sorted"
	CONV[i]=$(sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '$msg'")
	[[ -n ${CONV[i]} ]] || bail "message $i has no conversation"
done
c1=${CONV[1]} c2=${CONV[2]}
is "$(sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE conversation_id IN ($c1, $c2)
                  AND organisation_id = $org AND contact_id = $contact")" 2 \
	"the worker tied both messages to the organisation and the contact"
compose "$T_TMP/r1.eml" "Info <info@example.com>" "Karla Kunde <kunde1@customer-$tok.example>" "Re: Anfrage 1 $tok" \
	"r1.$tok@example.com" "Gern." "In-Reply-To: <m1.$tok@customer-$tok.example>" \
	"References: <m1.$tok@customer-$tok.example>"
msg=$(deliver r1 "$MAILROOM_SUBMIT" info@example.com "kunde1@customer-$tok.example") || bail "our reply was not recorded"
is "$(sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '$msg'")" "$c1" \
	"our reply is in conversation 1"

# get WHO PATH - GET SN/PATH as WHO into $T_TMP/page.html; prints the status
get() {
	curl -s -o "$T_TMP/page.html" -D "$T_TMP/page.hdr" -w '%{http_code}' -H "Cookie: __Host-mailroom=${COOKIE[$1]}" \
		"$WEB_URL$2"
}
# post WHO PATH FORM [curl args] - POST SN/PATH as WHO with the CSRF token of FORM
post() {
	local who=$1 path=$2 form=$3
	shift 3
	curl -s -o "$T_TMP/post.html" -D "$T_TMP/post.hdr" -w '%{http_code}' -H "Origin: $WEB_ORIGIN" \
		-H "Cookie: __Host-mailroom=${COOKIE[$who]}" --data-urlencode "csrf=$(web_csrf "${COOKIE[$who]}" "$form")" \
		"$@" "$WEB_URL$path"
}
# last_audit OBJECT ACTION - before|after of the newest audit row of ACTION on OBJECT
last_audit() {
	sql_admin "SELECT coalesce(before::text, '-') || '|' || coalesce(after::text, '-') FROM mailroom.audit
	            WHERE object = '$1' AND action = '$2' ORDER BY id DESC LIMIT 1"
}
audits() {
	sql_admin "SELECT count(*) FROM mailroom.audit WHERE object = '$1' AND action = '$2'"
}
page=$T_TMP/page.html
# section NAME - the section#NAME of the last page
section() {
	sed -n "/<section id=\"$1\"/,/<\/section>/p" "$page"
}

# 1. the page
is "$(post ann "/c/$c2/private" private --data-urlencode private=1)" 303 "ann makes conversation 2 private"
is "$(get bob "/o/$org")" 200 "bob: GET /o/ORG is 200"
like "$(cat "$page")" "Kunde &lt;b&gt;$tok&lt;/b&gt; GmbH" "... the name, escaped"
unlike "$(cat "$page")" "<b>$tok</b>" "... never as markup"
for sec in conversations notes reminders tasks files labels timeline; do
	like "$(cat "$page")" "<section id=\"$sec\"" "... section #$sec"
done
like "$(cat "$page")" "<tr class=\"conv\" data-id=\"$c1\">" "... conversation 1 listed"
like "$(cat "$page")" "href=\"$WEB_BASE/c/$c1\">Anfrage 1 $tok</a>" "... linked with its title"
like "$(section conversations)" "data-id=\"$c1\">.*<span class=\"in\">1</span></td><td><span class=\"out\">1</span>" \
	"... one message in, one out"
like "$(section timeline)" "<li class=\"mail-out\">.*Re: Anfrage 1 $tok" "... our reply in the timeline"
unlike "$(cat "$page")" "data-id=\"$c2\"" "... ann's private conversation is not listed for bob"
unlike "$(cat "$page")" "Anfrage 2 $tok" "... nor named anywhere (timeline included)"
like "$(cat "$page")" "href=\"$WEB_BASE/p/$contact\">Karla Kunde</a>" "... the contact listed and linked"
like "$(cat "$page")" '<dd class="address">28195 Bremen</dd>' "... the address"
is "$(get ann "/o/$org")" 200 "ann: GET /o/ORG"
like "$(cat "$page")" "<tr class=\"conv\" data-id=\"$c2\">" "... ann sees her private conversation"
is "$(get bob "/p/$contact")" 200 "bob: GET /p/CONTACT"
like "$(cat "$page")" "<h1 class=\"title customer-name\" data-kind=\"contact\">Karla Kunde</h1>" "... the contact's name"
like "$(cat "$page")" "data-id=\"$c1\"" "... its conversation"
unlike "$(cat "$page")" "data-id=\"$c2\"" "... but not ann's private one"
like "$(cat "$page")" "href=\"$WEB_BASE/o/$org\">" "... links its organisation"
is "$(get bob "/o/$org?conversations=done")" 200 "filter conversations=done"
unlike "$(section conversations)" "data-id=\"$c1\"" "... the open conversation is not listed"
is "$(get bob "/o/$org?conversations=open")" 200 "filter conversations=open"
like "$(cat "$page")" "data-id=\"$c1\"" "... the open conversation is listed"
is "$(get bob "/o/$org?tasks=later")" 400 "a bad filter: 400"
is "$(get bob "/o/x$org")" 404 "a malformed id: 404"
is "$(get bob "/o/0$org")" 404 "a leading zero: 404"
is "$(get bob "/o/999999999999")" 404 "an unknown organisation: 404"
is "$(get bob "/p/999999999999")" 404 "an unknown contact: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$WEB_URL/o/$org")" 303 "no session: to the sign-in page"
is "$(get aud "/o/$org")" 200 "an auditor may read the page"
unlike "$(cat "$page")" 'id="act-note"' "... without the forms"
is "$(get bob "/c/$c1")" 200 "the conversation page"
like "$(cat "$page")" "<a class=\"contact\" href=\"$WEB_BASE/p/$contact\">Karla Kunde" \
	"... links the sender to the contact's file"

# 2. notes and the reservation
evil="Rückruf <script>alert(1)</script> '); DROP TABLE mailroom.notes; --"
is "$(post ann "/o/$org/note" customer-note --data-urlencode kind=phone --data-urlencode "body=$evil")" 303 \
	"ann's note: 303"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: $WEB_BASE/o/$org" "... back to the page"
is "$(sql_admin "SELECT body FROM mailroom.notes WHERE organisation_id = $org AND author = $ann")" "$evil" \
	"... stored as text"
is "$(sql_admin "SELECT reserved_by || '|' || (reserved_at IS NOT NULL) || '|' || (first_contact_at IS NOT NULL)
                  FROM mailroom.organisations WHERE id = $org")" "$ann|true|true" \
	"... the organisation is reserved for ann and first contacted"
like "$(last_audit "organisation:$org" organisation.note)" \
	"^\{\"reserved_by\": null, \"first_contact_at\": null\}\|\{\"note\": \{\"id\": [0-9]+, \"body\": \"Rückruf <script>" \
	"... audited with before and after"
like "$(last_audit "organisation:$org" organisation.note)" "\"reserved_by\": $ann" "... the reservation too"
is "$(get bob "/o/$org")" 200 "the page with the note"
like "$(cat "$page")" "Rückruf &lt;script&gt;alert\\(1\\)&lt;/script&gt;" "... the note escaped"
unlike "$(cat "$page")" "<script>alert" "... never as markup"
like "$(cat "$page")" "held by ann $tok" "... shows who holds the customer"
is "$(post bob "/o/$org/note" customer-note --data-urlencode kind=note --data-urlencode "body=mine now")" 409 \
	"bob (a second agent) on ann's customer: 409"
like "$(cat "$T_TMP/post.html")" "held by ann $tok" "... saying who holds it"
is "$(sql_admin "SELECT count(*) FROM mailroom.notes WHERE organisation_id = $org AND author = $bob")" 0 \
	"... no note stored"
is "$(post ann "/o/$org/note" customer-note --data-urlencode kind=note --data-urlencode "body=again")" 303 \
	"ann may write on"
is "$(post lea "/o/$org/note" customer-note --data-urlencode kind=call --data-urlencode "body=lead here")" 303 \
	"a lead (not a reserving role) may write"
is "$(sql_admin "SELECT reserved_by FROM mailroom.organisations WHERE id = $org")" "$ann" "... ann still holds it"
is "$(post ann "/o/$org/note" customer-note --data-urlencode kind=fax --data-urlencode "body=x")" 400 "kind fax: 400"
is "$(post ann "/o/$org/note" customer-note --data-urlencode kind=note --data-urlencode "body=")" 400 \
	"an empty note without template: 400"
is "$(post aud "/o/$org/note" customer-note --data-urlencode kind=note --data-urlencode "body=x")" 403 "an auditor: 403"
is "$(post ann "/o/$org/note" customer-task --data-urlencode kind=note --data-urlencode "body=x")" 403 \
	"the CSRF token of another form: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $WEB_ORIGIN" -d kind=note -d body=x "$WEB_URL/o/$org/note")" \
	403 "no session: 403"
is "$(post ann "/o/999999999999/note" customer-note --data-urlencode kind=note --data-urlencode "body=x")" 404 \
	"a note on an unknown organisation: 404"

# two first notes at once on an unreserved customer: exactly one reserves it
race=$(sql_admin "INSERT INTO mailroom.contacts (organisation_id, first_name, last_name) VALUES ($org, 'Rita', 'Race')
                  RETURNING id")
at_exit "sql_admin \"DELETE FROM mailroom.contacts WHERE id = $race\""
post ann "/p/$race/note" customer-note --data-urlencode kind=note --data-urlencode "body=ann first" >"$T_TMP/race.ann" &
post bob "/p/$race/note" customer-note --data-urlencode kind=note --data-urlencode "body=bob first" >"$T_TMP/race.bob" &
wait
got=$(sort <(cat "$T_TMP/race.ann"; echo) <(cat "$T_TMP/race.bob"; echo) | tr '\n' ' ')
is "$got" "303 409 " "two agents' first notes at once: one 303, one 409"
winner=$([[ $(cat "$T_TMP/race.ann") == 303 ]] && echo "$ann" || echo "$bob")
is "$(sql_admin "SELECT reserved_by || '|' || count(n.id) FROM mailroom.contacts p
                  LEFT JOIN mailroom.notes n ON n.contact_id = p.id WHERE p.id = $race GROUP BY p.reserved_by")" "$winner|1" \
	"... the one who got 303 holds the contact and only that note is stored"

# a merged organisation shows where it went and takes no more notes
old=$(sql_admin "INSERT INTO mailroom.organisations (name, merged_into, active) VALUES ('Alt $tok', $org, false) RETURNING id")
at_exit "sql_admin \"DELETE FROM mailroom.organisations WHERE id = $old\""
is "$(get ann "/o/$old")" 200 "a merged organisation's page"
like "$(cat "$page")" "<p class=\"merged\">Merged into <a class=\"customer\" href=\"$WEB_BASE/o/$org\">" "... links where it went"
is "$(post lea "/o/$old/note" customer-note --data-urlencode kind=note --data-urlencode "body=x")" 409 "... a note on it: 409"

# 3. note templates, and a note from one
is "$(post ann "/o/$org/label" customer-label --data-urlencode "label=Gold $tok")" 303 "a label on the organisation"
gold=$(sql_admin "SELECT id FROM mailroom.labels WHERE name = 'Gold $tok'")
is "$(sql_admin "SELECT count(*) FROM mailroom.organisation_labels WHERE organisation_id = $org AND label_id = $gold")" 1 \
	"... stored"
is "$(last_audit "organisation:$org" organisation.label)" "-|{\"label\": {\"id\": $gold, \"name\": \"Gold $tok\"}}" \
	"... audited"
is "$(get bob "/o/$org")" 200 "the page with the label"
like "$(cat "$page")" "<dd class=\"labels\">Gold $tok</dd>" "... in the header"
like "$(section labels)" "<button type=\"submit\" name=\"label\" value=\"$gold\">Remove Gold $tok</button>" \
	"... and in #labels with its remove button"
is "$(get ann /templates/notes)" 403 "an agent may not see the templates: 403"
is "$(post ann /templates/notes note-template --data-urlencode "title=T $tok" --data-urlencode body=x \
	--data-urlencode lead_status= )" 403 "... nor add one"
is "$(get adm /templates/notes)" 200 "an admin sees the templates"
like "$(cat "$page")" "name=\"label\" value=\"$gold\"" "... with the labels to choose"
is "$(post adm /templates/notes note-template --data-urlencode "title=Erstkontakt $tok" \
	--data-urlencode "body=Erstgespräch <i>geführt</i>" --data-urlencode "label=$gold" \
	--data-urlencode lead_status=in_progress --data-urlencode active=1)" 303 "the admin adds a template"
tpl=$(sql_admin "SELECT id FROM mailroom.note_templates WHERE title = 'Erstkontakt $tok'")
is "$(sql_admin "SELECT label_ids::text || '|' || lead_status || '|' || active FROM mailroom.note_templates WHERE id = $tpl")" \
	"{$gold}|in_progress|true" "... stored"
like "$(last_audit "note_template:$tpl" note_template.add)" "^-\|\{.*\"lead_status\": \"in_progress\"" "... audited"
is "$(post adm /templates/notes note-template --data-urlencode "title=Erstkontakt $tok" --data-urlencode body=x \
	--data-urlencode lead_status=)" 409 "the same title again: 409"
is "$(post adm /templates/notes note-template --data-urlencode "title=Other $tok" --data-urlencode body=x \
	--data-urlencode lead_status=won)" 400 "a bad lead status: 400"
is "$(post adm /templates/notes note-template --data-urlencode "title=Other $tok" --data-urlencode body=x \
	--data-urlencode lead_status= --data-urlencode label=999999999999)" 400 "an unknown label: 400"
is "$(get lea "/o/$org")" 200 "a lead's customer page"
like "$(section notes)" "<a class=\"templates\" href=\"$WEB_BASE/templates/notes\">" "... links the note templates"
is "$(get lea "/templates/notes/$tpl")" 200 "a lead opens the template"
like "$(cat "$page")" "Erstgespräch &lt;i&gt;geführt&lt;/i&gt;</textarea>" "... its text, escaped"
is "$(get ann "/o/$org")" 200 "the customer page"
like "$(cat "$page")" "<option value=\"$tpl\">Erstkontakt $tok</option>" "... offers the template"
unlike "$(cat "$page")" "class=\"templates\"" "... but no link to the templates for an agent"

is "$(post ann "/p/$contact/note" customer-note --data-urlencode kind=note --data-urlencode "template=$tpl" \
	--data-urlencode body=)" 303 "a note on the contact from the template"
is "$(sql_admin "SELECT body || '|' || template_id FROM mailroom.notes WHERE contact_id = $contact")" \
	"Erstgespräch <i>geführt</i>|$tpl" "... the template's text"
is "$(sql_admin "SELECT string_agg(label_id::text, ',') FROM mailroom.contact_labels WHERE contact_id = $contact")" \
	"$gold" "... its label applied"
is "$(sql_admin "SELECT lead_status || '|' || reserved_by || '|' || (first_contact_at IS NOT NULL)
                  FROM mailroom.contacts WHERE id = $contact")" "in_progress|$ann|true" \
	"... its lead status, the reservation and the first contact"
like "$(last_audit "contact:$contact" contact.note)" \
	"\"labels_added\": \[\{\"id\": $gold, \"name\": \"Gold $tok\"\}\]" "... all in one audit row: the labels"
like "$(last_audit "contact:$contact" contact.note)" "\|.*\"lead_status\": \"in_progress\"" "... the lead status"
like "$(last_audit "contact:$contact" contact.note)" "^\{[^|]*\"lead_status\": \"none\"" "... with the lead status before"
is "$(post adm "/templates/notes/$tpl" note-template --data-urlencode "title=Erstkontakt $tok" \
	--data-urlencode "body=Erstgespräch" --data-urlencode "label=$gold" --data-urlencode lead_status=in_progress)" 303 \
	"the admin deactivates the template"
is "$(sql_admin "SELECT active FROM mailroom.note_templates WHERE id = $tpl")" f "... inactive"
like "$(last_audit "note_template:$tpl" note_template.edit)" "\"active\": true.*\|.*\"active\": false" "... audited"
is "$(post ann "/p/$contact/note" customer-note --data-urlencode kind=note --data-urlencode "template=$tpl" \
	--data-urlencode body=x)" 400 "an inactive template: 400"

# 4. tasks, labels, lead status
is "$(post ann "/o/$org/task" customer-task --data-urlencode "title=Angebot <senden> $tok" \
	--data-urlencode due=2026-12-01T09:30 --data-urlencode "user=$bob")" 303 "a task for bob"
task=$(sql_admin "SELECT id FROM mailroom.tasks WHERE organisation_id = $org")
is "$(sql_admin "SELECT state || '|' || assignee_id || '|' || created_by FROM mailroom.tasks WHERE id = $task")" \
	"open|$bob|$ann" "... stored"
like "$(last_audit "organisation:$org" organisation.task)" "^-\|\{\"task\": \{\"id\": $task, .*\"assignee_id\": $bob" \
	"... audited"
is "$(post ann "/o/$org/task" customer-task --data-urlencode "title=x" --data-urlencode due=2026-02-30)" 400 \
	"a due day that does not exist: 400"
is "$(post ann "/o/$org/task" customer-task --data-urlencode "title=x" --data-urlencode due=tomorrow)" 400 "due=tomorrow: 400"
is "$(post ann "/o/$org/task" customer-task --data-urlencode "title=x" --data-urlencode "user=${UID_OF[aud]}")" 400 \
	"a task for an auditor: 400"
is "$(post ann "/o/$org/task" customer-task --data-urlencode "title=")" 400 "a task without title: 400"
is "$(post ann "/p/$contact/task" customer-task --data-urlencode "title=Rückruf $tok" --data-urlencode due=2026-12-02)" 303 \
	"a task on the contact with a day as due"
is "$(post bob "/t/$task/done" task-done)" 303 "bob marks his task done"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: $WEB_BASE/o/$org" "... back to the organisation"
is "$(sql_admin "SELECT state || '|' || done_by || '|' || (done_at IS NOT NULL) FROM mailroom.tasks WHERE id = $task")" \
	"done|$bob|true" "... done by bob"
is "$(last_audit "task:$task" task.done)" '{"state": "open"}|{"state": "done"}' "... audited"
is "$(get ann "/o/$org?tasks=open")" 200 "filter tasks=open"
unlike "$(section tasks)" "Angebot &lt;senden&gt;" "... the done task is not listed"
is "$(get ann "/o/$org?tasks=done")" 200 "filter tasks=done"
like "$(section tasks)" "Angebot &lt;senden&gt; $tok" "... it is, escaped"
like "$(cat "$page")" "action=\"$WEB_BASE/t/$task/reopen\"" "... with the form to reopen it"
is "$(post ann "/t/$task/reopen" task-reopen)" 303 "reopen"
is "$(sql_admin "SELECT state || '|' || coalesce(done_by::text, '-') FROM mailroom.tasks WHERE id = $task")" "open|-" \
	"... open again"
is "$(audits "task:$task" task.reopen)" 1 "... audited"
is "$(post ann "/t/$task/reopen" task-reopen)" 303 "reopen an open task"
is "$(audits "task:$task" task.reopen)" 1 "... changes nothing, so no audit row"
is "$(post aud "/t/$task/done" task-done)" 403 "an auditor may not close a task"
is "$(post ann "/t/999999999999/done" task-done)" 404 "an unknown task: 404"

is "$(post ann "/o/$org/unlabel" customer-unlabel --data-urlencode "label=$gold")" 303 "remove the label"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisation_labels WHERE organisation_id = $org")" 0 "... gone"
is "$(last_audit "organisation:$org" organisation.unlabel)" "{\"label\": {\"id\": $gold, \"name\": \"Gold $tok\"}}|-" \
	"... audited"
is "$(post ann "/o/$org/unlabel" customer-unlabel --data-urlencode "label=abc")" 400 "unlabel abc: 400"
is "$(post ann "/o/$org/label" customer-label --data-urlencode "label=")" 400 "an empty label: 400"
is "$(post ann "/o/$org/lead" customer-lead --data-urlencode lead_status=closed)" 303 "lead status closed"
is "$(sql_admin "SELECT lead_status FROM mailroom.organisations WHERE id = $org")" closed "... stored"
is "$(last_audit "organisation:$org" organisation.lead)" '{"lead_status": "none"}|{"lead_status": "closed"}' "... audited"
is "$(post ann "/o/$org/lead" customer-lead --data-urlencode lead_status=won)" 400 "lead status won: 400"
is "$(get bob "/o/$org")" 200 "the page after all this"
like "$(cat "$page")" '<li class="action">.*organisation.lead' "... the timeline shows the lead status change"
like "$(cat "$page")" '<li class="task">' "... and the task"
like "$(cat "$page")" "<li class=\"mail-in\">.*href=\"$WEB_BASE/c/$c1\"" "... and the mail"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE object IN ('organisation:$org', 'contact:$contact')
                  AND actor = 'bob$tok'")" 0 "bob's refused note left no audit row"

done_testing
