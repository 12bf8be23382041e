#!/usr/bin/env bash
# 85-addressbook.sh - `mailroomctl import contacts` and `export contacts`.
#
# A good CSV (UTF-8 with BOM, CR LF, quoted fields with commas and doubled
# quotes, umlauts) is imported: the counts are printed and every value is
# in the database as written, addresses and domains in lower case. A CSV
# with many bad rows reports every problem with its line and column and
# imports nothing, not even its good rows. Broken quoting, the caps (file
# size, field size, row count), an unknown column and the cap on the
# problems listed are refused the same way. Export into a fresh database
# and import from there round-trips byte for byte.
#
# Only PostgreSQL of the stack is needed. Names, domains and addresses carry
# a token of the run and are deleted at the end; the round trip uses
# databases of its own, dropped at the end.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

MR_CTL=$top_builddir/ctl/mailroomctl
[[ -x $MR_CTL ]] || bail "$MR_CTL not built"
[[ $(sql_admin 'SELECT 1' 2>/dev/null) == 1 ]] || bail "PostgreSQL does not answer as postgres (./dev.sh up)"

# ctl ARGS... - mailroomctl with the stack's configuration
ctl() {
	"$MR_CTL" -c "$MAILROOM_CONF" "$@"
}

# A token for names, domains and addresses: lower case, digits, no dot.
RUN=r$(date +%s)$$
DATA=$top_srcdir/tests/data

# instantiate TEMPLATE - a template of tests/data with this run's token
instantiate() {
	sed "s/@RUN@/$RUN/g" "$DATA/$1"
}

# run_rows - "organisations contacts addresses domains phones" of this run in the shared database
run_rows() {
	sql_admin "SELECT (SELECT count(*) FROM mailroom.organisations WHERE name LIKE '%$RUN%'),
	                  (SELECT count(*) FROM mailroom.contacts c WHERE EXISTS (SELECT 1 FROM mailroom.contact_addresses a
	                     WHERE a.contact_id = c.id AND a.address LIKE '%$RUN%')
	                     OR c.organisation_id IN (SELECT id FROM mailroom.organisations WHERE name LIKE '%$RUN%')),
	                  (SELECT count(*) FROM mailroom.contact_addresses WHERE address LIKE '%$RUN%'),
	                  (SELECT count(*) FROM mailroom.organisation_domains WHERE domain LIKE '%$RUN%'),
	                  (SELECT count(*) FROM mailroom.contact_phones p JOIN mailroom.contact_addresses a
	                     ON a.contact_id = p.contact_id AND a.address LIKE 'anna@%$RUN%')" | tr '|' ' '
}

cleanup_run() {
	sql_admin "DELETE FROM mailroom.contacts WHERE id IN (SELECT contact_id FROM mailroom.contact_addresses
	             WHERE address LIKE '%$RUN%')
	             OR organisation_id IN (SELECT id FROM mailroom.organisations WHERE name LIKE '%$RUN%');
	           DELETE FROM mailroom.organisations WHERE name LIKE '%$RUN%'"
}
at_exit cleanup_run

# --- a good file ----------------------------------------------------------------------------
cd "$T_TMP" || bail "no $T_TMP"
{
	printf '\xef\xbb\xbf'
	instantiate contacts-good.csv | sed 's/$/\r/'
} >good.csv
out=$(ctl import contacts good.csv 2>&1)
is "$?" 0 "good: import exits 0"
is "$out" "imported 3 organisations, 4 contacts, 5 addresses, 3 domains, 2 phone numbers" \
	"good: the counts are printed"
is "$(run_rows)" "3 4 5 3 2" "good: the rows are in the database"
is "$(sql_admin "SELECT name, kind, vip, owner, postal_code, city,
                        (SELECT string_agg(domain, ' ' ORDER BY domain) FROM mailroom.organisation_domains
                          WHERE organisation_id = o.id)
                   FROM mailroom.organisations o WHERE name = 'Kunde $RUN GmbH'")" \
	"Kunde $RUN GmbH|customer|t|Anna Owner|10115|Berlin|kunde-$RUN.example kunde2-$RUN.example" \
	"good: the customer with its columns and both domains"
is "$(sql_admin "SELECT c.salutation, c.first_name, c.last_name, o.name,
                        (SELECT string_agg(phone, ';' ORDER BY phone) FROM mailroom.contact_phones
                          WHERE contact_id = c.id)
                   FROM mailroom.contact_addresses a JOIN mailroom.contacts c ON c.id = a.contact_id
                   JOIN mailroom.organisations o ON o.id = c.organisation_id
                  WHERE a.address = 'anna@kunde-$RUN.example'")" \
	"Frau|Anna|Muster|Kunde $RUN GmbH|+49 170 5555555;+49 30 1234567" \
	"good: the contact belongs to the organisation, with both phone numbers"
