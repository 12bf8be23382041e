#!/usr/bin/env bash
# 97e-web-leads.sh - the lead queue (GET /leads) and the lead report (GET
# /leads/report) through lighttpd and mailroom.cgi with curl, against the
# running stack. Fixture customers and notes are inserted in SQL, each
# name carrying this run's token so that other data does not disturb.
#
# 1. The queue: never contacted first (oldest first), then the oldest last
#    contact (newest note or first contact); closed leads only with
#    lead=closed; kind filters; links to /o/ID and /p/ID.
# 2. Search by name, e-mail (contact address, organisation domain) and phone
#    (digits, whatever the punctuation).
# 3. A customer reserved by one agent shows "held by NAME" to another, and
#    "reserved for you" (no .held) to the agent holding it.
# 4. The report: notes, distinct leads contacted, leads closed (recorded by
#    schema/028's trigger with the acting user), outcomes, per user, in a
#    window of days in the configured time zone (Europe/Berlin); the user
#    filter; an auditor reads the same figures.
# 5. Markup in a customer's name is shown escaped.
# 6. Every bad parameter is a 400 naming it; signed out: the sign-in page.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
URL=$MAILROOM_URL

tok=$(date +%s)$$
a1=la$tok
a2=lb$tok
aud=lx$tok
pw='correct horse battery staple'
at_exit "sql_admin \"DELETE FROM mailroom.notes WHERE body LIKE '%$tok%'; DELETE FROM mailroom.contacts WHERE last_name LIKE '%$tok%'; DELETE FROM mailroom.organisations WHERE name LIKE '%$tok%'; DELETE FROM mailroom.users WHERE login LIKE '%$tok'\" >/dev/null"

printf '%s\n' "$pw" >"$T_TMP/pw"
ctl user add "$a1" --name "Anna $tok" --role agent --password-file "$T_TMP/pw" >/dev/null || bail "user add $a1"
ctl user add "$a2" --name "Bert $tok" --role agent --password-file "$T_TMP/pw" >/dev/null || bail "user add $a2"
ctl user add "$aud" --name "Audrey $tok" --role auditor --password-file "$T_TMP/pw" >/dev/null || bail "user add $aud"
uid() { sql_admin "SELECT id FROM mailroom.users WHERE login = '$1'"; }
a1_id=$(uid "$a1")
a2_id=$(uid "$a2")
web_sign_in "$a1" "$pw"
c1=$SC
web_sign_in "$a2" "$pw"
c2=$SC
web_sign_in "$aud" "$pw"
c3=$SC
[[ -n $c1 && -n $c2 && -n $c3 ]] || bail "sign-in failed"

# get PATH COOKIE - GET; prints the status, the page in $T_TMP/page.html
get() {
	curl -s -o "$T_TMP/page.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$2" "$URL$1"
}
# rows - the rows of the queue page as KIND:ID, one a line
rows() {
	sed -n 's/.*<tr class="lead" data-kind="\([a-z]*\)" data-id="\([0-9]*\)".*/\1:\2/p' "$T_TMP/page.html"
}
# figure USER CLASS - a figure of the report page's row of a user id
figure() {
	sed -n "s/.*<tr class=\"agent\" data-user=\"$1\">.*<td class=\"$2\">\([0-9]*\)<\/td>.*/\1/p" "$T_TMP/page.html"
}
# row ID - the queue page's row of a customer id, on one line
row() { awk "/<tr class=\"lead\" data-kind=\"[a-z]*\" data-id=\"$1\"/,/<\/tr>/" "$T_TMP/page.html" | tr '\n' ' '; }
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# --- fixture ------------------------------------------------------------------------------
ago() { if [[ -n $1 ]]; then printf "now() - interval '%s'" "$1"; else printf NULL; fi; }
org() { # NAME CREATED-AGO FIRST-CONTACT-AGO|'' LEAD PHONE
	sql_admin "INSERT INTO mailroom.organisations (name, created_at, first_contact_at, lead_status, phone)
	           VALUES ('$1', now() - interval '$2', $(ago "$3"), '$4', nullif('$5', ''))
	           RETURNING id" | head -1
}
person() { # FIRST LAST CREATED-AGO FIRST-CONTACT-AGO|'' ADDRESS
	sql_admin "WITH c AS (INSERT INTO mailroom.contacts (first_name, last_name, created_at, first_contact_at)
	           VALUES ('$1', '$2', now() - interval '$3', $(ago "$4")) RETURNING id),
	           a AS (INSERT INTO mailroom.contact_addresses (address, contact_id) SELECT '$5', id FROM c)
	           SELECT id FROM c" | head -1
}
A=$(org "Alpha $tok" '30 days' '' none '')
B=$(person Beta "Lead $tok" '20 days' '' "beta-$tok@example.net")
C=$(org "Gamma $tok" '40 days' '10 days' in_progress "+49 (30) 555-$tok")
D=$(person Delta "Lead $tok" '40 days' '5 days' "delta-$tok@example.net")
E=$(org "Epsilon $tok" '50 days' '8 days' closed '')
X=$(org "<script>alert(1)</script> $tok" '1 day' '2 days' in_progress '')
sql_admin "INSERT INTO mailroom.organisation_domains (domain, organisation_id) VALUES ('gamma-$tok.example', $C)" >/dev/null
# C's newest note is a day old: its last contact is newer than D's first contact
sql_admin "INSERT INTO mailroom.notes (organisation_id, kind, body, author, created_at)
           VALUES ($C, 'note', 'called $tok', $a2_id, now() - interval '1 day')" >/dev/null
