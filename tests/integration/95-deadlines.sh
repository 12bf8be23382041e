#!/usr/bin/env bash
# 95-deadlines.sh - response deadlines and follow-ups through the real stack,
# with two workers running the deadline task side by side.
#
# 1. A customer writes to info@: a response deadline opens (policy
#    "customer", 24 business hours) whose due and warning times are checked
#    against an independent computation (Python's zoneinfo, the worker's
#    calendar settings, the nationwide holidays).
# 2. Our reply through the submission service meets it (met_at = when the
#    reply passed the gateway), and a follow-up opens, due after
#    deadlines.followup_days business days.
# 3. The follow-up, made due by SQL, is snoozed with `mailroomctl deadline
#    snooze`: it does not fire. Snoozed into the past, it fires: one event,
#    one audit row, also after both workers had more passes.
# 4. The customer answers: a new response deadline opens. Its warning and
#    breach, made due by SQL, fire exactly once each (events and audit rows).
# 5. 300 deadlines of conversations made for the test, all due at once:
#    the two workers warn and breach each exactly once.
# 6. A VIP customer's conversation gets policy "vip" (8 hours); a newsletter
#    waiting on us gets none.
#
# The test's conversations are closed at the end (their deadlines cancel);
# deadlines are history and stay.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack
command -v python3 >/dev/null || skip_all "python3 is needed for the independent calendar"

WORKER_BIN=$top_builddir/worker/mailroom-worker
CTL_BIN=$top_builddir/ctl/mailroomctl
[[ -x $WORKER_BIN && -x $CTL_BIN ]] || bail "mailroom-worker or mailroomctl not built"
# wconf KEY - one effective setting of the stack's configuration, as printed by -n
wconf() {
	"$WORKER_BIN" -n -c "$MAILROOM_CONF" | sed -n "s/^deadlines\.$1 = \(.*\);\$/\1/p"
}
tz=$(wconf timezone | tr -d '"')
state=$(wconf state | tr -d '"')
hours=$(wconf hours)
holidays=$(wconf holidays)
followup_days=$(wconf followup_days)
warn_percent=$(wconf warn_percent)
[[ $hours == '["mon-fri 08:00-17:00"]' && -z $state && $holidays == '[]' ]] ||
	skip_all "the independent calendar of this test knows mon-fri 08:00-17:00, nationwide holidays only"
[[ $followup_days =~ ^[1-9][0-9]*$ && $warn_percent =~ ^[0-9]+$ ]] || bail "cannot read deadlines.* settings"