is "$(sql_admin "SELECT string_agg(a.address, ' ' ORDER BY a.address) FROM mailroom.contact_addresses a
                   JOIN mailroom.contacts c ON c.id = a.contact_id WHERE c.first_name = 'Bernd'
                    AND c.organisation_id = (SELECT id FROM mailroom.organisations WHERE name = 'Kunde $RUN GmbH')")" \
	"b.zwei@kunde-$RUN.example bernd@kunde-$RUN.example" \
	"good: a second row of the same organisation adds a contact to it; addresses in lower case"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisations WHERE name = 'Kunde $RUN GmbH'")" 1 \
	"good: the organisation named on two rows exists once"
is "$(sql_admin "SELECT kind || '|' || city FROM mailroom.organisations WHERE name = 'Holz \"Eiche\" $RUN AG'")" \
	"supplier|Köln" "good: doubled quotes and UTF-8 arrive as written"
is "$(sql_admin "SELECT kind || '|' || (SELECT count(*) FROM mailroom.contacts WHERE organisation_id = o.id)
                   FROM mailroom.organisations o WHERE name = 'Leer, $RUN e.V.'")" "other|0" \
	"good: an organisation alone (a quoted comma in its name)"
is "$(sql_admin "SELECT coalesce(c.organisation_id::text, 'none') FROM mailroom.contact_addresses a
                   JOIN mailroom.contacts c ON c.id = a.contact_id WHERE a.address = 'carla.$RUN@gmail.com'")" \
	none "good: a contact alone, with a free-mail address"

# --- a file with many bad rows: every problem, nothing imported ----------------------------------
before=$(run_rows)
long=$(printf 'x%.0s' {1..201})
instantiate contacts-bad.csv | sed "s/@LONG@/$long/" | LC_ALL=C sed "s/@BAD@/J$(printf '\377')rg/" >bad.csv
ctl import contacts bad.csv >bad.out 2>bad.err
is "$?" 1 "bad: import exits 1"
is "$(cat bad.out)" "" "bad: nothing on stdout"
kunde_id=$(sql_admin "SELECT id FROM mailroom.organisations WHERE name = 'Kunde $RUN GmbH'")
anna_id=$(sql_admin "SELECT contact_id FROM mailroom.contact_addresses WHERE address = 'anna@kunde-$RUN.example'")
while IFS= read -r want; do
	if grep -qxF -- "$want" bad.err; then
		pass "bad: reports ${want:0:90}"
	else
		fail "bad: reports ${want:0:90}" "want line: $want" "stderr was:" "$(cat bad.err)"
	fi
done <<EOF
bad.csv:2: kind: 'client' is not customer, supplier or other
bad.csv:2: vip: 'maybe' is not yes, no, true, false, 1 or 0
bad.csv:2: emails: 'nina@' is not a mail address
bad.csv:3: domains: 'gmail.com' is a free-mail domain: its addresses belong to unrelated people, so it cannot stand for an organisation
bad.csv:4: domains: 'kunde-$RUN.example' already belongs to organisation $kunde_id 'Kunde $RUN GmbH' in the database
bad.csv:5: emails: 'anna@kunde-$RUN.example' already belongs to contact $anna_id (Anna Muster) in the database
bad.csv:7: domains: 'zwei-$RUN.example' is already given for organisation 'Zwei $RUN AG' on line 6
bad.csv:8: the row names no organisation, no contact name and no mail address
bad.csv:9: city: '${long:0:60}...' is 201 characters long, at most 200 are allowed
bad.csv:10: first_name: is not valid UTF-8 (save the file as UTF-8)
bad.csv:11: kind: 'supplier' differs from the database, where organisation $kunde_id 'Kunde $RUN GmbH' has 'customer'; import does not change existing organisations
bad.csv:12: emails: 'x@@y.example' is not a mail address
bad.csv:14: emails: 'dora@zwei-$RUN.example' is already given for the contact on line 13
mailroomctl: import: bad.csv: 13 problems, nothing imported
EOF
is "$(wc -l <bad.err)" 14 "bad: 13 problems and the summary, nothing else"
is "$(run_rows)" "$before" "bad: nothing of the file is in the database, not even its good rows"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisations WHERE name IN ('Zwei $RUN AG', 'Neu $RUN AG')")" 0 \
	"bad: its good organisation was not created either"

# --- the file as a whole --------------------------------------------------------------------------
printf 'organisation,emails\nQuote %s AG,\nBroken "%s" AG,\n' "$RUN" "$RUN" >quote.csv
out=$(ctl import contacts quote.csv 2>&1)
is "$?" 1 "broken quoting: exit 1"
like "$out" "quote.csv:3: quote inside an unquoted field \(quote the whole field and double the quote\); the rest of the file is not read" \
	"broken quoting: the line and what is wrong"
is "$(sql_admin "SELECT count(*) FROM mailroom.organisations WHERE name = 'Quote $RUN AG'")" 0 \
	"broken quoting: the good row before it is not imported"

