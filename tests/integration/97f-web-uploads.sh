#!/usr/bin/env bash
# 97f-web-uploads.sh - customer files uploaded as multipart/form-data
# through lighttpd and mailroom.cgi with curl, against the running stack.
#
# 1. An agent uploads a binary file to an organisation and a contact: 303
#    to the customer's page, the row holds the bytes and their sha256, one
#    audit row each (file.upload).
# 2. The download is byte-identical, application/octet-stream, attachment,
#    under the sandbox CSP; a file that is not there is 404.
# 3. Refusals: an auditor (403), a wrong CSRF token (403), another origin
#    (403), a bad file name (400), no file (400), an unknown customer
#    (404), a file over 25 MiB (413), a text/plain body (415); none stores
#    a row.
# 4. Delete: the auditor is refused, the agent deletes it (303, audited
#    file.delete, the row is gone), and a second delete is 404.
# 5. Standard attachments: agents and auditors 403; an admin adds one
#    (listed, downloadable byte-identical, audited), a taken name is 409,
#    over 10 MiB is 413; switched off and on again, audited.
# 6. Import: agents 403; a CSV with a problem imports nothing and the
#    report (422) names the line and why; a good CSV adds organisations
#    and contacts (report and rows), a second one updates an existing
#    organisation with a new domain; a vCard adds its contacts; each
#    audited (contacts.import, contacts.import.refused).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
URL=$MAILROOM_URL
ORIGIN=${URL%/mailroom.cgi*}

tok=$(date +%s)$$
agt=upa$tok
aud=upd$tok
adm=upm$tok
pw='correct horse battery staple'
at_exit "sql_admin \"DELETE FROM mailroom.files WHERE filename LIKE '%$tok%'; DELETE FROM mailroom.contacts WHERE last_name IN ('Up$tok', 'Imp$tok', 'Card$tok'); DELETE FROM mailroom.organisations WHERE name IN ('Up $tok', 'Imp $tok', 'Card $tok'); DELETE FROM mailroom.standard_attachments WHERE name LIKE '%$tok'; DELETE FROM mailroom.users WHERE login LIKE '%$tok'\" >/dev/null"

printf '%s\n' "$pw" >"$T_TMP/pw"
ctl user add "$agt" --name "Agent $tok" --role agent --password-file "$T_TMP/pw" >/dev/null || bail "user add $agt"
ctl user add "$aud" --name "Auditor $tok" --role auditor --password-file "$T_TMP/pw" >/dev/null || bail "user add $aud"
ctl user add "$adm" --name "Admin $tok" --role admin --password-file "$T_TMP/pw" >/dev/null || bail "user add $adm"
org=$(sql_admin "INSERT INTO mailroom.organisations (name) VALUES ('Up $tok') RETURNING id")
ctc=$(sql_admin "INSERT INTO mailroom.contacts (organisation_id, last_name) VALUES ($org, 'Up$tok') RETURNING id")
[[ $org =~ ^[0-9]+$ && $ctc =~ ^[0-9]+$ ]] || bail "customer rows"

web_sign_in "$agt" "$pw"; is "$ST" 303 "the agent signs in"
GC=$SC
web_sign_in "$aud" "$pw"; is "$ST" 303 "the auditor signs in"
DC=$SC

