#!/usr/bin/env bash
# 86-classify.sh - `mailroomctl classify` and `mailroomctl rules`.
#
# With a customer organisation and its contact imported: a message from the
# contact is customer, with the organisation's and the contact's ids and
# names and the thread keys; a colleague at the same domain is customer by
# domain; a stranger's mail with List-Id is a newsletter; --direction and
# --to simulate an outbound envelope. --json prints one object per file
# that python's json.tool accepts, with the same facts. A rule added with
# `rules add` (subject "Rechnung", only from this run's customer domain, so
# that nobody else's mail is touched) makes such a message supplier, and
# classify and `rules test` name the rule; `rules list` shows it; a rule
# that does not compile is refused with the compiler's message and not
# stored; after `rules disable` the message is customer again; the add and
# the disable are in the audit trail. A missing,
# oversized or unparseable file is reported, the other files are still
# sorted, and the exit status is 1.
#
# When the whole stack runs (milter, Postfix, worker), the same message is
# also sent through the gateway and the worker's decision must be the one
# classify printed: both go through lib/sorting.c.
#
# Names, domains and addresses carry a token of the run; the rules, the
# organisation and the contacts are deleted at the end.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

MR_CTL=$top_builddir/ctl/mailroomctl
[[ -x $MR_CTL ]] || bail "$MR_CTL not built"
[[ $(sql_admin 'SELECT 1' 2>/dev/null) == 1 ]] || bail "PostgreSQL does not answer as postgres (./dev.sh up)"

ctl() {
	"$MR_CTL" -c "$MAILROOM_CONF" "$@"
}

RUN=r$(date +%s)$$
DATA=$top_srcdir/tests/data
DOMAIN=kunde-$RUN.example
ANNA=anna@$DOMAIN

cleanup_run() {
	sql_admin "DELETE FROM mailroom.rules WHERE name LIKE '%$RUN%';
	           DELETE FROM mailroom.contacts WHERE id IN (SELECT contact_id FROM mailroom.contact_addresses
	             WHERE address LIKE '%$RUN%')
	             OR organisation_id IN (SELECT id FROM mailroom.organisations WHERE name LIKE '%$RUN%');
	           DELETE FROM mailroom.organisations WHERE name LIKE '%$RUN%'"
}
at_exit cleanup_run