[[ -n $A && -n $B && -n $C && -n $D && -n $E && -n $X ]] || bail "fixture"

# --- 1. order and filters --------------------------------------------------------------------
is "$(get "/leads?q=$tok" "$c1")" 200 "the queue answers"
is "$(rows | tr '\n' ' ')" "org:$A contact:$B contact:$D org:$X org:$C " \
	"never contacted first (oldest first), then the oldest last contact; closed ones hidden"
like "$(cat "$T_TMP/page.html")" "href=\"$WEB_BASE/o/$A\">Alpha $tok</a>" "an organisation links to its file"
like "$(cat "$T_TMP/page.html")" "href=\"$WEB_BASE/p/$B\">Beta Lead $tok</a>" "a contact links to its file"
get "/leads?q=$tok&lead=closed" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "org:$E " "lead=closed shows the closed lead alone"
get "/leads?q=$tok&lead=none&kind=contact" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "contact:$B contact:$D " "lead=none&kind=contact"
get "/leads?q=$tok&lead=all&kind=org" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "org:$A org:$E org:$X org:$C " "lead=all&kind=org, closed ones in their place"

# --- 2. search -------------------------------------------------------------------------------
get "/leads?q=$(q "DELTA-$tok@example.net")" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "contact:$D " "search by a contact's e-mail address"
get "/leads?q=$(q "info@gamma-$tok.example")" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "org:$C " "search by an e-mail at an organisation's domain"
get "/leads?q=$(q "(30) 555/$tok")" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "org:$C " "search by phone, punctuation ignored"
get "/leads?q=$(q "gamma $tok")" "$c1" >/dev/null
is "$(rows | tr '\n' ' ')" "org:$C " "search by name, case ignored"

# --- 3. held ---------------------------------------------------------------------------------
sql_admin "UPDATE mailroom.organisations SET reserved_by = $a1_id, reserved_at = now() WHERE id = $A" >/dev/null
get "/leads?q=$tok" "$c2" >/dev/null
like "$(row "$A")" "<span class=\"held\">held by Anna $tok</span>" \
	"another agent sees who holds the reserved customer"
is "$(grep -c 'class="held"' "$T_TMP/page.html")" 1 "only the reserved one is held"
get "/leads?q=$tok" "$c1" >/dev/null
unlike "$(cat "$T_TMP/page.html")" 'class="held"' "the holder sees no .held"
like "$(row "$A")" 'reserved for you' "the holder sees it is theirs"

# --- 5. escaping -----------------------------------------------------------------------------
like "$(cat "$T_TMP/page.html")" "&lt;script&gt;alert[(]1[)]&lt;/script&gt; $tok" "markup in a name is escaped"
unlike "$(cat "$T_TMP/page.html")" "<script>alert" "no script from a name"