# csrf_for COOKIE FORM - the right CSRF token of a form for a session
csrf_for() {
	local key
	key=$(sql_admin "SELECT encode(csrf_key, 'hex') FROM mailroom.web_sessions WHERE token_hash = sha256(decode('$1', 'hex'))")
	python3 -c 'import hmac, hashlib, sys; print(hmac.new(bytes.fromhex(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$key" "$2"
}
# upload PATH COOKIE CSRF FILE [NAME [ORIGIN]] - multipart POST of FILE
# (as NAME); prints the status, headers in $T_TMP/up.hdr
upload() {
	local name=${5:-$(basename "$4")}
	curl -s -o "$T_TMP/up.html" -D "$T_TMP/up.hdr" -w '%{http_code}' -H "Origin: ${6:-$ORIGIN}" \
		-H "Cookie: __Host-mailroom=$2" -F "csrf=$3" -F "file=@$4;filename=$name" "$URL$1"
}
files_of() { sql_admin "SELECT count(*) FROM mailroom.files WHERE organisation_id = $org OR contact_id = $ctc"; }
audits() { sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = '$1' AND object = '$2'"; }

# 1. upload: binary bytes with NUL, CR and LF, ending in CR LF
python3 -c 'import os, sys; sys.stdout.buffer.write(os.urandom(200000) + b"\0\r\n--x\r\n")' >"$T_TMP/data-$tok.bin"
GT=$(csrf_for "$GC" files)
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/data-$tok.bin" "Offer $tok.bin")" 303 "agent: upload to an organisation is 303"
like "$(grep -i '^Location:' "$T_TMP/up.hdr")" "/o/$org" "it goes back to the organisation's page"
fid=$(sql_admin "SELECT id FROM mailroom.files WHERE organisation_id = $org AND filename = 'Offer $tok.bin'")
[[ $fid =~ ^[0-9]+$ ]] || bail "the file row is missing"
is "$(sql_admin "SELECT size_bytes = octet_length(data) AND sha256 = sha256(data) AND uploaded_by = (SELECT id FROM mailroom.users WHERE login = '$agt') FROM mailroom.files WHERE id = $fid")" t \
	"the row holds the bytes, their size, sha256 and uploader"
is "$(sql_admin "SELECT encode(sha256, 'hex') FROM mailroom.files WHERE id = $fid")" "$(sha256sum "$T_TMP/data-$tok.bin" | cut -d' ' -f1)" \
	"the stored bytes are the uploaded ones"
is "$(audits file.upload "file:$fid")" 1 "the upload is audited"
is "$(upload "/p/$ctc/files" "$GC" "$GT" "$T_TMP/pw" "Notes $tok.txt")" 303 "agent: upload to a contact is 303"
is "$(sql_admin "SELECT content_type FROM mailroom.files WHERE contact_id = $ctc AND filename = 'Notes $tok.txt'")" text/plain \
	"the contact's file is stored with its type"

# 2. download
st=$(curl -s -o "$T_TMP/down.bin" -D "$T_TMP/down.hdr" -w '%{http_code}' -H "Cookie: __Host-mailroom=$DC" "$URL/f/$fid")
is "$st" 200 "the auditor may download it"
ok "the download is byte-identical" cmp -s "$T_TMP/down.bin" "$T_TMP/data-$tok.bin"
like "$(grep -i '^Content-Type:' "$T_TMP/down.hdr")" "application/octet-stream" "as application/octet-stream"
like "$(grep -i '^Content-Disposition:' "$T_TMP/down.hdr")" "attachment; filename=\"Offer $tok.bin\"" "as an attachment with its name"
like "$(grep -i '^Content-Security-Policy:' "$T_TMP/down.hdr")" "sandbox" "under the sandbox CSP"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$GC" "$URL/f/999999999999")" 404 "a file that is not there is 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/f/$fid")" 303 "signed out: to the sign-in page"

# 3. refusals
n=$(files_of)
is "$(upload "/o/$org/files" "$DC" "$(csrf_for "$DC" files)" "$T_TMP/pw" "a$tok.txt")" 403 "auditor: upload is 403"
is "$(upload "/o/$org/files" "$GC" "$(csrf_for "$GC" file-delete)" "$T_TMP/pw" "a$tok.txt")" 403 "another form's CSRF token is 403"
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/pw" "a$tok.txt" "https://evil.example")" 403 "another origin is 403"
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/pw" ".hidden$tok")" 400 "a name with a leading dot is 400"
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/pw" "up\\$tok.txt")" 400 "a name with a backslash is 400"
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/pw" "up/$tok.txt")" 400 "a name with a slash is 400"
is "$(upload "/o/999999999999/files" "$GC" "$GT" "$T_TMP/pw" "a$tok.txt")" 404 "an unknown organisation is 404"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$GC" -F "csrf=$GT" -F "note=x" "$URL/o/$org/files")
is "$st" 400 "a form without a file is 400"
head -c 26214401 /dev/zero >"$T_TMP/big-$tok.bin"
is "$(upload "/o/$org/files" "$GC" "$GT" "$T_TMP/big-$tok.bin")" 413 "a file one byte over 25 MiB is 413"
like "$(cat "$T_TMP/up.html")" "at most 25 MiB" "the 413 page says the limit"
head -c 26214400 /dev/zero >"$T_TMP/max-$tok.bin"
is "$(upload "/p/$ctc/files" "$GC" "$GT" "$T_TMP/max-$tok.bin")" 303 "a file of exactly 25 MiB is stored"
sql_admin "DELETE FROM mailroom.files WHERE filename = 'max-$tok.bin'" >/dev/null
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$GC" -H 'Content-Type: text/plain' \
	--data-binary "csrf=$GT" "$URL/o/$org/files")
