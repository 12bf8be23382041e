#!/usr/bin/env bash
# 94-reminders.sh - reminders, notifications, notification mail, note
# outcomes and the calendar feed, through the running stack.
#
# 1. Twenty reminders fall due while no worker runs; two workers start
#    together: every reminder fires exactly once (one notification, one
#    audit row each), and the phone and call notes written meanwhile get
#    their outcome from the phrase rules.
# 1b. 200 due reminders and six sessions firing them at the same time:
#    still one notification and one audit row each.
# 2. The one reminder with --mail: its mail goes through Postfix's
#    originating service and is recorded by the milter (outbound, with
#    Auto-Submitted and flagged as an auto-reply, so it never counts as an
#    answer).
# 3. Snooze and done are kept in the reminder's history and audited.
# 4. The calendar feed over HTTP (lighttpd, mailroom.cgi): a valid token
#    gives the user's pending reminder with escaped text; a revoked, replaced
#    or malformed token gives 404.
#
# The dev stack's worker is stopped for the test and started again at the
# end. The test's conversation (and with it its reminders and notes) and
# users' tokens are removed at the end; audit rows stay, as they must.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
[[ -x $WORKER_BIN ]] || bail "mailroom-worker not built"

# wait_admin QUERY EXPECTED [TIMEOUT] - poll as the superuser until QUERY prints EXPECTED; ROWS the last answer
wait_admin() {
	wait_query sql_admin "$@"
}

tok=$(date +%s)$$
login=agent$tok
lead=lead$tok
email="agent$tok@customer.example"

at_exit devsh start worker
at_exit stop_test_workers
devsh stop worker
[[ -n $(stack_workers) ]] && bail "another mailroom-worker of this stack runs"

