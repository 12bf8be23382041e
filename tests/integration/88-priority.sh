#!/usr/bin/env bash
# 88-priority.sh - priority with reasons, and the local model learning from
# corrections and from `mailroomctl learn`.
#
# A customer's "dringend: Produktionsstillstand" sent through the gateway is
# urgent or high, with the class and the words among its reasons, and its
# conversation carries that level; a stranger's newsletter (List-Id) is low.
# An agent's correction of a plain customer message to "urgent" is learnt by
# the worker: marked learnt with a new model version, audited (the
# correction and the version), and the next similar message is scored with
# that version among its reasons and a higher score than the first.
# `mailroomctl learn` stores a new version learnt on top of the newest.
# Two workers started together on 250 waiting corrections learn each
# exactly once: every correction learnt and audited once, the versions they
# made hold 250 examples and each was learnt on top of the one before.
# The kept statistics (schema/009): our reply asking a question counts as
# an answer to the customer and makes her next message a reply to our
# question; the conversation counts its messages; two workers processing
# 60 messages of one sender at once count all 60.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

MR_CTL=$top_builddir/ctl/mailroomctl
WORKER_BIN=$top_builddir/worker/mailroom-worker
[[ -x $MR_CTL && -x $WORKER_BIN ]] || bail "mailroomctl or mailroom-worker not built"
[[ -n $(stack_workers) ]] || devsh start worker || bail "mailroom-worker is not running and did not start"

ctl() {
	"$MR_CTL" -c "$MAILROOM_CONF" "$@"
}

# compose FILE FROM SUBJECT MESSAGE-ID BODY [HEADER-LINE...] - a text/plain message to info@example.com
compose() {
	local file=$1 from=$2 subject=$3 msgid=$4 body=$5 h
	shift 5
	{
		printf 'From: %s\r\nTo: info@example.com\r\nSubject: %s\r\n' "$from" "$subject"
		printf 'Message-ID: <%s>\r\nDate: %s\r\n' "$msgid" "$(date -R)"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$body"
	} >"$file"
}