# expect MODE START-EPOCH AMOUNT - the due moment (epoch) by an independent
# calendar: MODE minutes adds business minutes, MODE days working days
expect() {
	python3 - "$tz" "$@" <<'EOF'
import sys, datetime as dt
from zoneinfo import ZoneInfo
tz = ZoneInfo(sys.argv[1]); mode = sys.argv[2]; start = int(sys.argv[3]); amount = int(sys.argv[4])
def easter(y):  # Gauss, in Lichtenberg's form: the day of March (may exceed 31)
    k = y // 100; m = 15 + (3 * k + 3) // 4 - (8 * k + 13) // 25; s = 2 - (3 * k + 3) // 4
    a = y % 19; d = (19 * a + m) % 30; r = (d + a // 11) // 29; og = 21 + d - r
    sz = 7 - (y + y // 4 + s) % 7; oe = 7 - (og - sz) % 7
    return dt.date(y, 3, 1) + dt.timedelta(days=og + oe - 1)
def holiday(d):
    e = easter(d.year)
    return (d.month, d.day) in {(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)} or \
        (d - e).days in (-2, 1, 39, 50)
def workday(d):
    return d.weekday() < 5 and not holiday(d)
def window(d):
    return (dt.datetime.combine(d, dt.time(8), tz), dt.datetime.combine(d, dt.time(17), tz))
t = dt.datetime.fromtimestamp(start, dt.timezone.utc)
left = amount * 60 if mode == "minutes" else 0
d = t.astimezone(tz).date()
while True:
    if workday(d):
        s, e = window(d)
        lo = max(s, t)
        if lo < e and left <= (e - lo).total_seconds():
            t = lo + dt.timedelta(seconds=left)
            break
        if lo < e:
            left -= (e - lo).total_seconds()
    d += dt.timedelta(days=1)
if mode == "days":
    local = t.astimezone(tz); d = local.date(); n = 0
    while n < amount:
        d += dt.timedelta(days=1)
        n += workday(d)
    t = dt.datetime.combine(d, local.time().replace(tzinfo=None), tz)
print(int(t.timestamp()))
EOF
}

# --- a second worker ---------------------------------------------------------------------
workers=$(stack_workers | wc -l)
if ((workers == 0)); then
	devsh start worker || bail "the stack's mailroom-worker did not start"
fi
W2_LOG=$T_TMP/worker-2.log
runuser -u mailroom -- "$WORKER_BIN" -c "$MAILROOM_CONF" -f </dev/null >>"$W2_LOG" 2>&1 &
W2_RUNUSER=$!
for ((i = 0; i < 100; i++)); do
	W2_PID=$(pgrep -P "$W2_RUNUSER" -x mailroom-worker) && break
	sleep 0.1
done
[[ -n ${W2_PID:-} ]] || bail "the second worker did not start: $(tail -n 5 "$W2_LOG")"
at_exit "kill -TERM $W2_PID; wait $W2_RUNUSER"
wait_log "$W2_LOG" 0 'started as ' 10 >/dev/null || bail "the second worker did not say its name"
cmp_ok "$(stack_workers | wc -l)" '>=' 2 "two workers of this stack run"

# --- helpers -------------------------------------------------------------------------------
# wait_sql QUERY WANT [TIMEOUT] - until QUERY prints WANT; GOT is the last answer
wait_sql() {
	local end=$((SECONDS + ${3:-40}))
	while :; do
		GOT=$(sql_admin "$1")
		[[ $GOT == "$2" ]] && return 0
		((SECONDS >= end)) && return 1
		sleep 0.5
	done
}

# two_passes - long enough for both workers to run the task (every 10 s) twice more
two_passes() {
	sleep 22
}

# fired CONV ACTION EVENT - "audit rows|events" of one kind for a conversation
fired() {
	sql_admin "SELECT (SELECT count(*) FROM mailroom.audit WHERE object = 'conversation:$1' AND action = '$2')
	           || '|' || (SELECT count(*) FROM mailroom.deadline_events WHERE conversation_id = $1 AND event = '$3')"
}

# --- the address book ------------------------------------------------------------------------
tag=$(date +%s)$$
dom="kunde-$tag.example"
anna="anna@$dom"
org_name="95-deadlines $tag"
cleanup_book() {
	sql_admin "DELETE FROM mailroom.contacts WHERE first_name = '$org_name';
	           DELETE FROM mailroom.organisations WHERE name = '$org_name'"
}
at_exit cleanup_book
org_id=$(sql_admin "WITH o AS (INSERT INTO mailroom.organisations (name, kind) VALUES ('$org_name', 'customer')
                                RETURNING id),
                         d AS (INSERT INTO mailroom.organisation_domains (domain, organisation_id)
                                SELECT '$dom', id FROM o),
                         c AS (INSERT INTO mailroom.contacts (organisation_id, first_name, last_name)
                                SELECT id, '$org_name', 'Anna' FROM o RETURNING id),
                         a AS (INSERT INTO mailroom.contact_addresses (address, contact_id)
                                SELECT '$anna', id FROM c)
                    SELECT id FROM o")
like "$org_id" '^[0-9]+$' "customer organisation $dom in the address book"

# --- 1. the customer writes: a response deadline ------------------------------------------------
subject="Lieferung $tag"
compose "$T_TMP/first.eml" "Anna Kunde <$anna>" info@example.com "$subject" "first.$tag@$dom" \
	"Guten Tag, wo bleibt meine Lieferung $tag?"
id_first=$(deliver first "$MAILROOM_SMTP" "$anna" info@example.com)
like "$id_first" '^[0-9a-f-]{36}$' "the customer's message is recorded and sorted"
conv=$(sql_admin "SELECT conversation_id FROM mailroom.message_meta WHERE message_id = '${id_first:-00000000-0000-0000-0000-000000000000}'")
conv=${conv:-0}
at_exit "sql_admin \"UPDATE mailroom.conversations SET status = 'closed' WHERE id = $conv\""
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'response'" 1
is "$GOT" 1 "a response deadline opens for conversation $conv"
row=$(sql_admin "SELECT d.policy, d.business_minutes, d.state, d.started_at = m.received_at,
                        floor(extract(epoch FROM m.received_at))::bigint, extract(epoch FROM d.due_at)::bigint,
                        extract(epoch FROM d.warn_at)::bigint
                   FROM mailroom.deadlines d, mailroom.messages m
                  WHERE d.conversation_id = $conv AND d.kind = 'response' AND m.id = '$id_first'")
IFS='|' read -r policy minutes dstate same start due warn <<<"$row"
is "$policy|$minutes|$dstate|$same" "customer|1440|open|t" \
	"policy customer, 24 business hours, open, started when the message passed the gateway"
is "$due" "$(expect minutes "$start" 1440)" "due after 24 business hours ($(date -u -d "@${due:-0}" +'%a %F %R UTC'))"
is "$warn" "$(expect minutes "$start" $((1440 * warn_percent / 100)))" \
	"the warning at $warn_percent% of the time ($(date -u -d "@${warn:-0}" +'%a %F %R UTC'))"
is "$(fired "$conv" deadline.open open)" "1|1" "opening is one event and one audit row"

# A VIP customer and a newsletter write too; checked at the end, after many passes.
vdom="vip-$tag.example"
vip_org=$(sql_admin "WITH o AS (INSERT INTO mailroom.organisations (name, kind, vip) VALUES ('$org_name', 'customer', true)
                                RETURNING id),
                         d AS (INSERT INTO mailroom.organisation_domains (domain, organisation_id)
                                SELECT '$vdom', id FROM o)
                    SELECT id FROM o")
like "$vip_org" '^[0-9]+$' "VIP customer organisation $vdom in the address book"
compose "$T_TMP/vip.eml" "Vera Wichtig <vera@$vdom>" info@example.com "Rueckruf $tag" "vip.$tag@$vdom" \
	"Bitte rufen Sie mich an."
id_vip=$(deliver vip "$MAILROOM_SMTP" "vera@$vdom" info@example.com)
compose "$T_TMP/news.eml" "Newsletter <news@letter-$tag.example>" info@example.com "Angebote $tag" \
	"news.$tag@letter-$tag.example" "Nur diese Woche." "List-Id: Angebote <angebote.letter-$tag.example>"
id_news=$(deliver news "$MAILROOM_SMTP" "bounce-$tag@letter-$tag.example" info@example.com)
conv_of() {
	sql_admin "SELECT coalesce(conversation_id, 0) FROM mailroom.message_meta
	            WHERE message_id = '${1:-00000000-0000-0000-0000-000000000000}'"
}
conv_vip=$(conv_of "$id_vip")
conv_news=$(conv_of "$id_news")
at_exit "sql_admin \"UPDATE mailroom.conversations SET status = 'closed' WHERE id IN (${conv_vip:-0}, ${conv_news:-0})\""

# --- 2. our reply meets it; a follow-up opens ----------------------------------------------------
compose "$T_TMP/reply.eml" "Info <info@example.com>" "Anna Kunde <$anna>" "Re: $subject" "reply.$tag@example.com" \
	"Guten Tag, die Lieferung kommt morgen. Passt Ihnen der Vormittag?" \
	"In-Reply-To: <first.$tag@$dom>" "References: <first.$tag@$dom>"
id_reply=$(deliver reply "$MAILROOM_SUBMIT" info@example.com "$anna")
like "$id_reply" '^[0-9a-f-]{36}$' "our reply is recorded and sorted"
wait_sql "SELECT d.state || '|' || (d.met_at = m.received_at) FROM mailroom.deadlines d, mailroom.messages m
           WHERE d.conversation_id = $conv AND d.kind = 'response' AND m.id = '${id_reply:-00000000-0000-0000-0000-000000000000}'" "met|true"
is "$GOT" "met|true" "our reply meets the deadline, met when the reply passed the gateway"
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'followup'" 1
is "$GOT" 1 "a follow-up opens while the conversation waits on the customer"
row=$(sql_admin "SELECT d.state, d.started_at = m.received_at, floor(extract(epoch FROM m.received_at))::bigint,
                        extract(epoch FROM d.due_at)::bigint
                   FROM mailroom.deadlines d, mailroom.messages m
                  WHERE d.conversation_id = $conv AND d.kind = 'followup' AND m.id = '$id_reply'")
IFS='|' read -r fstate fsame fstart fdue <<<"$row"
is "$fstate|$fsame" "open|t" "the follow-up is open and started at our reply"
is "$fdue" "$(expect days "$fstart" "$followup_days")" \
	"the follow-up is due after $followup_days business days ($(date -u -d "@${fdue:-0}" +'%a %F %R UTC'))"

# --- 3. snoozed, it waits; unsnoozed, it fires once ------------------------------------------------
until=$(date -d '+1 hour' +'%Y-%m-%d %H:%M:%S%z')
out=$("$CTL_BIN" -c "$MAILROOM_CONF" deadline snooze "$conv" "$until" 2>&1)
like "$out" "snoozed until" "mailroomctl deadline snooze: $out"
is "$(fired "$conv" deadline.snooze snooze)" "1|1" "the snooze is one event and one audit row"
sql_admin "UPDATE mailroom.deadlines SET due_at = now() - interval '1 minute'
            WHERE conversation_id = $conv AND kind = 'followup'"
two_passes
is "$(sql_admin "SELECT state FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'followup'")|$(fired "$conv" deadline.followup followup)" \
	"open|0|0" "a snoozed follow-up past its due time does not fire"
sql_admin "UPDATE mailroom.deadlines SET snoozed_until = now() - interval '1 second'
            WHERE conversation_id = $conv AND kind = 'followup'"
wait_sql "SELECT state FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'followup'" fired
is "$GOT" fired "after the snooze the follow-up fires"
two_passes
is "$(fired "$conv" deadline.followup followup)" "1|1" "the follow-up fired exactly once (audit rows|events)"

# --- 4. the customer answers; warning and breach once each ------------------------------------------
compose "$T_TMP/answer.eml" "Anna Kunde <$anna>" "Info <info@example.com>" "Re: Re: $subject" \
	"answer.$tag@$dom" "Der Vormittag passt nicht, bitte nachmittags." \
	"In-Reply-To: <reply.$tag@example.com>" "References: <first.$tag@$dom> <reply.$tag@example.com>"
id_answer=$(deliver answer "$MAILROOM_SMTP" "$anna" info@example.com)
like "$id_answer" '^[0-9a-f-]{36}$' "the customer's answer is recorded and sorted"
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'response' AND state = 'open'" 1
is "$GOT" 1 "the answer opens a new response deadline"
is "$(sql_admin "SELECT state FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'followup'")" fired \
	"the fired follow-up stays as it was (history)"
sql_admin "UPDATE mailroom.deadlines SET warn_at = now() - interval '1 minute'
            WHERE conversation_id = $conv AND kind = 'response' AND state = 'open'"
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'response' AND state = 'warned'" 1
is "$GOT" 1 "the warning fires"
two_passes
is "$(fired "$conv" deadline.warn warn)" "1|1" "the warning fired exactly once (audit rows|events)"
sql_admin "UPDATE mailroom.deadlines SET due_at = now() - interval '1 minute'
            WHERE conversation_id = $conv AND kind = 'response' AND state = 'warned'"
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'response'
           AND state = 'breached' AND breached_at IS NOT NULL" 1
is "$GOT" 1 "the breach fires"
two_passes
is "$(fired "$conv" deadline.breach breach)|$(fired "$conv" deadline.warn warn)" "1|1|1|1" \
	"the breach fired exactly once, the warning still once"
is "$(sql_admin "SELECT string_agg(kind || ':' || n, ',' ORDER BY kind) FROM (
                   SELECT kind, count(*) n FROM mailroom.notifications
                    WHERE conversation_id = $conv AND kind LIKE 'deadline.%' GROUP BY kind) s")" \
	"deadline.breach:1,deadline.followup:1,deadline.warn:1" "the team was notified once of each"
escalate=$(wconf escalate_to | tr -d '"')
is "$(sql_admin "SELECT coalesce(escalated_to, '') FROM mailroom.deadlines WHERE conversation_id = $conv
                   AND state = 'breached'")" "$escalate" "escalated to deadlines.escalate_to ('$escalate')"

# --- 5. 300 deadlines due at once, two workers -----------------------------------------------------
# Conversations of the test that wait on us; the deadlines are made with
# their warning and due time already past, so both workers race for them.
n=300
sql_admin "WITH c AS (INSERT INTO mailroom.conversations (title, subject_key, status, class, first_message_at,
                                                           last_activity_at, waiting_on)
                      SELECT '95-deadlines $tag ' || g, '95-deadlines $tag ' || g, 'open', 'customer', now(), now(), 'us'
                        FROM generate_series(1, $n) g RETURNING id)
           INSERT INTO mailroom.deadlines (conversation_id, kind, policy, business_minutes, started_at, due_at, warn_at)
           SELECT id, 'response', 'customer', 1440, now() - interval '2 days', now() - interval '1 minute',
                  now() - interval '2 minutes' FROM c" >/dev/null
at_exit "sql_admin \"UPDATE mailroom.conversations SET status = 'closed' WHERE title LIKE '95-deadlines $tag %'\""
BULK="conversation_id IN (SELECT id FROM mailroom.conversations WHERE title LIKE '95-deadlines $tag %')"
wait_sql "SELECT count(*) FROM mailroom.deadlines WHERE $BULK AND state = 'breached'" "$n" 60
is "$GOT" "$n" "all $n deadlines breached"
two_passes
is "$(sql_admin "SELECT count(*) FILTER (WHERE w = 1 AND b = 1), count(*) FROM (
                   SELECT d.id, (SELECT count(*) FROM mailroom.deadline_events e WHERE e.deadline_id = d.id AND e.event = 'warn') w,
                          (SELECT count(*) FROM mailroom.deadline_events e WHERE e.deadline_id = d.id AND e.event = 'breach') b
                     FROM mailroom.deadlines d WHERE $BULK) s")" "$n|$n" \
	"each of the $n deadlines has exactly one warn and one breach event"
is "$(sql_admin "SELECT count(*) FILTER (WHERE action = 'deadline.warn') || '|' || count(*) FILTER (WHERE action = 'deadline.breach')
                   FROM mailroom.audit WHERE object IN (SELECT 'conversation:' || id FROM mailroom.conversations
                                                         WHERE title LIKE '95-deadlines $tag %')")" "$n|$n" \
	"and exactly $n warn and $n breach audit rows"
is "$(sql_admin "SELECT count(*) FILTER (WHERE kind = 'deadline.warn') || '|' || count(*) FILTER (WHERE kind = 'deadline.breach')
                   FROM mailroom.notifications WHERE conversation_id IN (SELECT id FROM mailroom.conversations
                                                         WHERE title LIKE '95-deadlines $tag %')")" "$n|$n" \
	"and exactly $n warn and $n breach notifications"
diag "second worker: $(grep -c 'deadlines: .* \(warned\|breached\)' "$W2_LOG") passes with warnings or breaches;" \
	"$(grep 'deadlines: .* \(warned\|breached\)' "$W2_LOG" | tail -n 4)"

# --- the VIP customer and the newsletter ----------------------------------------------------------
is "$(sql_admin "SELECT policy || '|' || business_minutes FROM mailroom.deadlines
                   WHERE conversation_id = ${conv_vip:-0} AND kind = 'response'")" "vip|480" \
	"the VIP customer's conversation has policy vip, 8 business hours"
is "$(sql_admin "SELECT class || '|' || waiting_on || '|' || (SELECT count(*) FROM mailroom.deadlines d
                                                            WHERE d.conversation_id = c.id)
                   FROM mailroom.conversations c WHERE id = ${conv_news:-0}")" "newsletter|us|0" \
	"a newsletter waiting on us gets no deadline (no policy covers it)"

# --- the end: closing cancels what still runs ---------------------------------------------------------
sql_admin "UPDATE mailroom.conversations SET status = 'closed' WHERE id = $conv"
wait_sql "SELECT state FROM mailroom.deadlines WHERE conversation_id = $conv AND kind = 'response' ORDER BY id DESC LIMIT 1" cancelled
is "$GOT" cancelled "closing the conversation cancels its running deadline"
is "$(sql_admin "SELECT count(*) FROM mailroom.deadlines WHERE conversation_id = $conv")" 3 \
	"its deadlines are kept as history (two responses, one follow-up)"
ok "deleting a deadline is refused" bash -c "! psql -X -q -U postgres -c 'DELETE FROM mailroom.deadlines WHERE conversation_id = $conv' 2>/dev/null"

done_testing
