#!/usr/bin/env bash
# 97c-web-customers.sh - the customer pages through lighttpd and
# mailroom.cgi with curl, against the running stack.
#
# 1. Search: name words, a doc* prefix, e-mail, @domain, phone, postal
#    code, city, and the filters kind, lead, owner, active, label; merged
#    records never listed; bad parameters 400; markup in names escaped and
#    SQL or script in q only text.
# 2. Create and edit organisations and contacts: forms, validation (400
#    with a message, nothing written), audit rows with before and after;
#    auditors 403.
# 3. Merge and deactivate/reactivate: admin and lead only; the merge moves
#    contacts, domains, notes, tasks, files, labels, reminders,
#    conversations and message_meta in one transaction, and is audited.
# 4. Exports: the CSV of the address book, vCards, and one contact's
#    access-request download (tar.gz) holding exactly that contact's
#    messages, notes, reminders and tasks - never another contact's, never
#    another user's private conversation.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
URL=$MAILROOM_URL
ORIGIN=${URL%/mailroom.cgi*}

num=$(date +%s)$$
tok=z$num
adm=cadm$tok
agt=cagt$tok
aud=caud$tok
pw='correct horse battery staple'
cleanup() {
	sql_admin "BEGIN;
	  CREATE TEMP TABLE gone AS SELECT message_id FROM mailroom.message_meta
	   WHERE conversation_id IN (SELECT id FROM mailroom.conversations WHERE title LIKE '%$tok');
	  DELETE FROM mailroom.message_meta WHERE message_id IN (SELECT message_id FROM gone);
	  DELETE FROM mailroom.jobs WHERE message_id IN (SELECT message_id FROM gone);
	  DELETE FROM mailroom.messages WHERE id IN (SELECT message_id FROM gone);
	  DELETE FROM mailroom.conversations WHERE title LIKE '%$tok';
	  DELETE FROM mailroom.organisation_domains WHERE domain LIKE '%$tok.example';
	  DELETE FROM mailroom.contacts WHERE last_name LIKE '%$tok%' OR first_name LIKE '%$tok%';
	  DELETE FROM mailroom.organisations WHERE name LIKE '%$tok%';
	  DELETE FROM mailroom.labels WHERE name LIKE '%$tok';
	  DELETE FROM mailroom.users WHERE login LIKE '%$tok';
	  COMMIT" >/dev/null
}
at_exit cleanup

printf '%s\n' "$pw" >"$T_TMP/pw"
ctl user add "$adm" --name "Admin $tok" --role admin --password-file "$T_TMP/pw" >/dev/null || bail "user add $adm"
ctl user add "$agt" --name "Agent $tok" --role agent --password-file "$T_TMP/pw" >/dev/null || bail "user add $agt"
ctl user add "$aud" --name "Auditor $tok" --role auditor --password-file "$T_TMP/pw" >/dev/null || bail "user add $aud"
uid() { sql_admin "SELECT id FROM mailroom.users WHERE login = '$1'"; }
adm_id=$(uid "$adm")
agt_id=$(uid "$agt")