# --- 4. report -------------------------------------------------------------------------------
# Window 2026-01-10..2026-01-11 in Europe/Berlin: 2026-01-09 23:00 to 2026-01-11 23:00 UTC.
note() { # AUTHOR CUSTOMER-COLUMN ID WHEN-UTC OUTCOME|''
	sql_admin "INSERT INTO mailroom.notes ($2, kind, body, author, created_at, outcome, outcome_at)
	           VALUES ($3, 'phone', 'report $tok', $1, '$4+00', nullif('$5', ''),
	                   CASE WHEN '$5' = '' THEN NULL ELSE now() END)" >/dev/null
}
note "$a1_id" organisation_id "$A" '2026-01-09 23:30' positive # 00:30 Berlin: inside
note "$a1_id" organisation_id "$A" '2026-01-10 12:00' ''       # not yet classified
note "$a1_id" contact_id "$D" '2026-01-11 10:00' negative
note "$a1_id" contact_id "$D" '2026-01-11 23:30' positive # 00:30 Berlin on the 12th: outside
note "$a1_id" contact_id "$D" '2026-01-09 22:30' positive # 23:30 Berlin on the 9th: outside
note "$a2_id" organisation_id "$C" '2026-01-10 09:00' partial
note "$a2_id" contact_id "$B" '2026-01-10 09:30' unclassified
# A closes E as the web user the database acts for; the trigger records it
sql_admin "BEGIN; SELECT set_config('mailroom.user_id', '$a1_id', true);
           UPDATE mailroom.organisations SET lead_status = 'in_progress' WHERE id = $E;
           UPDATE mailroom.organisations SET lead_status = 'closed' WHERE id = $E; COMMIT" >/dev/null
is "$(sql_admin "SELECT string_agg(old_status || '>' || new_status || ':' || (changed_by = $a1_id), ' ' ORDER BY id)
                 FROM mailroom.lead_changes WHERE organisation_id = $E")" "closed>in_progress:true in_progress>closed:true" \
	"the trigger records each change with the acting user"
sql_admin "UPDATE mailroom.lead_changes SET changed_at = '2026-01-11 08:00+00' WHERE organisation_id = $E" >/dev/null

is "$(get "/leads/report?from=2026-01-10&to=2026-01-11" "$c1")" 200 "the report answers"
is "$(for f in notes contacted closed positive negative partial unclassified; do figure "$a1_id" $f; done | tr '\n' ' ')" \
	"3 2 1 1 1 0 1 " "first agent: notes, leads contacted, closed, positive, negative, partial, unclassified"
is "$(for f in notes contacted closed positive negative partial unclassified; do figure "$a2_id" $f; done | tr '\n' ' ')" \
	"2 2 0 0 0 1 1 " "second agent's figures"
get "/leads/report?from=2026-01-12&to=2026-01-12" "$c1" >/dev/null
is "$(figure "$a1_id" notes)" 1 "the next day holds the late note"
get "/leads/report?from=2026-01-10&to=2026-01-11&user=$a2_id" "$c1" >/dev/null
is "$(grep -c '<tr class="agent"' "$T_TMP/page.html")" 1 "user= shows one user"
is "$(figure "$a2_id" notes)" 2 "user= shows that user's figures"
is "$(get "/leads/report?from=2026-01-10&to=2026-01-11" "$c3")" 200 "an auditor may read the report"
is "$(figure "$a1_id" closed)/$(figure "$a1_id" notes)" "1/3" "the auditor sees the same figures"
is "$(get "/leads?q=$tok" "$c3")" 200 "an auditor may read the queue"

# A lead closed through the customer file's form counts for today
today=$(TZ=Europe/Berlin date +%F)
get "/leads/report?from=$today&to=$today&user=$a2_id" "$c2" >/dev/null
before=$(figure "$a2_id" closed)
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: ${URL%/mailroom.cgi*}" -H "Cookie: __Host-mailroom=$c2" \
	--data-urlencode "csrf=$(web_csrf "$c2" customer-lead)" --data-urlencode lead_status=closed "$URL/o/$X/lead")" 303 \
	"the second agent closes a lead on its page"
get "/leads/report?from=$today&to=$today&user=$a2_id" "$c2" >/dev/null
is "$(figure "$a2_id" closed)" "$((before + 1))" "the report counts it for today"

# --- 6. bad parameters -----------------------------------------------------------------------
long=$(printf 'x%.0s' {1..201})
for bad in "q=$long" lead=open2 kind=person page=0 page=201 page=1x "page=1&page=2" sort=name; do
	is "$(get "/leads?$bad" "$c1")" 400 "queue: ${bad:0:20} is 400"
done
like "$(cat "$T_TMP/page.html")" 'unknown parameter; allowed: q lead kind page' "the 400 page says what is allowed"
for bad in from=2026-02-30 to=2026-1-01 "from=2026-01-02&to=2026-01-01" "from=2010-01-01&to=2026-01-01" user=me \
	user=1234567890123456789 x=1; do
	is "$(get "/leads/report?$bad" "$c1")" 400 "report: $bad is 400"
done
get "/leads/report?from=2026-01-02&to=2026-01-01" "$c1" >/dev/null
like "$(cat "$T_TMP/page.html")" 'from is after to' "the 400 page names the fault"
is "$(get "/leads" "")" 303 "signed out: to the sign-in page"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/leads/report")" 405 "DELETE is 405"

done_testing