# jget FILE EXPR - a value of the JSON object in FILE, by a Python expression over j
jget() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# message FILE FROM SUBJECT MESSAGE-ID [HEADER-LINE...] - a small message to info@example.com
message() {
	local file=$1 from=$2 subject=$3 msgid=$4 h addr
	shift 4
	addr=${from##*<}
	addr=${addr%>}
	{
		printf 'Return-Path: <%s>\r\nFrom: %s\r\nTo: Info <info@example.com>\r\n' "$addr" "$from"
		printf 'Subject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n' "$subject" "$msgid" "$(date -R)"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo.\r\n'
	} >"$file"
}

cd "$T_TMP" || bail "no $T_TMP"
sed "s/@RUN@/$RUN/g" "$DATA/contacts-good.csv" >contacts.csv
like "$(ctl import contacts contacts.csv 2>&1)" "^imported 3 organisations" "the address book of the run is imported"
org_id=$(sql_admin "SELECT id FROM mailroom.organisations WHERE name = 'Kunde $RUN GmbH'")
anna_id=$(sql_admin "SELECT contact_id FROM mailroom.contact_addresses WHERE address = '$ANNA'")

# --- a known customer contact ------------------------------------------------------------------------
message customer.eml "Anna Muster <$ANNA>" "AW: Frage $RUN" "c-$RUN@$DOMAIN" \
	"In-Reply-To: <q-$RUN@example.com>" "References: <root-$RUN@example.com> <q-$RUN@example.com>"
ctl classify customer.eml >customer.out 2>customer.err
is "$?" 0 "customer: classify exits 0"
out=$(cat customer.out)
like "$out" "class +customer \(decided by contact\)" "customer: class customer, decided by the contact"
like "$out" "organisation +$org_id \"Kunde $RUN GmbH\" \(customer\)" "customer: the organisation's id and name"
like "$out" "contact +$anna_id \"Frau Anna Muster\"" "customer: the contact's id and name"
like "$out" "reason +From $ANNA is a contact of organisation $org_id \(customer\)" "customer: the reason"
like "$out" "message-id +c-$RUN@$DOMAIN" "customer: its Message-ID"
like "$out" "in-reply-to +q-$RUN@example.com" "customer: its In-Reply-To"
like "$out" "references +root-$RUN@example.com q-$RUN@example.com" "customer: its References, in order"
like "$out" "subject key +\"frage $RUN\"" "customer: the subject key without the AW: prefix"
like "$out" "rule +none" "customer: no rule"

ctl classify --json customer.eml >customer.json
ok "customer: --json output parses with python3 -m json.tool" eval 'python3 -m json.tool customer.json >/dev/null'
is "$(jget customer.json '[j["class"], j["decided_by"], j["organisation"]["id"], j["organisation"]["name"], j["contact"]["id"], j["contact"]["name"], j["rule"]]')" \
	"['customer', 'contact', $org_id, 'Kunde $RUN GmbH', $anna_id, 'Frau Anna Muster', None]" \
	"customer: JSON has class, organisation and contact with ids and names"
is "$(jget customer.json '[j["thread"]["message_id"], j["thread"]["in_reply_to"], j["thread"]["references"], j["thread"]["subject_key"]]')" \
	"['c-$RUN@$DOMAIN', 'q-$RUN@example.com', ['root-$RUN@example.com', 'q-$RUN@example.com'], 'frage $RUN']" \
	"customer: JSON has the thread keys"
is "$(jget customer.json '[j["envelope"]["from"], j["envelope"]["to"], j["envelope"]["direction"]]')" \
	"['<$ANNA>', ['info@example.com'], 'inbound']" "customer: the envelope defaults to Return-Path, To and inbound"

message colleague.eml "Zoe <zoe@$DOMAIN>" "Frage" "z-$RUN@$DOMAIN"
like "$(ctl classify colleague.eml)" "class +customer \(decided by domain\)" \
	"an unknown address at the organisation's domain: customer by domain"

# --- a stranger's bulk mail ----------------------------------------------------------------------------
message news.eml "Shop <news@shop-$RUN.example>" "Angebote $RUN" "n-$RUN@shop-$RUN.example" \
	"List-Id: <angebote.shop-$RUN.example>" "List-Unsubscribe: <mailto:off@shop-$RUN.example>"
out=$(ctl classify news.eml)
like "$out" "class +newsletter \(decided by bulk\)" "List-Id from an unknown sender: newsletter"
like "$out" "flags +list \(list: List-Id" "... flagged as list mail, saying why"
ctl classify --json news.eml >news.json
is "$(jget news.json '[j["class"], j["flags"], j["organisation"], j["contact"]]')" "['newsletter', ['list'], None, None]" \
	"newsletter: the same in JSON"

# --- a simulated envelope -----------------------------------------------------------------------------
message sent.eml "Info <info@example.com>" "Ihre Anfrage" "s-$RUN@example.com"
out=$(ctl classify --direction outbound --to "$ANNA" --from info@example.com sent.eml)
like "$out" "class +customer \(decided by contact\)" "--direction outbound --to the contact: customer"
like "$out" "counterpart +$ANNA" "... the recipient is the counterpart"
like "$out" "envelope +outbound from info@example.com to $ANNA" "... the envelope as given"
ctl classify --direction sideways sent.eml >/dev/null 2>&1
is "$?" 2 "an unknown --direction is a usage error (2)"

# --- rules -------------------------------------------------------------------------------------------------
sed "s/@RUN@/$RUN/g" "$DATA/rule-rechnung.json" >rule.json
added=$(ctl rules add --name "Rechnung $RUN" --position 10 --file rule.json 2>&1)
like "$added" "^added rule [0-9]+ \"Rechnung $RUN\" at position 10$" "rules add stores a rule that compiles"
rule_id=$(sed -E 's/^added rule ([0-9]+) .*/\1/' <<<"$added")
is "$(sql_admin "SELECT name || '|' || position || '|' || enabled FROM mailroom.rules WHERE id = '${rule_id:-0}'")" \
	"Rechnung $RUN|10|true" "... in mailroom.rules, enabled"
like "$(ctl rules list)" "$rule_id +10 +enabled +Rechnung $RUN" "rules list shows it"

message invoice.eml "Anna Muster <$ANNA>" "Rechnung 4711 $RUN" "i-$RUN@$DOMAIN"
out=$(ctl classify invoice.eml)
like "$out" "class +supplier \(decided by rule\)" "invoice: the rule makes it supplier"
like "$out" "rule +$rule_id \"Rechnung $RUN\"" "invoice: classify names the rule, id and name"
like "$out" "reason +Rule $rule_id \"Rechnung $RUN\" sets the class supplier" "invoice: the reason names it"
like "$out" "organisation +$org_id \"Kunde $RUN GmbH\"" "invoice: the organisation is still known"
ctl classify --json invoice.eml >invoice.json
is "$(jget invoice.json '[j["class"], j["rule"], j["labels"]]')" \
	"['supplier', {'id': $rule_id, 'name': 'Rechnung $RUN'}, ['invoice']]" "invoice: JSON names the rule"
like "$(ctl classify customer.eml)" "class +customer \(decided by contact\)" "a message without Rechnung stays customer"

# A definition written by SQL that names another id and name must not pass
# for another rule: the row's own columns win.
sql_admin "UPDATE mailroom.rules SET definition = definition || '{\"id\": 999999999, \"name\": \"impostor\"}'
	WHERE id = '${rule_id:-0}'" >/dev/null
is "$(jget <(ctl classify --json invoice.eml) 'j["rule"]')" "{'id': $rule_id, 'name': 'Rechnung $RUN'}" \
	"a definition cannot override the rule's own id and name"

out=$(ctl rules test invoice.eml customer.eml)
like "$out" "rule $rule_id \"Rechnung $RUN\" \(position 10\): fired" "rules test: the rule fired on the invoice"
like "$out" "class +supplier, set by rule $rule_id \"Rechnung $RUN\"" "rules test: which rule set the class"
like "$out" "label +invoice, set by rule $rule_id" "rules test: which rule set the label"
like "$out" "customer.eml"$'\n'"(  no rule matches|(.|"$'\n'")*class +customer, no rule sets it \(decided by contact\))" \
	"rules test: on the other message the class comes from the address book"
ctl rules test --json invoice.eml >rtest.json
is "$(jget rtest.json '[(r["id"], r["fired"], r["not_evaluated"]) for r in j["rules"]["matched"] if r["id"] == '"${rule_id:-0}"'] + [j["rules"]["set_by"]["class"]["id"]]')" \
	"[($rule_id, True, False), $rule_id]" "rules test --json: the same facts"

# The worker, through the gateway, decides the same as classify.
if milter_pid >/dev/null && postfix_up && [[ -n $(stack_workers) ]]; then
	qid=$(send_one worker.out invoice.eml --server "$MAILROOM_SMTP" --from "$ANNA" --to info@example.com)
	mine="id IN (SELECT id FROM auditor.messages WHERE queue_id = '$qid' AND $MINE)"
	wait_rows "SELECT count(*) FROM auditor.classifications WHERE $mine" 1 30
	is "$ROWS" 1 "worker: the invoice sent through the gateway is sorted (queue id $qid)"
	ctl classify --json --from "$ANNA" --to info@example.com invoice.eml >same.json
	is "$(sql "SELECT c.class || '|' || c.decided_by || '|' || coalesce(c.rule_id::text, '') || '|'
	                  || coalesce(c.organisation_id::text, '') || '|' || coalesce(c.contact_id::text, '') || '|' || c.reason
	             FROM auditor.classifications c WHERE $mine")" \
		"$(jget same.json '"|".join(str(x) for x in [j["class"], j["decided_by"], j["rule"]["id"] if j["rule"] else "", j["organisation"]["id"] if j["organisation"] else "", j["contact"]["id"] if j["contact"] else "", j["reason"]])')" \
		"worker: its class, decider, rule, organisation, contact and reason are classify's"
else
	skip "the milter, Postfix or the worker is not running" 2
fi

sed "s/@RUN@/$RUN/g" "$DATA/rule-broken.json" >broken.json
out=$(ctl rules add --name "Broken $RUN" --position 5 --file broken.json 2>&1)
is "$?" 1 "a rule that does not compile: exit 1"
like "$out" "^mailroomctl: rules add: broken.json: condition 1: .*missing closing parenthesis" \
	"... with the compiler's message"
is "$(sql_admin "SELECT count(*) FROM mailroom.rules WHERE name = 'Broken $RUN'")" 0 "... and nothing stored"
printf '{"conditions": [' >syntax.json
like "$(ctl rules add --name "Syntax $RUN" --position 5 --file syntax.json 2>&1)" \
	"^mailroomctl: rules add: syntax.json: JSON at line 1 column [0-9]+: " "JSON that does not parse: refused with its position"

is "$(ctl rules disable "$rule_id")" "rule $rule_id \"Rechnung $RUN\" disabled" "rules disable"
is "$(sql_admin "SELECT enabled FROM mailroom.rules WHERE id = '${rule_id:-0}'")" f "... switches it off in the database"
like "$(ctl classify invoice.eml)" "class +customer \(decided by contact\)" "after disable the invoice is customer again"
is "$(ctl rules disable "$rule_id")" "rule $rule_id \"Rechnung $RUN\" is already disabled" "disabling twice says so"
is "$(sql_admin "SELECT string_agg(action || ' ' || COALESCE(after->>'enabled', after->>'name'), ',' ORDER BY id)
                 FROM mailroom.audit WHERE object = 'rule:${rule_id:-0}'")" \
	"rule.add Rechnung $RUN,rule.disable false" "the audit trail has the add and the one real disable"
ctl rules disable 999999999999 >/dev/null 2>&1
is "$?" 1 "disabling a rule that does not exist: exit 1"

# --- files that cannot be sorted ----------------------------------------------------------------------------
python3 -c 'import sys; sys.stdout.write("From: a@b.example\r\nX-Big: " + "y" * 300000 + "\r\n\r\nbody\r\n")' >bighead.eml
truncate -s $((64 * 1024 * 1024 + 1)) huge.eml
ctl classify missing.eml bighead.eml huge.eml news.eml >bad.out 2>bad.err
is "$?" 1 "unsortable files: exit 1"
like "$(cat bad.err)" "classify: missing.eml: No such file or directory" "a missing file is reported"
like "$(cat bad.err)" "classify: bighead.eml: not a message the worker can parse: header section over" \
	"an unparseable message is reported with the parser's reason"
like "$(cat bad.err)" "classify: huge.eml: 67108865 bytes, more than the limit of 67108864" \
	"a file over 64 MiB is refused"
like "$(cat bad.out)" "^news.eml"$'\n'"  class +newsletter" "the good file after them is still sorted"
ctl classify --json missing.eml news.eml >mixed.json 2>/dev/null
is "$(python3 -c 'import json, sys; print([sorted(json.loads(l)) == sorted(["file", "error"]) for l in open(sys.argv[1])])' mixed.json)" \
	"[True, False]" "--json: one line per file, an error object for the missing one"

done_testing