is "$st" 415 "a text/plain body is 415"
is "$(files_of)" "$n" "no refused upload stored a row"

# 4. delete
del() { curl -s -o /dev/null -D "$T_TMP/del.hdr" -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$1" \
	--data-urlencode "csrf=$(csrf_for "$1" file-delete)" "$URL/f/$fid/delete"; }
is "$(del "$DC")" 403 "auditor: delete is 403"
is "$(sql_admin "SELECT count(*) FROM mailroom.files WHERE id = $fid")" 1 "the file is still there"
is "$(del "$GC")" 303 "agent: delete is 303"
like "$(grep -i '^Location:' "$T_TMP/del.hdr")" "/o/$org" "back to the organisation's page"
is "$(sql_admin "SELECT count(*) FROM mailroom.files WHERE id = $fid")" 0 "the row is gone"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'file.delete' AND object = 'file:$fid' AND before->>'filename' = 'Offer $tok.bin' AND after IS NULL")" 1 \
	"the delete is audited"
is "$(del "$GC")" 404 "a second delete is 404"

# 5. standard attachments
web_sign_in "$adm" "$pw"; is "$ST" 303 "the admin signs in"
AC=$SC
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$GC" "$URL/attachments")" 403 "agent: GET /attachments is 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$DC" "$URL/attachments")" 403 "auditor: GET /attachments is 403"
# addatt COOKIE NAME FILE - add a standard attachment; prints the status
addatt() {
	curl -s -o "$T_TMP/up.html" -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$1" \
		-F "csrf=$(csrf_for "$1" attachments)" -F "name=$2" -F "file=@$3" "$URL/attachments"
}
is "$(addatt "$GC" "Terms $tok" "$T_TMP/data-$tok.bin")" 403 "agent: adding one is 403"
is "$(addatt "$AC" "Terms $tok" "$T_TMP/data-$tok.bin")" 303 "admin: adding one is 303"
aid=$(sql_admin "SELECT id FROM mailroom.standard_attachments WHERE name = 'Terms $tok'")
[[ $aid =~ ^[0-9]+$ ]] || bail "the standard attachment is missing"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'attachment.add' AND object = 'standard_attachment:$aid'")" 1 "it is audited"
is "$(curl -s -o "$T_TMP/att.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$AC" "$URL/attachments")" 200 "admin: the list"
like "$(cat "$T_TMP/att.html")" "data-id=\"$aid\"><td class=\"name\">Terms $tok<" "lists it"
curl -s -o "$T_TMP/att.bin" -H "Cookie: __Host-mailroom=$AC" "$URL/attachments/$aid"
ok "its download is byte-identical" cmp -s "$T_TMP/att.bin" "$T_TMP/data-$tok.bin"
is "$(addatt "$AC" "Terms $tok" "$T_TMP/pw")" 409 "a taken name is 409"
head -c 10485761 /dev/zero >"$T_TMP/big10-$tok.bin"
is "$(addatt "$AC" "Big $tok" "$T_TMP/big10-$tok.bin")" 413 "over 10 MiB is 413"
act() { curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$1" \
	--data-urlencode "csrf=$(csrf_for "$1" attachment-active)" --data-urlencode "active=$2" "$URL/attachments/$aid/active"; }
is "$(act "$GC" 0)" 403 "agent: switching it off is 403"
is "$(act "$AC" 0)" 303 "admin: switched off"
is "$(sql_admin "SELECT active FROM mailroom.standard_attachments WHERE id = $aid")" f "it is off"
is "$(act "$AC" 1)" 303 "admin: switched on again"
is "$(act "$AC" 2)" 400 "active=2 is 400"
is "$(sql_admin "SELECT string_agg(after->>'active', ',' ORDER BY id) FROM mailroom.audit WHERE action = 'attachment.active' AND object = 'standard_attachment:$aid'")" "false,true" \
	"both switches are audited"

# 6. import
# imp COOKIE KIND FILE - import a file; prints the status, the page in $T_TMP/imp.html
imp() {
	curl -s -o "$T_TMP/imp.html" -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$1" \
		-F "csrf=$(csrf_for "$1" import)" -F "kind=$2" -F "file=@$3" "$URL/import"
}
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$GC" "$URL/import")" 403 "agent: GET /import is 403"
is "$(curl -s -o "$T_TMP/imp.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$AC" "$URL/import")" 200 "admin: the import form"
like "$(cat "$T_TMP/imp.html")" 'enctype="multipart/form-data"' "it uploads multipart"
printf 'organisation,domains,first_name,last_name,emails\r\nImp %s,imp%s.example,Ada,Imp%s,ada@imp%s.example\r\nImp %s,,Bob,Imp%s,not-an-address\r\n' \
	"$tok" "$tok" "$tok" "$tok" "$tok" "$tok" >"$T_TMP/bad-$tok.csv"
is "$(imp "$GC" csv "$T_TMP/bad-$tok.csv")" 403 "agent: POST /import is 403"
is "$(imp "$AC" csv "$T_TMP/bad-$tok.csv")" 422 "a CSV with a problem is 422"
like "$(cat "$T_TMP/imp.html")" "bad-$tok.csv:3: emails: " "the report names the line, column and why"
like "$(cat "$T_TMP/imp.html")" 'class="count">1</span> problems' "and counts the problems"
is "$(sql_admin "SELECT count(*) FROM mailroom.contacts WHERE last_name = 'Imp$tok'")" 0 "nothing was imported"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'contacts.import.refused' AND after->>'filename' = 'bad-$tok.csv' AND (after->>'problems')::int = 1")" 1 \
	"the refusal is audited"
sed -i 's/not-an-address/bob@imp'"$tok"'.example/' "$T_TMP/bad-$tok.csv"
mv "$T_TMP/bad-$tok.csv" "$T_TMP/good-$tok.csv"
is "$(imp "$AC" csv "$T_TMP/good-$tok.csv")" 200 "a good CSV is 200"
like "$(cat "$T_TMP/imp.html")" 'Added: <span class="organisations">1</span> organisations, <span class="contacts">2</span> contacts' \
	"the report: 1 organisation and 2 contacts added"
is "$(sql_admin "SELECT count(*) FROM mailroom.contacts c JOIN mailroom.organisations o ON o.id = c.organisation_id WHERE c.last_name = 'Imp$tok' AND o.name = 'Imp $tok'")" 2 \
	"both contacts are in the database, in their organisation"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'contacts.import' AND after->>'filename' = 'good-$tok.csv' AND (after->>'contacts')::int = 2")" 1 \
	"the import is audited"
printf 'organisation,domains\nImp %s,more%s.example\n' "$tok" "$tok" >"$T_TMP/more-$tok.csv"
is "$(imp "$AC" csv "$T_TMP/more-$tok.csv")" 200 "a CSV naming an existing organisation is 200"
like "$(cat "$T_TMP/imp.html")" 'Updated: <span class="organisations">1</span> existing' "the report: 1 organisation updated"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisation_domains d JOIN mailroom.organisations o ON o.id = d.organisation_id WHERE o.name = 'Imp $tok'")" 2 \
	"it has its new domain"
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Card%s;Cleo;;Dr.;\r\nFN:Cleo Card\r\nORG:Card %s;Sales\r\nEMAIL;TYPE=work:cleo@card%s.exa\r\n mple\r\nTEL:+41 44 123 45 67\r\nEND:VCARD\r\n' \
	"$tok" "$tok" "$tok" >"$T_TMP/cards-$tok.vcf"
is "$(imp "$AC" vcard "$T_TMP/cards-$tok.vcf")" 200 "a vCard is 200"
is "$(sql_admin "SELECT concat_ws('|', c.salutation, c.first_name, o.name, a.address, p.phone) FROM mailroom.contacts c JOIN mailroom.organisations o ON o.id = c.organisation_id JOIN mailroom.contact_addresses a ON a.contact_id = c.id JOIN mailroom.contact_phones p ON p.contact_id = c.id WHERE c.last_name = 'Card$tok'")" \
	"Dr.|Cleo|Card $tok|cleo@card$tok.example|+41 44 123 45 67" "the card's contact, organisation, folded address and phone"
printf 'BEGIN:VCARD\r\nN:x;y\r\n' >"$T_TMP/open-$tok.vcf"
is "$(imp "$AC" vcard "$T_TMP/open-$tok.vcf")" 422 "a card not ended is 422"
like "$(cat "$T_TMP/imp.html")" "is not ended" "and says so"

done_testing