conv=$(sql_admin "INSERT INTO mailroom.conversations (title, subject_key, first_message_at, last_activity_at)
                  VALUES ('Angebot $tok; Rückfrage', 'angebot $tok', now(), now()) RETURNING id")
[[ $conv =~ ^[0-9]+$ ]] || bail "cannot create a conversation: $conv"
at_exit "sql_admin \"DELETE FROM mailroom.conversations WHERE id = $conv\""

like "$(ctl user add "$login" --name "Agent Ä $tok" --email "$email" --role agent)" '^[0-9]+$' "user add prints an id"
ctl user add "$lead" --name "Lead $tok" --role lead >/dev/null
at_exit "sql_admin \"UPDATE mailroom.users SET active = false, calendar_token_hash = NULL WHERE login IN ('$login', '$lead')\""
ctl user add "bad login" --name x >/dev/null 2>&1
isnt "$?" 0 "user add refuses a login with a blank"
ctl reminder add --conversation "$conv" --due "+1 hour" --message x --assignee "$lead" --mail >/dev/null 2>&1
isnt "$?" 0 "reminder add --mail refuses an assignee without a mail address"
ctl reminder add --conversation "$conv" --organisation 1 --due "+1 hour" --message x >/dev/null 2>&1
isnt "$?" 0 "reminder add refuses a conversation and an organisation together"

# --- 1. exactly once with two workers -------------------------------------------------------
ids=()
for i in $(seq 1 20); do
	ids+=("$(ctl reminder add --conversation "$conv" --due "-1 second" --message "due $i $tok" --by "$lead")")
done
mail_id=$(ctl reminder add --conversation "$conv" --due "+0 seconds" --message "Rückruf Müller, Angebot; bitte $tok" \
	--by "$lead" --assignee "$login" --mail)
ids+=("$mail_id")
list="$(IFS=,; echo "${ids[*]}")"
is "$(sql_admin "SELECT count(*) FROM mailroom.reminders WHERE id IN ($list) AND state = 'pending'")" 21 \
	"21 reminders pending while no worker runs"
is "$(ctl reminder list --due | grep -c "$tok")" 21 "reminder list --due shows them"

declare -A want_outcome=(
	["Kunde hat zugesagt, bestellt $tok"]=positive
	["Kein Interesse $tok"]=negative
	["Will call back next week $tok"]=partial
	["Nicht erreicht $tok"]=unclassified
)
for body in "${!want_outcome[@]}"; do
	sql_admin "INSERT INTO mailroom.notes (conversation_id, kind, body) VALUES ($conv, 'phone', '$body')" >/dev/null
done
sql_admin "INSERT INTO mailroom.notes (conversation_id, kind, body) VALUES ($conv, 'note', 'bestellt $tok')" >/dev/null

start_worker a
start_worker b
wait_admin "SELECT count(*) FROM mailroom.reminders WHERE id IN ($list) AND state = 'fired'" 21 30
is "$ROWS" 21 "every reminder fired"
sleep 2 # both workers get another turn: nothing may fire twice
is "$(sql_admin "SELECT count(*) FROM unnest('{$list}'::bigint[]) r
                  WHERE (SELECT count(*) FROM mailroom.notifications n WHERE n.reminder_id = r) <> 1")" 0 \
	"exactly one notification per reminder"
is "$(sql_admin "SELECT count(*) FROM unnest('{$list}'::bigint[]) r
                  WHERE (SELECT count(*) FROM mailroom.audit a WHERE a.object = 'reminder:' || r
                           AND a.action = 'reminder.fire') <> 1")" 0 "exactly one audit row per firing"
like "$(sql_admin "SELECT text FROM mailroom.notifications WHERE reminder_id = $mail_id")" \
	"Rückruf Müller.*conversation $conv" "the notification names the message and links its conversation"
is "$(sql_admin "SELECT count(*) FROM mailroom.notifications WHERE reminder_id = $mail_id
                   AND conversation_id = $conv AND for_user IS NULL")" 1 "visible to the whole team"
diag "fired by: $(grep -h 'reminders: ' "$T_TMP"/worker-*.log | tr '\n' ';')"

for body in "${!want_outcome[@]}"; do
	wait_admin "SELECT outcome || '|' || outcome_by FROM mailroom.notes WHERE body = '$body'" \
		"${want_outcome[$body]}|rule" 40
	is "$ROWS" "${want_outcome[$body]}|rule" "note \"${body% *}\" is ${want_outcome[$body]}"
done
is "$(sql_admin "SELECT count(*) FROM mailroom.notes WHERE body = 'bestellt $tok' AND outcome IS NULL")" 1 \
	"a plain note is not classified"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit a JOIN mailroom.notes n ON a.object = 'note:' || n.id
                  WHERE n.conversation_id = $conv AND a.action = 'note.outcome'")" 4 "each outcome audited"

# --- 1b. many firing transactions at once -----------------------------------------------------
# 200 due reminders; six sessions of the worker's role call the firing
# function in small batches at the same time until nothing is left.
stop_test_workers
W_PIDS=()
sql_admin "INSERT INTO mailroom.reminders (conversation_id, due_at, message)
           SELECT $conv, now() - interval '1 minute', 'race ' || g || ' $tok' FROM generate_series(1, 200) g" >/dev/null
race() {
	local n
	while :; do
		n=$(psql -X -q -A -t -U mailroom_worker -c "SELECT mailroom.reminders_fire(7)") || return 1
		[[ $n == 0 ]] && return 0
	done
}
pids=()
for i in 1 2 3 4 5 6; do
	race &
	pids+=($!)
done
wait "${pids[@]}"
is "$(sql_admin "SELECT count(*) FILTER (WHERE state = 'fired'), count(*) FROM mailroom.reminders
                  WHERE message LIKE 'race % $tok'")" "200|200" "race: all 200 fired"
is "$(sql_admin "SELECT count(*) FROM mailroom.reminders r WHERE r.message LIKE 'race % $tok'
                   AND (SELECT count(*) FROM mailroom.notifications n WHERE n.reminder_id = r.id) <> 1")" 0 \
	"race: exactly one notification each"
is "$(sql_admin "SELECT count(*) FROM mailroom.reminders r WHERE r.message LIKE 'race % $tok'
                   AND (SELECT count(*) FROM mailroom.audit a WHERE a.object = 'reminder:' || r.id) <> 1")" 0 \
	"race: exactly one audit row each"
start_worker c

# --- 2. the mail to the assignee ---------------------------------------------------------------
wait_admin "SELECT state FROM mailroom.outbox WHERE reminder_id = $mail_id" sent 30
is "$ROWS" sent "the reminder's mail was sent"
msgid=$(sql_admin "SELECT a.after->>'message_id' FROM mailroom.audit a JOIN mailroom.outbox o
                    ON a.object = 'outbox:' || o.id WHERE o.reminder_id = $mail_id AND a.action = 'notify.mail.sent'")
like "$msgid" '^mailroom-notify-[0-9]+\.' "sending audited with its Message-ID"
wait_admin "SELECT count(*) FROM auditor.messages WHERE message_id = '<$msgid>'" 1 30
is "$ROWS" 1 "the milter recorded the mail once"
is "$(sql_admin "SELECT direction || ' ' || envelope_to::text FROM mailroom.messages WHERE message_id = '<$msgid>'")" \
	"outbound {$email}" "outbound, to the assignee"
raw=$(sql_admin "SELECT convert_from(raw, 'UTF8') FROM mailroom.messages WHERE message_id = '<$msgid>'")
like "$raw" $'Auto-Submitted: auto-generated\r' "Auto-Submitted: auto-generated"
like "$raw" $'Content-Type: text/plain; charset=UTF-8\r' "text/plain UTF-8"
# The milter kept the header section (metadata policy for a personal
# mailbox); the delivered copy has the body.
delivered=$(maildir_find "$msgid" 30 | head -n 1)
ok "the mail was delivered" test -n "$delivered"
like "$(cat "$delivered" 2>/dev/null)" "Rückruf Müller, Angebot; bitte $tok" "the delivered body holds the message"
wait_admin "SELECT 'auto-reply' = ANY(mm.flags) FROM mailroom.message_meta mm JOIN mailroom.messages m
              ON m.id = mm.message_id WHERE m.message_id = '<$msgid>'" t 30
is "$ROWS" t "the worker flags it as automatic (never a customer's answer)"

# --- 3. snooze and done, kept in history ---------------------------------------------------------
rid=$(ctl reminder add --organisation "$(sql_admin "SELECT min(id) FROM mailroom.organisations")" \
	--due "+1 day" --message "later $tok" --assignee "$login" 2>&1)
if [[ $rid =~ ^[0-9]+$ ]]; then
	at_exit "sql_admin \"DELETE FROM mailroom.reminders WHERE id = $rid\""
fi
rid2=$(ctl reminder add --conversation "$conv" --due "+2 days" --message "snooze me $tok" --assignee "$login")
ctl reminder snooze "$rid2" "+3 days"
is "$?" 0 "reminder snooze"
ctl reminder done "$rid2"
is "$?" 0 "reminder done"
ctl reminder done "$rid2" 2>/dev/null
isnt "$?" 0 "a done reminder cannot be done again"
is "$(sql_admin "SELECT string_agg(old_state || '>' || new_state, ' ' ORDER BY id) FROM mailroom.reminder_history
                  WHERE reminder_id = $rid2")" "pending>snoozed snoozed>done" "history keeps snooze and done"
is "$(sql_admin "SELECT (new_due_at - old_due_at) >= interval '23 hours' FROM mailroom.reminder_history
                  WHERE reminder_id = $rid2 AND new_state = 'snoozed'")" t "the snooze moved the due time"
is "$(sql_admin "SELECT string_agg(action, ' ' ORDER BY id) FROM mailroom.audit WHERE object = 'reminder:$rid2'")" \
	"reminder.add reminder.snooze reminder.done" "add, snooze and done audited"

# --- 4. the calendar feed over HTTP ---------------------------------------------------------------
feed_id=$(ctl reminder add --conversation "$conv" --due "2030-01-02 03:04:05+00" \
	--message $'Call back, bring offer; ask about \\ and\nnext step '"$tok" --assignee "$login")
token=$(ctl calendar token "$login")
like "$token" '^[0-9a-f]{64}$' "calendar token is 256 bits in hex"
is "$(sql_admin "SELECT count(*) FROM mailroom.users WHERE login = '$login' AND calendar_token_hash = sha256(decode('$token', 'hex'))")" \
	1 "only the token's SHA-256 is stored"
is "$(sql_admin "SELECT count(*) FROM mailroom.users WHERE encode(calendar_token_hash, 'hex') = '$token'")" 0 \
	"the token itself is not stored"
code=$(curl -s -o "$T_TMP/feed.ics" -D "$T_TMP/feed.hdr" -w '%{http_code}' "$MAILROOM_URL/calendar/$token.ics")
is "$code" 200 "feed: 200 with a valid token"
like "$(cat "$T_TMP/feed.hdr")" 'Content-Type: text/calendar' "feed: text/calendar"
like "$(cat "$T_TMP/feed.hdr")" 'X-Content-Type-Options: nosniff' "feed: security headers"
feed=$(cat "$T_TMP/feed.ics")
like "$feed" $'^BEGIN:VCALENDAR\r\n' "feed: a VCALENDAR with CRLF"
unfolded=$(sed -z 's/\r\n //g' "$T_TMP/feed.ics")
like "$unfolded" "UID:reminder-$feed_id@mailroom" "feed: the pending reminder, stable UID"
like "$unfolded" 'DTSTART:20300102T030405Z' "feed: DTSTART in UTC"
like "$unfolded" "SUMMARY:Reminder: Call back\\\\, bring offer\\\\; ask about \\\\\\\\ and\\\\nnext step $tok" \
	"feed: TEXT escaped"
unlike "$unfolded" "reminder-$mail_id@" "feed: a fired reminder is not in it"
unlike "$unfolded" "reminder-$rid2@" "feed: a done reminder is not in it"
is "$(awk '{ sub(/\r$/, ""); if (length($0) > 75) n++ } END { print n + 0 }' "$T_TMP/feed.ics")" 0 \
	"feed: no line over 75 octets"
is "$(ctl calendar feed "$token" | grep -c "UID:reminder-$feed_id@")" 1 "mailroomctl calendar feed prints the same"

# The feed acts for its user (row-level security of the web role): a
# reminder on someone else's private conversation is not in it, one on
# their own private conversation is; deadlines of conversations assigned
# to them are.
feed_uids() { curl -s "$MAILROOM_URL/calendar/$token.ics" | sed -z 's/\r\n //g' | grep -c "UID:$1@"; }
lead_id=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$lead'")
login_id=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$login'")
sql_admin "UPDATE mailroom.conversations SET private = true, owner_id = $lead_id WHERE id = $conv" >/dev/null
is "$(feed_uids "reminder-$feed_id")" 0 "feed: not the reminder of another user's private conversation"
sql_admin "UPDATE mailroom.conversations SET owner_id = $login_id WHERE id = $conv" >/dev/null
is "$(feed_uids "reminder-$feed_id")" 1 "feed: the reminder of the user's own private conversation"
sql_admin "UPDATE mailroom.conversations SET private = false, owner_id = NULL WHERE id = $conv" >/dev/null
dconv=$(sql_admin "INSERT INTO mailroom.conversations (title, subject_key, first_message_at, last_activity_at, assignee_id)
                   VALUES ('Frist $tok', 'frist $tok', now(), now(), $login_id) RETURNING id")
did=$(sql_admin "INSERT INTO mailroom.deadlines (conversation_id, kind, policy, business_minutes, started_at, due_at)
                 VALUES ($dconv, 'response', 'test', 60, now(), '2030-02-03 04:05:06+00') RETURNING id")
at_exit "sql_admin \"UPDATE mailroom.deadlines SET state = 'cancelled', closed_at = now() WHERE id = $did\""
is "$(feed_uids "deadline-$did")" 1 "feed: the deadline of a conversation assigned to the user"

# the token with its last digit changed
[[ ${token: -1} == 0 ]] && wrong=${token%?}1 || wrong=${token%?}0
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/$wrong.ics")" 404 "feed: a wrong token gives 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/abc.ics")" 404 "feed: a malformed token gives 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/$token.ics/x")" 404 "feed: extra path gives 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/$(printf 'x%.0s' $(seq 1 600))")" 404 "a long path gives 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -d '' "$MAILROOM_URL/calendar/$token.ics")" 405 "feed: POST gives 405"
new_token=$(ctl calendar token "$login")
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/$token.ics")" 404 "feed: a replaced token gives 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/$new_token.ics")" 200 "feed: the new token works"
ctl calendar revoke "$login"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MAILROOM_URL/calendar/$new_token.ics")" 404 "feed: a revoked token gives 404"
is "$(sql_admin "SELECT string_agg(a.action, ' ' ORDER BY a.id) FROM mailroom.audit a JOIN mailroom.users u
                  ON a.object = 'user:' || u.id WHERE u.login = '$login'")" \
	"user.add calendar.token calendar.token calendar.revoke" "user and tokens audited"

done_testing
