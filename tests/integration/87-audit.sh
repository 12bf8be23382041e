#!/usr/bin/env bash
# 87-audit.sh - the audit trail is append-only and `mailroomctl audit verify`
# finds a row changed, removed or cut off behind its back.
#
# Rows are written the only allowed way (mailroom.audit_append, as the
# worker's role); updating or deleting them is refused to the component
# roles and, by a trigger, to the owner. Then, as the superuser with the
# trigger switched off (what an intruder with full rights could do), one
# row's value is edited, one row is deleted, the newest row is cut off: each
# time verify exits 1 and names the row (the cut-off head only when given
# --head). Every tampered row is put back afterwards and the chain verifies
# again, so later tests find it intact.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

MR_CTL=$top_builddir/ctl/mailroomctl
[[ -x $MR_CTL ]] || bail "$MR_CTL not built"
[[ $(sql_admin 'SELECT 1' 2>/dev/null) == 1 ]] || bail "PostgreSQL does not answer as postgres (./dev.sh up)"

verify() {
	"$MR_CTL" -c "$MAILROOM_CONF" audit verify "$@" >"$T_TMP/verify.out" 2>&1
}

# as_role ROLE QUERY - run QUERY as one of mailroom's component roles
as_role() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -c "SET ROLE $1; $2" 2>&1
}

# The worker may append at any moment, and the checks below need the head
# of the chain to stay this test's: one session holds the chain's lock
# (audit_append waits for it) for the whole test and appends this test's
# rows itself, as the worker's role.
coproc LOCKER { psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres 2>&1; }
at_exit "kill $LOCKER_PID 2>/dev/null"
# locked SQL N - run SQL in the locking session; print its N lines of output
locked() {
	printf '%s;\n' "$1" >&"${LOCKER[1]}"
	local i line
	for ((i = 0; i < $2; i++)); do
		read -r -t 60 line <&"${LOCKER[0]}" || return 1
		printf '%s\n' "$line"
	done
}
is "$(locked "SELECT 'held' FROM pg_advisory_lock(hashtext('mailroom.audit'))" 1)" held "the chain's lock held"

RUN=r$(date +%s)$$
locked "SET ROLE mailroom_worker" 0
for i in 1 2 3 4 5; do
	locked "SELECT mailroom.audit_append('test-$RUN', 'test.step', 'conversation:$i',
	  '{\"status\": \"open\"}', '{\"status\": \"closed\", \"n\": $i, \"text\": \"Grüße \\\" ;:\"}')" 1 >/dev/null
done
locked "RESET ROLE" 0
ids=($(sql_admin "SELECT id FROM mailroom.audit WHERE actor = 'test-$RUN' ORDER BY id"))
is "${#ids[@]}" 5 "five rows appended through mailroom.audit_append"

verify
is $? 0 "verify: the chain is intact"
like "$(cat "$T_TMP/verify.out")" "audit trail intact: [0-9]+ rows, head ${ids[4]} [0-9a-f]{64}" \
	"verify prints the row count and the head"
head_hash=$(sed -n 's/.* head [0-9]* \([0-9a-f]\{64\}\)$/\1/p' "$T_TMP/verify.out")

# The auditor reads the trail through its view.
is "$(sql "SELECT count(*) FROM auditor.audit WHERE actor = 'test-$RUN'")" 5 "the auditor sees the rows"
like "$(as_role mailroom_auditor "SELECT count(*) FROM mailroom.audit")" "permission denied" \
	"the auditor cannot read the table itself"

for role in mailroom_worker mailroom_web mailroom_milter; do
	like "$(as_role $role "UPDATE mailroom.audit SET actor = 'x' WHERE id = ${ids[0]}")" "permission denied" \
		"$role cannot update a row"
	like "$(as_role $role "DELETE FROM mailroom.audit WHERE id = ${ids[0]}")" "permission denied" \
		"$role cannot delete a row"
done
like "$(as_role mailroom_milter "SELECT mailroom.audit_append('x', 'y', 'z', NULL, NULL)")" "permission denied" \
	"the milter may not write the trail"
like "$(as_role mailroom_owner "UPDATE mailroom.audit SET actor = 'x' WHERE id = ${ids[0]}")" "append-only" \
	"the owner's update is refused by the trigger"
