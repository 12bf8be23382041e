#!/usr/bin/env bash
# 15-class-tag.sh - X-Mailroom-Class from the milter's cached address book:
# a new contact is known to the milter within seconds of being added (no
# restart), its mail is tagged with its organisation's kind, a stranger's is
# not tagged, bulk mail is tagged newsletter, and a forged class never passes.
. "$(dirname "$0")/lib.sh"

org="Tag Test $T_RUN"
dom="tag-$T_RUN.example"
addr="anna@$dom"
cleanup_org() {
	psql -X -q -U postgres -c "DELETE FROM mailroom.organisations WHERE name = '$org'" >/dev/null
}
T_CLEANUPS+=(cleanup_org)
psql -X -q -U postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
WITH o AS (INSERT INTO mailroom.organisations (name, kind) VALUES ('$org', 'supplier') RETURNING id),
     c AS (INSERT INTO mailroom.contacts (organisation_id, first_name) SELECT id, 'Anna' FROM o RETURNING id)
INSERT INTO mailroom.contact_addresses (address, contact_id) SELECT '$addr', id FROM c;
SQL
is "$?" 0 "a supplier organisation with one contact is in the address book"

# The milter's ingest thread looks at the address book version every 2 s.
deadline=$((SECONDS + 30))
tagged=
while ((SECONDS < deadline)) && [[ -z $tagged ]]; do
	tok=$(token "contact$SECONDS")
	make_message "$T_TMP/c.eml" "$tok" 'X-Mailroom-Class: customer'
	sed -i "s/^From: .*/From: Anna <$addr>\r/" "$T_TMP/c.eml"
	send_one "$T_TMP/c.out" "$T_TMP/c.eml" --from "$addr" --server "$MAILROOM_SMTP" >/dev/null
	file=$(maildir_find "$tok" 30 | head -1)
	if grep -q '^X-Mailroom-Class: supplier' "${file:-/dev/null}"; then
		tagged=$file
	else
		sleep 1
	fi
done
ok "mail from the new contact is tagged supplier without a restart" test -n "$tagged"
is "$(grep -ci '^X-Mailroom-Class:' "${tagged:-/dev/null}")" 1 "exactly one class header: the forged one is gone"

tok=$(token stranger)
make_message "$T_TMP/s.eml" "$tok"
send_one "$T_TMP/s.out" "$T_TMP/s.eml" --server "$MAILROOM_SMTP" >/dev/null
file=$(maildir_find "$tok" 30 | head -1)
ok "a stranger's mail is delivered" test -n "$file"
is "$(grep -ci '^X-Mailroom-Class:' "${file:-/dev/null}")" 0 "a stranger's mail carries no class"

tok=$(token bulk)
make_message "$T_TMP/b.eml" "$tok" 'List-Id: <deals.shop.test>' 'List-Unsubscribe: <mailto:u@shop.test>'
send_one "$T_TMP/b.out" "$T_TMP/b.eml" --server "$MAILROOM_SMTP" >/dev/null
file=$(maildir_find "$tok" 30 | head -1)
is "$(sed -n 's/^X-Mailroom-Class: //p' "${file:-/dev/null}" | tr -d '\r')" newsletter "bulk mail is tagged newsletter"

done_testing