# deliver NAME FROM [SERVER RCPT] - send $T_TMP/NAME.eml (inbound unless SERVER is the submission
# port); prints the record id once recorded
deliver() {
	local qid id end=$((SECONDS + 30))
	qid=$(send_one "$T_TMP/$1.out" "$T_TMP/$1.eml" --server "${3:-$MAILROOM_SMTP}" --from "$2" \
		--to "${4:-info@example.com}") || return 1
	while :; do
		id=$(sql "SELECT id FROM auditor.messages WHERE queue_id = '$qid' AND $MINE")
		[[ -n $id ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$id"
}

# priority_of ID - "score|level|confidence|model_version|conversation" once the worker scored it
priority_of() {
	local end=$((SECONDS + 30)) row
	while :; do
		row=$(sql_admin "SELECT priority_score, priority_level, priority_confidence, coalesce(model_version::text, ''),
		                        conversation_id
		                   FROM mailroom.message_meta WHERE message_id = '${1:-00000000-0000-0000-0000-000000000000}'
		                    AND priority_level IS NOT NULL")
		[[ -n $row ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$row"
}

# reasons_of ID - the reasons' "why" texts, one per line
reasons_of() {
	sql_admin "SELECT r->>'by' || ': ' || (r->>'points') || ' ' || (r->>'why')
	             FROM mailroom.message_meta, jsonb_array_elements(priority_reasons) r
	            WHERE message_id = '$1'"
}

field() {
	cut -d'|' -f"$1" <<<"$2"
}

# --- the address book ---------------------------------------------------------------------
tag=$(date +%s)$$
dom="kunde-$tag.example"
anna="anna@$dom"
org_name="88-priority $tag"
cleanup() {
	sql_admin "DELETE FROM mailroom.contacts WHERE first_name = '$org_name';
	           DELETE FROM mailroom.organisations WHERE name = '$org_name'"
}
at_exit cleanup
org_id=$(sql_admin "WITH o AS (INSERT INTO mailroom.organisations (name, kind) VALUES ('$org_name', 'customer')
                                RETURNING id),
                         d AS (INSERT INTO mailroom.organisation_domains (domain, organisation_id)
                                SELECT '$dom', id FROM o),
                         c AS (INSERT INTO mailroom.contacts (organisation_id, first_name, last_name)
                                SELECT id, '$org_name', 'Anna' FROM o RETURNING id),
                         a AS (INSERT INTO mailroom.contact_addresses (address, contact_id)
                                SELECT '$anna', id FROM c)
                    SELECT id FROM o")
like "$org_id" '^[0-9]+$' "customer organisation $dom with contact $anna"

# --- 1. rules: urgent customer mail, a newsletter --------------------------------------------
compose "$T_TMP/urgent.eml" "Anna Kunde <$anna>" "dringend: Produktionsstillstand $tag" "u.$tag@$dom" \
	"Guten Tag, unsere Linie steht. Bitte melden Sie sich sofort."
id_urgent=$(deliver urgent "$anna")
p=$(priority_of "$id_urgent")
like "$(field 2 "$p")" '^(urgent|high)$' "the customer's 'dringend: Produktionsstillstand' is $(field 2 "$p") ($(field 1 "$p"))"
r=$(reasons_of "$id_urgent")
like "$r" "rule: 15 class customer" "its reasons name the class"
like "$r" 'urgency word "dringend"' "its reasons name 'dringend'"
like "$r" 'urgency word "Produktionsstillstand"' "its reasons name 'Produktionsstillstand'"
conv=$(field 5 "$p")
is "$(sql_admin "SELECT priority_level FROM mailroom.conversations WHERE id = ${conv:-0}")" "$(field 2 "$p")" \
	"its conversation carries its level"

compose "$T_TMP/news.eml" "News <news@letter-$tag.example>" "Unser Angebot der Woche $tag" "n.$tag@letter-$tag.example" \
	"Jetzt zugreifen." "List-Id: <angebote.letter-$tag.example>" "List-Unsubscribe: <mailto:off@letter-$tag.example>"
id_news=$(deliver news "news@letter-$tag.example")
p=$(priority_of "$id_news")
is "$(field 2 "$p")" low "a stranger's newsletter is low ($(field 1 "$p"))"
like "$(reasons_of "$id_news")" "class newsletter" "its reason names the class"

# --- 1b. the kept history: our question answered ------------------------------------------
# Our reply asks a question: the conversation has 2 messages, we asked, it
# waits on them, and Anna's message counts as answered once. Her answer to
# it is a "reply to our question", and the conversation waits on her again.
compose "$T_TMP/ask.eml" "Info <info@example.com>" "Re: dringend: Produktionsstillstand $tag" "a.$tag@example.com" \
	"Guten Tag, steht die Linie noch? Wir melden uns." "In-Reply-To: <u.$tag@$dom>" "References: <u.$tag@$dom>"
sed -i "s/^To: info@example.com/To: $anna/" "$T_TMP/ask.eml"
id_ask=$(deliver ask info@example.com "$MAILROOM_SUBMIT" "$anna")
p=$(priority_of "$id_ask")
is "$(field 5 "$p")" "$conv" "our question is in the customer's conversation"
is "$(sql_admin "SELECT message_count, we_asked, waiting_on, coalesce(waiting_from, '-')
                   FROM mailroom.conversations WHERE id = ${conv:-0}")" "2|t|them|-" \
	"after it the conversation counts 2 messages, we asked, it waits on them"
is "$(sql_admin "SELECT messages || ' ' || answered FROM mailroom.sender_stats WHERE addr = '$anna'")" "1 1" \
	"the customer's statistics: 1 message, answered once"
compose "$T_TMP/answer.eml" "Anna Kunde <$anna>" "Re: Re: dringend: Produktionsstillstand $tag" "b.$tag@$dom" \
	"Ja, leider." "In-Reply-To: <a.$tag@example.com>" "References: <u.$tag@$dom> <a.$tag@example.com>"
id_answer=$(deliver answer "$anna")
p=$(priority_of "$id_answer")
like "$(reasons_of "$id_answer")" "rule: 15 reply to our question" "her answer is a reply to our question"
is "$(sql_admin "SELECT message_count, we_asked, waiting_on, waiting_from
                   FROM mailroom.conversations WHERE id = ${conv:-0}")" "3|t|us|$anna" \
	"then the conversation counts 3 messages and waits on us to answer her"

# --- 2. a correction is learnt and changes the next similar score ---------------------------
body="Guten Tag, wie ist der Lieferstatus der Ventile fuer Auftrag 4711? Gruss Anna"
compose "$T_TMP/plain1.eml" "Anna Kunde <$anna>" "Lieferstatus Ventile $tag" "p1.$tag@$dom" "$body"
id_p1=$(deliver plain1 "$anna")
p1=$(priority_of "$id_p1")
like "$(field 2 "$p1")" '^(normal|high)$' "a plain customer question is $(field 2 "$p1") ($(field 1 "$p1"))"
before=$(sql_admin "SELECT coalesce(max(version), 0) FROM mailroom.models")
corr=$(sql_admin "INSERT INTO mailroom.corrections (message_id, kind, old_value, new_value, actor)
                  VALUES ('$id_p1', 'level', '$(field 2 "$p1")', 'urgent', 'agent-$tag') RETURNING id")
end=$((SECONDS + 40))
until [[ $(sql_admin "SELECT learnt_at IS NOT NULL FROM mailroom.corrections WHERE id = ${corr:-0}") == t ]] ||
	((SECONDS >= end)); do
	sleep 0.3
done
v=$(sql_admin "SELECT coalesce(model_version::text, '') FROM mailroom.corrections WHERE id = ${corr:-0}")
cmp_ok "${v:-0}" '>' "$before" "the correction is learnt into a new model version ($v)"
is "$(sql_admin "SELECT priority_level FROM mailroom.message_meta WHERE message_id = '$id_p1'")" urgent \
	"the corrected message shows the agent's level"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'message.correction' AND object = 'message:$id_p1'
                    AND actor = 'agent-$tag'")" 1 "the correction is in the audit trail once"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'model.version' AND object = 'model:${v:-0}'")" 1 \
	"the new model version is in the audit trail"
sleep 1 # the worker loads the new version when it next looks
compose "$T_TMP/plain2.eml" "Anna Kunde <$anna>" "Lieferstatus Ventile $tag" "p2.$tag@$dom" "$body"
id_p2=$(deliver plain2 "$anna")
p2=$(priority_of "$id_p2")
cmp_ok "$(field 4 "$p2")" '>=' "${v:-0}" "the next similar message is scored with that model version or later"
like "$(reasons_of "$id_p2")" "model: [0-9-]+ model version" "the model is among its reasons"
cmp_ok "$(field 1 "$p2")" '>' "$(field 1 "$p1")" "and it scores higher than before the correction ($(field 1 "$p1") -> $(field 1 "$p2"))"

# --- 3. mailroomctl learn -------------------------------------------------------------------
newest=$(sql_admin "SELECT coalesce(max(version), 0) FROM mailroom.models")
out=$(ctl learn advertising "$T_TMP/news.eml" 2>&1)
like "$out" "^learnt 1 file as advertising: model version [0-9]+" "mailroomctl learn stores a new version"
lv=$(sed -nE 's/.*model version ([0-9]+).*/\1/p' <<<"$out")
cmp_ok "${lv:-0}" '>' "$newest" "it is newer than the one before"
is "$(sql_admin "SELECT after->>'learnt_on' FROM mailroom.audit WHERE action = 'model.version' AND object = 'model:${lv:-0}'")" \
	"$newest" "it was learnt on top of the newest version, and audited"
like "$(ctl learn nonsense "$T_TMP/news.eml" 2>&1)" "unknown label" "an unknown label is refused"

# --- 4. two workers learn 250 corrections at once ------------------------------------------
W_PIDS=()
start_worker() {
	local rpid i pid=
	runuser -u mailroom -- "$WORKER_BIN" -c "$MAILROOM_CONF" -f </dev/null >>"$T_TMP/worker-$1.log" 2>&1 &
	rpid=$!
	for ((i = 0; i < 100; i++)); do
		pid=$(pgrep -P "$rpid" -x mailroom-worker) && break
		sleep 0.1
	done
	[[ -n $pid ]] || bail "worker $1 did not start: $(tail -n 5 "$T_TMP/worker-$1.log")"
	W_PIDS+=("$pid")
}
stop_test_workers() {
	local p i
	for p in "${W_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		for ((i = 0; i < 300; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done
}
at_exit devsh start worker
at_exit stop_test_workers
devsh stop worker
[[ -z $(stack_workers) ]] || bail "another mailroom-worker of this stack runs"
base=$(sql_admin "SELECT max(version) FROM mailroom.models")
sql_admin "INSERT INTO mailroom.corrections (message_id, kind, old_value, new_value, actor)
           SELECT '$id_p2', 'level', 'normal', (ARRAY['urgent','high','normal','low'])[1 + i % 4], 'many-$tag'
             FROM generate_series(1, 250) i" >/dev/null
start_worker a
start_worker b
end=$((SECONDS + 60))
until [[ $(sql_admin "SELECT count(*) FROM mailroom.corrections WHERE actor = 'many-$tag' AND learnt_at IS NULL") == 0 ]] ||
	((SECONDS >= end)); do
	sleep 0.3
done
is "$(sql_admin "SELECT count(*) FROM mailroom.corrections WHERE actor = 'many-$tag' AND model_version IS NOT NULL")" 250 \
	"two workers: all 250 corrections are learnt"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'message.correction' AND actor = 'many-$tag'")" 250 \
	"each is audited exactly once"
is "$(sql_admin "SELECT sum(examples) FROM mailroom.models WHERE version IN
                   (SELECT model_version FROM mailroom.corrections WHERE actor = 'many-$tag')")" 250 \
	"the versions they made hold 250 examples"
chain=$(sql_admin "SELECT count(*) FROM mailroom.audit a WHERE a.action = 'model.version'
                     AND substr(a.object, 7)::bigint IN (SELECT model_version FROM mailroom.corrections WHERE actor = 'many-$tag')
                     AND (a.after->>'learnt_on')::bigint IS DISTINCT FROM
                         (SELECT max(version) FROM mailroom.models WHERE version < substr(a.object, 7)::bigint)")
is "$chain" 0 "each version was learnt on top of the one before it (no update lost)"
is "$(sql_admin "SELECT messages || ' ' || answered FROM mailroom.sender_stats WHERE addr = '$anna'")" "4 1" \
	"the customer's statistics after her 4 messages: 4, answered once"

# --- 5. two workers count one sender's 60 messages --------------------------------------------
many="many-$tag@bulk-$tag.example"
files=()
for ((i = 1; i <= 60; i++)); do
	compose "$T_TMP/many-$i.eml" "Many <$many>" "Anfrage $i $tag" "m$i.$tag@bulk-$tag.example" "Frage Nummer $i."
	files+=("$T_TMP/many-$i.eml")
done
send --server "$MAILROOM_SMTP" --from "$many" --to info@example.com --parallel 4 --per-conn 15 "${files[@]}" \
	>"$T_TMP/many.out" 2>>"$T_TMP/smtpsend.err"
is "$(count_code "$T_TMP/many.out" 250)" 60 "60 messages from one sender sent"
end=$((SECONDS + 60))
until [[ $(sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE from_addr = '$many'") == 60 ]] ||
	((SECONDS >= end)); do
	sleep 0.3
done
is "$(sql_admin "SELECT count(*) FROM mailroom.message_meta WHERE from_addr = '$many'")" 60 "the workers stored all 60"
is "$(sql_admin "SELECT messages || ' ' || answered FROM mailroom.sender_stats WHERE addr = '$many'")" "60 0" \
	"its statistics count 60 messages: no increment lost between the two workers"
diag "the 60 by worker: $(sql_admin "SELECT string_agg(claimed_by || ' ' || n, ', ') FROM (SELECT j.claimed_by, count(*) AS n
        FROM mailroom.jobs j JOIN mailroom.message_meta mm USING (message_id) WHERE mm.from_addr = '$many' GROUP BY 1) s")"
workers_used=$(grep -l "learnt [0-9]* correction" "$T_TMP"/worker-a.log "$T_TMP"/worker-b.log 2>/dev/null | wc -l)
diag "workers that learnt: $workers_used of 2; base version $base"
done_testing