like "$(as_role mailroom_owner "DELETE FROM mailroom.audit WHERE id = ${ids[0]}")" "append-only" \
	"the owner's delete is refused by the trigger"
like "$(as_role mailroom_owner "TRUNCATE mailroom.audit")" "append-only" "TRUNCATE is refused"

# Appending reads the chain's head after taking its lock; a snapshot older
# than the lock (REPEATABLE READ, SERIALIZABLE) cannot see a row another
# transaction appended meanwhile, so such a transaction is refused, every
# time, not only when another append happens to fall in between.
for iso in "REPEATABLE READ" SERIALIZABLE; do
	out=$(psql -X -q -A -t -U postgres -c "BEGIN ISOLATION LEVEL $iso" -c "SET LOCAL ROLE mailroom_web" \
		-c "SELECT count(*) >= 0 FROM mailroom.users" \
		-c "SELECT mailroom.audit_append('test-$RUN', 'test.snapshot', 'x', NULL, NULL)" -c COMMIT 2>&1)
	like "$out" "needs a READ COMMITTED transaction, not $iso" "audit_append in $iso is refused"
done
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'test.snapshot'")" 0 "  and wrote nothing"
locked "BEGIN ISOLATION LEVEL READ COMMITTED" 0
locked "SET LOCAL ROLE mailroom_web" 0
is "$(locked "SELECT mailroom.audit_append('test-$RUN', 'test.snapshot', 'x', NULL, NULL) > 0" 1)" t \
	"in READ COMMITTED it appends"
locked "ROLLBACK" 0

# --- tampering, as a superuser who switches the trigger off ---------------------------

sql_admin "CREATE TABLE public.audit_saved_$RUN AS SELECT * FROM mailroom.audit WHERE actor = 'test-$RUN'"
at_exit "sql_admin 'DROP TABLE IF EXISTS public.audit_saved_$RUN' >/dev/null 2>&1"
tamper() {
	sql_admin "ALTER TABLE mailroom.audit DISABLE TRIGGER audit_no_update; $1;
	           ALTER TABLE mailroom.audit ENABLE TRIGGER audit_no_update"
}
restore() {
	tamper "DELETE FROM mailroom.audit WHERE actor = 'test-$RUN';
	        INSERT INTO mailroom.audit SELECT * FROM public.audit_saved_$RUN"
}

tamper "UPDATE mailroom.audit SET after = jsonb_set(after, '{status}', '\"open\"') WHERE id = ${ids[1]}"
verify
is $? 1 "an edited value: verify exits 1"
like "$(cat "$T_TMP/verify.out")" "audit row ${ids[1]} \(test.step, conversation:2\): its fields do not match" \
	"... and names the edited row"
unlike "$(cat "$T_TMP/verify.out")" "audit row ${ids[2]} " "... and only that row"
restore

tamper "UPDATE mailroom.audit SET at = at - interval '1 microsecond' WHERE id = ${ids[3]}"
verify
is $? 1 "a changed time: verify exits 1"
like "$(cat "$T_TMP/verify.out")" "audit row ${ids[3]} " "... and names the row"
restore

tamper "DELETE FROM mailroom.audit WHERE id = ${ids[2]}"
verify
is $? 1 "a deleted row: verify exits 1"
like "$(cat "$T_TMP/verify.out")" "audit row ${ids[3]} .*does not follow the row before" \
	"... and names the row after the gap"
restore

verify
is $? 0 "put back: intact again"

# Cutting off the newest row leaves a shorter intact chain; the head an
# earlier run printed finds it.
tamper "DELETE FROM mailroom.audit WHERE id = ${ids[4]}"
verify
is $? 0 "the newest row cut off: the rest of the chain is intact"
verify --head "$head_hash"
is $? 1 "... but with the earlier head given, verify exits 1"
like "$(cat "$T_TMP/verify.out")" "head given .* is not in the chain" "... and says rows were removed"
restore
verify --head "$head_hash"
is $? 0 "put back: the earlier head is in the chain"

verify --head nothex
is $? 1 "a malformed --head is refused"
like "$(cat "$T_TMP/verify.out")" "64 hex digits" "... with a clear message"

is "$(locked "SELECT pg_advisory_unlock(hashtext('mailroom.audit'))" 1)" t "the chain's lock given back"

done_testing