printf 'organisation,emails\n"Open %s AG,x@open-%s.example\nNext %s AG,\n' "$RUN" "$RUN" "$RUN" >open.csv
like "$(ctl import contacts open.csv 2>&1)" "open.csv:2: the quoted field opened on this line never closes" \
	"a quoted field that never closes is reported at its line"

printf 'organisation,telefax\nFax %s AG,1\n' "$RUN" >unknown.csv
like "$(ctl import contacts unknown.csv 2>&1)" "unknown.csv:1: unknown column 'telefax' \(the columns are organisation, kind, domains" \
	"an unknown column is refused"

{
	printf 'organisation,city\nWide %s AG,' "$RUN"
	printf 'y%.0s' {1..4097}
	printf '\n'
} >wide.csv
like "$(ctl import contacts wide.csv 2>&1)" "wide.csv:2: a field is over 4096 bytes" "a field over 4 KiB is refused"

truncate -s $((50 * 1024 * 1024 + 1)) huge.csv
like "$(ctl import contacts huge.csv 2>&1)" "huge.csv: 52428801 bytes, more than the limit of 52428800" \
	"a file over 50 MiB is refused before it is read"

python3 - "$RUN" >rows.csv <<'EOF'
import sys
print("organisation,kind")
for i in range(100001):
    print(f"Rows {sys.argv[1]} {i},customer")
EOF
like "$(ctl import contacts rows.csv 2>&1)" "rows.csv:100002: more than 100000 rows: split the file" \
	"more than 100,000 rows are refused"

python3 - "$RUN" >many.csv <<'EOF'
import sys
print("organisation,kind")
for i in range(150):
    print(f"Many {sys.argv[1]} {i},wrong")
EOF
ctl import contacts many.csv >/dev/null 2>many.err
is "$(grep -c "^many.csv:[0-9]*: kind: 'wrong' is not customer, supplier or other$" many.err)" 100 \
	"150 problems: the first 100 are listed"
is "$(tail -n 2 many.err | paste -sd '|')" \
	"many.csv: ... and 50 more problems|mailroomctl: import: many.csv: 150 problems, nothing imported" \
	"... and the rest are counted"
is "$(run_rows)" "$before" "none of the refused files changed the database"

# --- export, import into an empty database, export again ----------------------------------------------
db_a=mailroom_rt_$$_a
db_b=mailroom_rt_$$_b
at_exit "dropdb -U postgres --if-exists $db_a; dropdb -U postgres --if-exists $db_b"
conn_a="host=$PGHOST port=$PGPORT dbname=$db_a user=postgres"
conn_b="host=$PGHOST port=$PGPORT dbname=$db_b user=postgres"
ok "round trip: create two empty databases" createdb -U postgres "$db_a"
createdb -U postgres "$db_b"
like "$(ctl -d "$conn_a" migrate 2>&1 && ctl -d "$conn_b" migrate 2>&1)" "applied 002_worker.sql" \
	"round trip: both migrated"
is "$(ctl -d "$conn_a" import contacts good.csv 2>&1)" \
	"imported 3 organisations, 4 contacts, 5 addresses, 3 domains, 2 phone numbers" "round trip: import into the first"
ok "round trip: export into a file" ctl -d "$conn_a" export contacts first.csv
is "$(head -n 1 first.csv)" $'organisation,kind,domains,vip,owner,postal_code,city,salutation,first_name,last_name,emails,phones\r' \
	"round trip: the export starts with the header, lines end in CR LF"
ok "round trip: the quoted name is written quoted" grep -qF "\"Holz \"\"Eiche\"\" $RUN AG\",supplier,holz-$RUN.example,no,,50667,Köln,,Jörg,Müller,joerg@holz-$RUN.example," first.csv
ok "round trip: each contact row carries its organisation" grep -qF "Kunde $RUN GmbH,customer,kunde-$RUN.example kunde2-$RUN.example,yes,Anna Owner,10115,Berlin,Herr,Bernd,Beispiel,b.zwei@kunde-$RUN.example bernd@kunde-$RUN.example," first.csv
is "$(ctl -d "$conn_b" import contacts first.csv 2>&1)" \
	"imported 3 organisations, 4 contacts, 5 addresses, 3 domains, 2 phone numbers" \
	"round trip: the export imports into the empty second database"
ctl -d "$conn_b" export contacts >second.csv
ok "round trip: the second database exports the same bytes" cmp first.csv second.csv
is "$(ctl -d "$conn_b" export contacts --bom | head -c 3 | od -An -tx1 | tr -d ' ')" efbbbf \
	"export --bom starts with the byte order mark"
is "$(ctl -d "$conn_b" import contacts first.csv 2>&1 | tail -n 1)" \
	"mailroomctl: import: first.csv: 5 problems, nothing imported" \
	"importing the same file again is refused: its addresses exist"

done_testing