# get PATH COOKIE - GET; prints the status, the page in $T_TMP/page.html
get() {
	curl -s -o "$T_TMP/page.html" -D "$T_TMP/page.hdr" -w '%{http_code}' -H "Cookie: __Host-mailroom=$2" "$URL$1"
}
# gq PATH COOKIE NAME=VALUE... - GET with url-encoded query parameters
gq() {
	local path=$1 cookie=$2 f args=()
	shift 2
	for f in "$@"; do
		args+=(--data-urlencode "$f")
	done
	curl -s -G -o "$T_TMP/page.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$cookie" "${args[@]}" "$URL$path"
}
# post PATH COOKIE FIELD=VALUE... - POST from our origin; prints the
# status, the page in $T_TMP/post.html, the headers in $T_TMP/post.hdr
post() {
	local path=$1 cookie=$2 f args=()
	shift 2
	for f in "$@"; do
		args+=(--data-urlencode "$f")
	done
	curl -s -o "$T_TMP/post.html" -D "$T_TMP/post.hdr" -w '%{http_code}' -H "Origin: $ORIGIN" \
		-H "Cookie: __Host-mailroom=$cookie" "${args[@]}" "$URL$path"
}
page() { cat "$T_TMP/page.html"; }
# ids KIND - the ids of the result rows of one kind (org or contact), sorted
ids() { grep -o "<tr class=\"customer [a-z]*\" data-kind=\"$1\" data-id=\"[0-9]*\"" "$T_TMP/page.html" | sed 's/.*data-id="\([0-9]*\)"/\1/' | sort -n | tr '\n' ' '; }
audits() { sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = '$1' AND object = '$2'"; }

web_sign_in "$adm" "$pw"; is "$ST" 303 "the admin signs in"
AC=$SC
web_sign_in "$agt" "$pw"; is "$ST" 303 "the agent signs in"
GC=$SC
web_sign_in "$aud" "$pw"; is "$ST" 303 "the auditor signs in"
UC=$SC

# --- fixtures: organisations and contacts written directly -------------------
org() { # NAME CITY POSTAL PHONE - the new organisation's id
	sql_admin "INSERT INTO mailroom.organisations (name, city, postal_code, phone) VALUES ('$1', '$2', '$3', '$4') RETURNING id" | head -1
}
o1=$(org "Doculand $tok GmbH" "Zwickau" "08056" "+49 375 1234567")
o2=$(org "Acme Docks $tok" "Leipzig" "04109" "")
o3=$(org "Evil <b>$tok</b> & Co" "Berlin" "10115" "")
o4=$(org "Merged Doc$tok" "Zwickau" "08056" "")
sql_admin "UPDATE mailroom.organisations SET merged_into = $o1, active = false WHERE id = $o4;
	UPDATE mailroom.organisations SET lead_status = 'in_progress', owner_id = $agt_id WHERE id = $o2;
	INSERT INTO mailroom.organisation_domains VALUES ('doculand$tok.example', $o1)" >/dev/null
p1=$(sql_admin "INSERT INTO mailroom.contacts (organisation_id, first_name, last_name) VALUES ($o1, 'Dora', 'Docter$tok') RETURNING id" | head -1)
p2=$(sql_admin "INSERT INTO mailroom.contacts (organisation_id, first_name, last_name, active) VALUES ($o2, 'Paul', 'Inactive$tok', false) RETURNING id" | head -1)
sql_admin "INSERT INTO mailroom.contact_addresses VALUES ('dora@doculand$tok.example', $p1);
	INSERT INTO mailroom.contact_phones VALUES ($p1, '+49 (0)30 555-$num')" >/dev/null
lab=$(sql_admin "INSERT INTO mailroom.labels (name) VALUES ('vip$tok') RETURNING id" | head -1)
sql_admin "INSERT INTO mailroom.organisation_labels (organisation_id, label_id) VALUES ($o3, $lab)" >/dev/null

# --- 1. search ---------------------------------------------------------------
is "$(get /customers "")" 303 "signed out: GET /customers goes to the sign-in page"
is "$(gq /customers "$GC" "q=doculand $tok")" 200 "agent: search by name words"
like "$(page)" '<table class="customers">' "  table.customers"
like "$(page)" "<tr class=\"customer org\" data-kind=\"org\" data-id=\"$o1\"><td class=\"name\"><a class=\"customer\" href=\"/mailroom.cgi/o/$o1\">Doculand $tok GmbH</a>" \
	"  tr.customer with a.customer to /o/ID"
is "$(ids org)" "$o1 " "  only that organisation"
is "$(gq /customers "$GC" "q=doc*")" 200 "prefix doc*"
like "$(ids org)" "(^| )$o1 " "  finds Doculand"
unlike "$(ids org)" "(^| )$o2 " "  not Acme Docks (doc inside the name)"
unlike "$(ids org)" "(^| )$o4 " "  never a merged organisation"
like "$(ids contact)" "(^| )$p1 " "  the contact Docter (last name prefix)"
is "$(gq /customers "$GC" "q=docks $tok")" 200 "words inside a name"
is "$(ids org)" "$o2 " "  Acme Docks"
is "$(gq /customers "$GC" "q=DORA@doculand$tok.example")" 200 "an e-mail address (any case)"
is "$(ids contact)" "$p1 " "  its contact"
is "$(ids org)" "$o1 " "  and the organisation of its domain"
is "$(gq /customers "$GC" "q=@doculand$tok.example")" 200 "@domain"
is "$(ids contact)" "$p1 " "  the contacts of the domain"
is "$(gq /customers "$GC" "q=0049 30 555 $num" )" 200 "a phone number written otherwise"
is "$(ids contact)" "" "  other digits (0049 vs +49 (0)): no match"
is "$(gq /customers "$GC" "q=+49 (0)30 555-$num")" 200 "the phone number as stored"
is "$(ids contact)" "$p1 " "  its contact"
is "$(gq /customers "$GC" "q=49030555$num")" 200 "the phone number's digits"
is "$(ids contact)" "$p1 " "  its contact"
is "$(gq /customers "$GC" "q=08056" "kind=org")" 200 "postal code, kind=org"
like "$(ids org)" "(^| )$o1 " "  the organisation there"
is "$(ids contact)" "" "  no contacts with kind=org"
is "$(gq /customers "$GC" "q=zwick" "kind=org")" 200 "city prefix"
like "$(ids org)" "(^| )$o1 " "  the organisation in Zwickau"
is "$(gq /customers "$GC" "q=$tok" "lead=in_progress")" 200 "lead=in_progress"
is "$(ids org)" "$o2 " "  only the lead in progress"
is "$(gq /customers "$GC" "q=$tok" "owner=$agt_id")" 200 "owner=ID"
is "$(ids org)" "$o2 " "  only the agent's"
is "$(gq /customers "$GC" "q=$tok" "label=$lab")" 200 "label=ID"
is "$(ids org)" "$o3 " "  only the labelled"
is "$(gq /customers "$GC" "q=$tok" "kind=contact")" 200 "kind=contact, active by default"
is "$(ids contact)" "$p1 " "  the active contact only"
is "$(gq /customers "$GC" "q=$tok" "kind=contact" "active=0")" 200 "active=0"
is "$(ids contact)" "$p2 " "  the inactive contact"
is "$(gq /customers "$GC" "q=evil $tok")" 200 "markup in a name"
like "$(page)" "Evil &lt;b&gt;$tok&lt;/b&gt; &amp; Co" "  escaped"
is "$(gq /customers "$GC" "q=<script>alert(1)</script>")" 200 "script in q"
unlike "$(page)" "<script>alert" "  shown only escaped"
like "$(page)" 'value="&lt;script&gt;alert\(1\)&lt;/script&gt;"' "  in the search field"
is "$(gq /customers "$GC" "q=x' OR '1'='1")" 200 "SQL in q"
is "$(ids org)" "" "  finds nothing"
is "$(gq /customers "$GC" "q=%_*")" 200 "LIKE wildcards in a prefix"
is "$(ids org)" "" "  are only text"
is "$(gq /customers "$UC" "q=$tok")" 200 "an auditor may search"
for bad in kind=person lead=won owner=me active=2 label=x "q=$(printf 'a%.0s' {1..201})" "q=a b c d e f g h i"; do
	is "$(gq /customers "$GC" "$bad")" 400 "bad parameter ${bad:0:20}: 400"
done

# --- 2. create and edit ----------------------------------------------------------
csrf_of() { # FORM-ID - the CSRF token of that form in $T_TMP/page.html
	sed -n "/<form [^>]*id=\"$1\"/{n;s/.*name=\"csrf\" value=\"\([0-9a-f]\{64\}\)\".*/\1/p;}" "$T_TMP/page.html"
}
is "$(get /o/new "")" 303 "signed out: GET /o/new goes to the sign-in page"
is "$(post /o "" "name=x")" 403 "signed out: POST /o is 403"
is "$(get /o/new "$UC")" 403 "auditor: GET /o/new is 403"
is "$(post /o "$UC" "csrf=$(web_csrf "$UC" organisation-new)" "name=Aud $tok" "kind=customer")" 403 \
	"auditor: POST /o with a valid token is 403"
is "$(get /o/new "$GC")" 200 "agent: GET /o/new"
like "$(page)" '<form method="post" action="/mailroom.cgi/o" id="organisation-new"' "  the form"
oc=$(csrf_of organisation-new)
is "${#oc}" 64 "  with a CSRF token"
is "$(post /o "$GC" "csrf=$(web_csrf "$GC" contact-new)" "name=Wrong $tok" "kind=customer")" 403 \
	"another form's token is 403"
norgs=$(sql_admin "SELECT count(*) FROM mailroom.organisations WHERE name LIKE '%$tok%'")
is "$(post /o "$GC" "csrf=$oc" "name=" "kind=customer")" 400 "no name: 400"
like "$(cat "$T_TMP/post.html")" 'An organisation needs a name' "  says why"
is "$(post /o "$GC" "csrf=$oc" "name=K $tok" "kind=person")" 400 "bad kind: 400"
is "$(post /o "$GC" "csrf=$oc" "name=$(printf 'n%.0s' {1..301})" "kind=customer")" 400 "a 301-character name: 400"
is "$(post /o "$GC" "csrf=$oc" "name=D $tok" "kind=customer" "domains=not a domain")" 400 "a bad domain: 400"
like "$(cat "$T_TMP/post.html")" 'is not a domain name' "  says why"
like "$(cat "$T_TMP/post.html")" 'value="D '"$tok"'"' "  the form keeps the values"
is "$(post /o "$GC" "csrf=$oc" "name=O $tok" "kind=customer" "owner_id=999999999")" 400 "an unknown owner: 400"
is "$(post /o "$GC" "csrf=$oc" "name=T $tok" "kind=customer" "domains=doculand$tok.example")" 409 \
	"another organisation's domain: 409"
like "$(cat "$T_TMP/post.html")" "doculand$tok.example belongs to another record" "  says which"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisations WHERE name LIKE '%$tok%'")" "$norgs" "nothing was written"
evil="<script>alert(1)</script> Ltd $tok'); DROP TABLE mailroom.organisations; --"
is "$(post /o "$GC" "csrf=$oc" "name=$evil" "kind=supplier" "vip=1" "owner_id=$agt_id" "street=Hauptstr. 1" \
	"postal_code=08056" "city=Zwickau" "country=DE" "phone=+49 375 1" "website=https://new$tok.example" \
	"domains=NEW$tok.example
  www.new$tok.example  ")" 303 "agent creates an organisation"
no=$(sql_admin "SELECT id FROM mailroom.organisations WHERE name = \$\$$evil\$\$")
like "$no" '^[0-9]+$' "  it is there, the name as text"
like "$(grep -i '^Location:' "$T_TMP/post.hdr")" "/mailroom.cgi/o/$no" "  303 to its page"
is "$(sql_admin "SELECT kind || vip || owner_id || city || country FROM mailroom.organisations WHERE id = $no")" \
	"supplier""true""$agt_id""ZwickauDE" "  with its fields"
is "$(sql_admin "SELECT string_agg(domain, ' ' ORDER BY domain) FROM mailroom.organisation_domains WHERE organisation_id = $no")" \
	"new$tok.example www.new$tok.example" "  and its domains, lower case, trimmed"
is "$(audits organisation.create "organisation:$no")" 1 "organisation.create audited"
is "$(sql_admin "SELECT (before IS NULL)::text || ' ' || (after->>'city') || ' ' || (after->'domains'->>0) FROM mailroom.audit WHERE action = 'organisation.create' AND object = 'organisation:$no'")" \
	"true Zwickau new$tok.example" "  with the record after"
is "$(get "/o/$no/edit" "$GC")" 200 "GET /o/ID/edit"
like "$(page)" "<form method=\"post\" action=\"/mailroom.cgi/o/$no/edit\" id=\"organisation-edit\"" "  the edit form"
like "$(page)" 'name="name" maxlength="300" value="&lt;script&gt;alert\(1\)&lt;/script&gt;' "  the name escaped"
unlike "$(page)" '<script>alert' "  never as markup"
ec=$(csrf_of organisation-edit)
is "$(post "/o/$no/edit" "$GC" "csrf=$ec" "name=Renamed $tok" "kind=customer" "city=Chemnitz" \
	"domains=new$tok.example")" 303 "edit it"
is "$(sql_admin "SELECT name || '|' || kind || '|' || vip || '|' || coalesce(owner_id::text, '-') || '|' || city || '|' || coalesce(street, '-') FROM mailroom.organisations WHERE id = $no")" \
	"Renamed $tok|customer|false|-|Chemnitz|-" "  the fields changed, emptied ones NULL"
is "$(sql_admin "SELECT string_agg(domain, ' ') FROM mailroom.organisation_domains WHERE organisation_id = $no")" \
	"new$tok.example" "  a domain removed"
is "$(sql_admin "SELECT (before->>'city') || '>' || (after->>'city') || ' ' || jsonb_array_length(before->'domains') || '>' || jsonb_array_length(after->'domains') FROM mailroom.audit WHERE action = 'organisation.edit' AND object = 'organisation:$no'")" \
	"Zwickau>Chemnitz 2>1" "organisation.edit audited with before and after"
is "$(post "/o/$no/edit" "$GC" "csrf=$ec" "name=Renamed $tok" "kind=customer" "city=Chemnitz" \
	"domains=new$tok.example")" 303 "the same again"
is "$(audits organisation.edit "organisation:$no")" 1 "  nothing changed: no audit row"
is "$(get /o/abc/edit "$GC")" 404 "GET /o/abc/edit: 404"
is "$(get /o/999999999/edit "$GC")" 404 "GET /o/unknown/edit: 404"
is "$(get "/o/$o4/edit" "$GC")" 404 "a merged organisation cannot be edited"
is "$(post /o/999999999/edit "$GC" "csrf=$ec" "name=X" "kind=customer")" 404 "POST /o/unknown/edit: 404"

is "$(get /p/new "$GC")" 200 "agent: GET /p/new"
pc=$(csrf_of contact-new)
is "$(post /p "$GC" "csrf=$pc" "salutation=Ms")" 400 "a contact without name or address: 400"
like "$(cat "$T_TMP/post.html")" 'needs a first or last name' "  says why"
is "$(post /p "$GC" "csrf=$pc" "last_name=X$tok" "emails=not-an-address")" 400 "a bad address: 400"
is "$(post /p "$GC" "csrf=$pc" "last_name=X$tok" "organisation_id=$o4")" 400 "a merged organisation: 400"
is "$(post /p "$GC" "csrf=$pc" "last_name=X$tok" "emails=dora@doculand$tok.example")" 409 "another contact's address: 409"
is "$(post /p "$GC" "csrf=$pc" "salutation=Dr." "first_name=Nina" "last_name=New$tok" "position=CEO" \
	"organisation_id=$no" "owner_id=$agt_id" "emails=Nina@New$tok.example" "phones=+49 1
+49 2")" 303 "agent creates a contact"
np=$(sql_admin "SELECT id FROM mailroom.contacts WHERE last_name = 'New$tok'")
is "$(sql_admin "SELECT salutation || position || organisation_id || owner_id FROM mailroom.contacts WHERE id = $np")" \
	"Dr.CEO$no$agt_id" "  with its fields"
is "$(sql_admin "SELECT string_agg(address, ' ') FROM mailroom.contact_addresses WHERE contact_id = $np")" \
	"nina@new$tok.example" "  its address, lower case"
is "$(sql_admin "SELECT string_agg(phone, ' ' ORDER BY phone) FROM mailroom.contact_phones WHERE contact_id = $np")" \
	"+49 1 +49 2" "  its phones"
is "$(audits contact.create "contact:$np")" 1 "contact.create audited"
is "$(get "/p/$np/edit" "$GC")" 200 "GET /p/ID/edit"
pe=$(csrf_of contact-edit)
is "$(post "/p/$np/edit" "$GC" "csrf=$pe" "first_name=Nina" "last_name=New$tok" "emails=nina2@new$tok.example" "phones=+49 2")" 303 "edit the contact"
is "$(sql_admin "SELECT coalesce(position, '-') || ' ' || (SELECT string_agg(address, ' ') FROM mailroom.contact_addresses WHERE contact_id = $np) || ' ' || (SELECT string_agg(phone, ' ') FROM mailroom.contact_phones WHERE contact_id = $np) FROM mailroom.contacts WHERE id = $np")" \
	"- nina2@new$tok.example +49 2" "  fields and lists replaced"
is "$(sql_admin "SELECT (before->'emails'->>0) || '>' || (after->'emails'->>0) FROM mailroom.audit WHERE action = 'contact.edit' AND object = 'contact:$np'")" \
	"nina@new$tok.example>nina2@new$tok.example" "contact.edit audited with before and after"

# --- 3. merge, deactivate, reactivate ------------------------------------------------
web_sign_in "$agt" "$pw"
# a conversation with one message of a contact: conv PRIVATE(1/0) OWNER ORG CONTACT SUBJECT - the conversation id
conv() {
	local id
	id=$(cat /proc/sys/kernel/random/uuid)
	sql_admin "BEGIN;
	  INSERT INTO mailroom.messages (id, received_at, gateway, direction, record_policy, envelope_from,
	                                 envelope_to, envelope_to_args, size_bytes, sha256, raw)
	  SELECT '$id', now(), 'test', 'inbound', 'full', 'x@test.invalid', '{info@example.com}', '{\"\"}',
	         length(r), sha256(r), r FROM (SELECT convert_to('Subject: $5' || E'\r\n\r\n' || 'Body of $5' || E'\r\n', 'UTF8') AS r) s;
	  UPDATE mailroom.jobs SET state = 'done', done_at = now() WHERE message_id = '$id';
	  WITH c AS (INSERT INTO mailroom.conversations (title, subject_key, first_message_at, last_activity_at, private, owner_id, organisation_id)
	             VALUES ('$5', '$5', now(), now(), $1::boolean, $2, $3) RETURNING id)
	  INSERT INTO mailroom.message_meta (message_id, subject, conversation_id, organisation_id, contact_id, from_addr)
	  SELECT '$id', '$5', c.id, $3, $4, 'x@test.invalid' FROM c;
	  COMMIT;" >/dev/null
	sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '$id'"
}
mo=$(org "Dup $tok" "Zwickau" "08056" "")
mp=$(sql_admin "INSERT INTO mailroom.contacts (organisation_id, last_name) VALUES ($mo, 'Dupc$tok') RETURNING id" | head -1)
sql_admin "INSERT INTO mailroom.organisation_domains VALUES ('dup$tok.example', $mo);
	INSERT INTO mailroom.notes (organisation_id, kind, body, author) VALUES ($mo, 'note', 'merge me $tok', $agt_id);
	INSERT INTO mailroom.tasks (organisation_id, title) VALUES ($mo, 'task $tok');
	INSERT INTO mailroom.files (organisation_id, filename, content_type, size_bytes, sha256, data) VALUES ($mo, 'f.txt', 'text/plain', 1, sha256('x'), 'x');
	INSERT INTO mailroom.organisation_labels (organisation_id, label_id) VALUES ($mo, $lab), ($o1, $lab);
	INSERT INTO mailroom.reminders (organisation_id, due_at, message) VALUES ($mo, now() + interval '1 day', 'r $tok')" >/dev/null
mc_pub=$(conv 0 NULL "$mo" "$mp" "public $tok")
mc_priv=$(conv 1 "$adm_id" "$mo" "$mp" "private of admin $tok")
is "$(post "/o/$mo/merge" "$GC" "csrf=$(web_csrf "$GC" customer-merge)" "into=$o1")" 403 "agent: merge is 403"
is "$(post "/o/$mo/active" "$GC" "csrf=$(web_csrf "$GC" customer-active)" "active=0")" 403 "agent: deactivate is 403"
is "$(post "/o/$mo/merge" "$UC" "csrf=$(web_csrf "$UC" customer-merge)" "into=$o1")" 403 "auditor: merge is 403"
is "$(post "/o/$mo/merge" "" "into=$o1")" 403 "signed out: merge is 403"
sql_admin "UPDATE mailroom.users SET role = 'lead' WHERE id = $agt_id" >/dev/null
LC_=$GC
mcs=$(web_csrf "$LC_" customer-merge)
is "$(post "/o/$mo/merge" "$LC_" "csrf=$(web_csrf "$LC_" customer-active)" "into=$o1")" 403 "lead: another form's token is 403"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=x")" 400 "lead: into not an id: 400"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=$mo")" 400 "into itself: 400"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=$o4")" 400 "into a merged organisation: 400"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=999999999")" 400 "into an unknown organisation: 400"
is "$(post "/o/999999999/merge" "$LC_" "csrf=$mcs" "into=$o1")" 404 "an unknown organisation: 404"
is "$(sql_admin "SELECT count(*) FROM mailroom.contacts WHERE organisation_id = $mo")" 1 "nothing moved yet"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=$o1")" 303 "lead merges the duplicate"
like "$(grep -i '^Location:' "$T_TMP/post.hdr")" "/mailroom.cgi/o/$o1" "  303 to the organisation that stays"
is "$(sql_admin "SELECT merged_into || ' ' || active FROM mailroom.organisations WHERE id = $mo")" "$o1 false" \
	"  the duplicate: merged, inactive"
for t in contacts organisation_domains notes tasks files reminders organisation_labels message_meta; do
	is "$(sql_admin "SELECT count(*) FROM mailroom.$t WHERE organisation_id = $mo")" 0 "  nothing left in $t"
done
is "$(sql_admin "SELECT count(*) FROM mailroom.conversations WHERE organisation_id = $o1 AND id IN ($mc_pub, $mc_priv)")" 2 \
	"  both conversations moved, the admin's private one too"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisation_labels WHERE organisation_id = $o1 AND label_id = $lab")" 1 \
	"  the label both had is there once"
is "$(sql_admin "SELECT organisation_id FROM mailroom.contacts WHERE id = $mp")" "$o1" "  the contact moved"
is "$(sql_admin "SELECT (before->>'active') || ' ' || (after->>'merged_into') || ' ' || (after->'moved'->>'conversations') || ' ' || (after->'moved'->>'notes') FROM mailroom.audit WHERE action = 'organisation.merge' AND object = 'organisation:$mo'")" \
	"true $o1 2 1" "organisation.merge audited with what moved"
is "$(post "/o/$mo/merge" "$LC_" "csrf=$mcs" "into=$o2")" 404 "a merged organisation cannot be merged again"
# contacts
pa=$(sql_admin "INSERT INTO mailroom.contacts (last_name) VALUES ('Pa$tok') RETURNING id" | head -1)
pb=$(sql_admin "INSERT INTO mailroom.contacts (last_name) VALUES ('Pb$tok') RETURNING id" | head -1)
sql_admin "INSERT INTO mailroom.contact_addresses VALUES ('pa@x$tok.example', $pa);
	INSERT INTO mailroom.contact_phones VALUES ($pa, '1'), ($pb, '1'), ($pa, '2');
	INSERT INTO mailroom.notes (contact_id, kind, body) VALUES ($pa, 'note', 'n $tok')" >/dev/null
is "$(post "/p/$pa/merge" "$LC_" "csrf=$mcs" "into=$pb")" 303 "lead merges a contact"
is "$(sql_admin "SELECT (SELECT count(*) FROM mailroom.contact_addresses WHERE contact_id = $pb) || ' ' || (SELECT string_agg(phone, ',' ORDER BY phone) FROM mailroom.contact_phones WHERE contact_id = $pb) || ' ' || (SELECT count(*) FROM mailroom.notes WHERE contact_id = $pb) || ' ' || (SELECT merged_into FROM mailroom.contacts WHERE id = $pa)")" \
	"1 1,2 1 $pb" "  addresses, phones (once each), notes moved; merged_into set"
is "$(audits contact.merge "contact:$pa")" 1 "contact.merge audited"
acs=$(web_csrf "$LC_" customer-active)
is "$(post "/o/$o2/active" "$LC_" "csrf=$acs" "active=yes")" 400 "active=yes: 400"
is "$(post "/o/$o2/active" "$LC_" "csrf=$acs" "active=0")" 303 "lead deactivates"
is "$(sql_admin "SELECT active FROM mailroom.organisations WHERE id = $o2")" f "  inactive"
is "$(post "/o/$o2/active" "$LC_" "csrf=$acs" "active=0")" 303 "again"
is "$(audits organisation.active "organisation:$o2")" 1 "  audited once (nothing changed the second time)"
is "$(post "/o/$o2/active" "$LC_" "csrf=$acs" "active=1")" 303 "lead reactivates"
is "$(sql_admin "SELECT string_agg((before->>'active') || '>' || (after->>'active'), ' ' ORDER BY id) FROM mailroom.audit WHERE action = 'organisation.active' AND object = 'organisation:$o2'")" \
	"true>false false>true" "  both audited with before and after"
is "$(post "/p/$pb/active" "$AC" "csrf=$(web_csrf "$AC" customer-active)" "active=0")" 303 "admin deactivates a contact"
is "$(post "/p/$pa/active" "$AC" "csrf=$(web_csrf "$AC" customer-active)" "active=1")" 404 "a merged contact: 404"
sql_admin "UPDATE mailroom.users SET role = 'agent' WHERE id = $agt_id" >/dev/null

# --- 4. exports -------------------------------------------------------------------
# dl PATH COOKIE FILE - GET a download into FILE; prints the status
dl() { curl -s -o "$3" -D "$T_TMP/dl.hdr" -w '%{http_code}' -H "Cookie: __Host-mailroom=$2" "$URL$1"; }
is "$(dl /export/customers.csv "$GC" "$T_TMP/x")" 403 "agent: the CSV export is 403"
is "$(dl /export/contacts.vcf "$UC" "$T_TMP/x")" 403 "auditor: the vCard export is 403"
is "$(dl "/p/$p1/export" "$GC" "$T_TMP/x")" 403 "agent: a contact's export is 403"
is "$(dl /export/customers.csv "" "$T_TMP/x")" 303 "signed out: to the sign-in page"
is "$(dl /export/customers.csv "$AC" "$T_TMP/c.csv")" 200 "admin: the CSV export"
like "$(tr -d '\r' < "$T_TMP/dl.hdr")" 'Content-Disposition: attachment; filename="customers.csv"' "  as a download"
is "$(head -1 "$T_TMP/c.csv" | tr -d '\r')" $'\xef\xbb\xbforganisation,kind,domains,vip,owner,postal_code,city,salutation,first_name,last_name,emails,phones' \
	"  the header of mailroomctl's format"
like "$(cat "$T_TMP/c.csv")" "Doculand $tok GmbH,customer,doculand$tok.example dup$tok.example,no,,08056,Zwickau,,Dora,Docter$tok,dora@doculand$tok.example" \
	"  a contact with its organisation"
like "$(cat "$T_TMP/c.csv")" "\"Evil <b>$tok</b> & Co\"|Evil <b>$tok</b> & Co," "  the organisation with markup as plain CSV text"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'customers.export' AND object = 'export:customers.csv' AND actor = '$adm'")" 1 \
	"  audited"
is "$(dl /export/contacts.vcf "$AC" "$T_TMP/c.vcf")" 200 "admin: the vCard export"
vc=$(tr -d '\r' < "$T_TMP/c.vcf" | sed -n "/^UID:$p1\$/q;/^BEGIN:VCARD/,\$p" | sed -n '/^BEGIN:VCARD/h;/^BEGIN:VCARD/!H;${x;p}')
like "$vc" "N:Docter$tok;Dora;;;" "  N of the contact"
like "$vc" "EMAIL;TYPE=INTERNET:dora@doculand$tok.example" "  its address"
like "$vc" "TEL:\\+49 \\(0\\)30 555-$num" "  its phone"
like "$vc" "ORG:Doculand $tok GmbH" "  its organisation"
unlike "$(tr -d '\r' < "$T_TMP/c.vcf")" "UID:$p2
" "  an inactive contact is not exported"
is "$(LC_ALL=C awk '{ if (length($0) > 76) n++ } END { print n + 0 }' "$T_TMP/c.vcf")" 0 "  every line at most 75 octets (and CR)"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'customers.export' AND object = 'export:contacts.vcf' AND actor = '$adm'")" 1 \
	"  audited"

# one contact's access request: their messages, notes, reminders, tasks; nobody else's
pe=$(sql_admin "INSERT INTO mailroom.contacts (first_name, last_name) VALUES ('Erin', 'Export$tok') RETURNING id" | head -1)
po=$(sql_admin "INSERT INTO mailroom.contacts (first_name, last_name) VALUES ('Otto', 'Other$tok') RETURNING id" | head -1)
sql_admin "INSERT INTO mailroom.contact_addresses VALUES ('erin@exp$tok.example', $pe), ('otto@exp$tok.example', $po);
	INSERT INTO mailroom.notes (contact_id, kind, body) VALUES ($pe, 'phone', 'erin note $tok'), ($po, 'note', 'otto note $tok');
	INSERT INTO mailroom.reminders (contact_id, due_at, message) VALUES ($pe, now() + interval '2 days', 'erin reminder $tok'), ($po, now(), 'otto reminder $tok');
	INSERT INTO mailroom.tasks (contact_id, title) VALUES ($pe, 'erin task $tok'), ($po, 'otto task $tok')" >/dev/null
conv 0 NULL NULL "$pe" "erin public $tok" >/dev/null
conv 1 "$agt_id" NULL "$pe" "erin private of the agent $tok" >/dev/null
conv 0 NULL NULL "$po" "otto public $tok" >/dev/null
cid=$(conv 0 NULL NULL NULL "erin by address $tok")
sql_admin "UPDATE mailroom.message_meta SET from_addr = 'erin@exp$tok.example' WHERE conversation_id = $cid" >/dev/null
is "$(dl "/p/$pe/export" "$AC" "$T_TMP/e.tar.gz")" 200 "admin: a contact's export"
like "$(tr -d '\r' < "$T_TMP/dl.hdr")" "Content-Disposition: attachment; filename=\"contact-$pe.tar.gz\"" "  as contact-ID.tar.gz"
mkdir -p "$T_TMP/e"
ok "  a tar.gz that unpacks" tar -xzf "$T_TMP/e.tar.gz" -C "$T_TMP/e"
is "$(cd "$T_TMP/e/contact-$pe" && ls | tr '\n' ' ')" "contact.json messages notes.json reminders.json tasks.json " "  its files"
is "$(ls "$T_TMP/e/contact-$pe/messages" | wc -l)" 2 "  two messages: the one of the contact and the one from their address"
all=$(cat "$T_TMP/e/contact-$pe"/messages/*.eml "$T_TMP/e/contact-$pe"/*.json)
like "$all" "Subject: erin public $tok" "  the contact's message as .eml"
like "$all" "Subject: erin by address $tok" "  the message from their address"
unlike "$all" "private of the agent" "  not the agent's private conversation"
unlike "$all" "otto" "  nothing of another contact"
like "$(cat "$T_TMP/e/contact-$pe/notes.json")" "erin note $tok" "  the notes"
like "$(cat "$T_TMP/e/contact-$pe/reminders.json")" "erin reminder $tok" "  the reminders"
like "$(cat "$T_TMP/e/contact-$pe/tasks.json")" "erin task $tok" "  the tasks"
like "$(cat "$T_TMP/e/contact-$pe/contact.json")" "erin@exp$tok.example" "  the contact with its addresses"
ok "  the JSON files parse" python3 -c 'import json, sys
for f in sys.argv[1:]: json.load(open(f))' "$T_TMP/e/contact-$pe"/*.json
is "$(sql_admin "SELECT (after->>'messages') || ' ' || (after->>'format') FROM mailroom.audit WHERE action = 'contact.export' AND object = 'contact:$pe' AND actor = '$adm'")" \
	"2 tar.gz" "contact.export audited"
is "$(dl /p/999999999/export "$AC" "$T_TMP/x")" 404 "an unknown contact: 404"
is "$(dl /p/x1/export "$AC" "$T_TMP/x")" 404 "a bad id: 404"

# the edit page offers merge and active to admins and leads only
is "$(get "/o/$o2/edit" "$AC")" 200 "admin: the edit page"
like "$(page)" "<form method=\"post\" action=\"/mailroom.cgi/o/$o2/merge\" id=\"customer-merge\">" "  with the merge form"
like "$(page)" "<form method=\"post\" action=\"/mailroom.cgi/o/$o2/active\" id=\"customer-active\">" "  and the active form"
is "$(csrf_of customer-merge)" "$(web_csrf "$AC" customer-merge)" "  whose token is the customer-merge one"
is "$(get "/p/$pe/edit" "$GC")" 200 "agent: a contact's edit page"
unlike "$(page)" 'id="customer-merge"' "  without the merge form"
done_testing
