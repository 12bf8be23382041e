#!/usr/bin/env bash
# 90-worker-e2e.sh - mail through Postfix, sorted and threaded by mailroom-worker.
#
# A customer organisation with one contact goes into the address book. The
# contact writes to info@example.com: the worker sorts the message as
# customer (decided by the contact, with the organisation) into a new
# conversation. Our reply, sent 2 s later through the originating service
# with In-Reply-To/References, lands in the same conversation and marks it
# answered: waiting on them, first answered by info@example.com, a first
# response time of at least 1 s. The customer's out-of-office auto-reply in
# the same thread joins the conversation but changes nothing (it is not an
# answer); the customer's real answer makes it wait on us again. Mail with
# a List-Id from a stranger is a newsletter (bulk). A reply that only
# carries the subject ("AW: ...", no References) joins the customer's
# conversation; the same subject from someone else does not.
#
# Rows are looked up by queue id and record id. The organisation and contact
# have names unique to the run and are deleted at the end.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

# worker_running - a mailroom-worker of this stack runs (the dev stack's or a test's)
worker_running() {
	[[ -n $(stack_workers) ]]
}
if ! worker_running; then
	devsh start worker || bail "mailroom-worker is not running and did not start"
fi

# --- helpers ------------------------------------------------------------------------

# deliver NAME SERVER ENVELOPE-FROM RCPT - send $T_TMP/NAME.eml; prints the
# record id of the message once the gateway recorded it (status 1 if not)
deliver() {
	local name=$1 server=$2 from=$3 rcpt=$4 qid id end=$((SECONDS + 30))
	qid=$(send_one "$T_TMP/$name.out" "$T_TMP/$name.eml" --server "$server" --from "$from" --to "$rcpt") ||
		return 1
	while :; do
		id=$(sql "SELECT id FROM auditor.messages WHERE queue_id = '$qid' AND $MINE")
		[[ -n $id ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$id"
}

# meta_of ID - "class|decided_by|organisation_id|contact_id|conversation_id|flags"
# once the worker has sorted record ID (waits up to 30 s; "" when it did not)
meta_of() {
	local end=$((SECONDS + 30)) row
	[[ -n $1 ]] || return 1
	while :; do
		row=$(sql "SELECT class, decided_by, coalesce(organisation_id::text, ''), coalesce(contact_id::text, ''),
		                  coalesce(conversation_id::text, ''), array_to_string(flags, ',')
		             FROM auditor.classifications WHERE id = '$1'")
		[[ -n $row ]] && break
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
	printf '%s\n' "$row"
}

# field N ROW - the Nth |-separated field
field() {
	cut -d'|' -f"$1" <<<"$2"
}

# conversation ID - "waiting_on|first_answered_by|first_response_seconds|status|class|organisation_id"
conversation() {
	sql_admin "SELECT coalesce(waiting_on, ''), coalesce(first_answered_by, ''),
	                  coalesce(first_response_seconds::text, ''), status, coalesce(class, ''),
	                  coalesce(organisation_id::text, '')
	             FROM mailroom.conversations WHERE id = ${1:-0}"
}

# --- the address book -------------------------------------------------------------------
# Domains must be lower-case letters, digits, dots and dashes.
tag=$(date +%s)$$
dom="kunde-$tag.example"
anna="anna@$dom"
org_name="90-worker-e2e $tag"
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
like "$org_id" '^[0-9]+$' "organisation $dom (customer) with contact $anna in the address book"
contact_id=$(sql_admin "SELECT contact_id FROM mailroom.contact_addresses WHERE address = '$anna'")

subject="Anfrage $tag"
mid_first="first.$tag@$dom"
mid_reply="reply.$tag@example.com"

# --- 1. the customer writes ------------------------------------------------------------------
compose "$T_TMP/first.eml" "Anna Kunde <$anna>" info@example.com "$subject" "$mid_first" \
	"Guten Tag, wann kommt meine Bestellung $tag?"
id_first=$(deliver first "$MAILROOM_SMTP" "$anna" info@example.com)
like "$id_first" '^[0-9a-f-]{36}$' "the customer's message is recorded"
m=$(meta_of "$id_first")
is "$(field 1-4 "$m")" "customer|contact|$org_id|$contact_id" \
	"the customer's message: class customer, decided by the contact, with its organisation"
conv=$(field 5 "$m")
like "$conv" '^[0-9]+$' "the customer's message is in a conversation ($conv)"
c=$(conversation "$conv")
is "$(field 1 "$c")|$(field 4-6 "$c")" "us|open|customer|$org_id" \
	"the new conversation waits on us, is open, customer, of the organisation"

# --- 2. our reply, 2 s later -----------------------------------------------------------------
sleep 2
compose "$T_TMP/reply.eml" "Info <info@example.com>" "Anna Kunde <$anna>" "Re: $subject" "$mid_reply" \
	"Guten Tag, die Bestellung ist unterwegs." "In-Reply-To: <$mid_first>" "References: <$mid_first>"
id_reply=$(deliver reply "$MAILROOM_SUBMIT" info@example.com "$anna")
like "$id_reply" '^[0-9a-f-]{36}$' "our reply is recorded"
is "$(sql "SELECT direction FROM auditor.messages WHERE id = '${id_reply:-00000000-0000-0000-0000-000000000000}'")" \
	outbound "our reply is outbound"
m=$(meta_of "$id_reply")
is "$(field 5 "$m")" "$conv" "our reply (In-Reply-To the first) is in the same conversation"
is "$(field 1-3 "$m")" "customer|contact|$org_id" "our reply to the contact is customer mail too"
c=$(conversation "$conv")
is "$(field 1-2 "$c")" "them|info@example.com" "after our reply the conversation waits on them, answered by info@"
frs=$(field 3 "$c")
cmp_ok "${frs:-x}" '>=' 1 "first_response_seconds is measured ($frs s for a reply sent 2 s later)"
is "$(sql_admin "SELECT c.first_answered_at = m.received_at FROM mailroom.conversations c, mailroom.messages m
                  WHERE c.id = ${conv:-0} AND m.id = '${id_reply:-00000000-0000-0000-0000-000000000000}'")" t \
	"first_answered_at is when our reply passed the gateway"
answered_at=$(sql_admin "SELECT first_answered_at FROM mailroom.conversations WHERE id = ${conv:-0}")

# --- 3. the customer's out-of-office auto-reply --------------------------------------------------
compose "$T_TMP/ooo.eml" "Anna Kunde <$anna>" "Info <info@example.com>" "Automatische Antwort: Re: $subject" \
	"ooo.$tag@$dom" "Ich bin bis zum 1. Dezember im Urlaub und habe keinen Zugriff auf E-Mails." \
	"In-Reply-To: <$mid_reply>" "References: <$mid_first> <$mid_reply>" "Auto-Submitted: auto-replied"
# RFC 3834: responders send from the null sender.
id_ooo=$(deliver ooo "$MAILROOM_SMTP" "" info@example.com)
m=$(meta_of "$id_ooo")
is "$(field 5 "$m")" "$conv" "the out-of-office reply joins the conversation"
like "$(field 6 "$m")" '(^|,)auto-reply(,|$)' "the out-of-office reply is flagged auto-reply ($(field 6 "$m"))"
c=$(conversation "$conv")
is "$(field 1-3 "$c")" "them|info@example.com|$frs" "the auto-reply leaves the conversation waiting on them"
is "$(sql_admin "SELECT first_answered_at FROM mailroom.conversations WHERE id = ${conv:-0}")" "$answered_at" \
	"the auto-reply leaves first_answered_at alone"

# --- 4. the customer's real answer ---------------------------------------------------------------
compose "$T_TMP/answer.eml" "Anna Kunde <$anna>" "Info <info@example.com>" "Re: Re: $subject" \
	"answer.$tag@$dom" "Danke, dann warte ich noch." \
	"In-Reply-To: <$mid_reply>" "References: <$mid_first> <$mid_reply>"
id_answer=$(deliver answer "$MAILROOM_SMTP" "$anna" info@example.com)
m=$(meta_of "$id_answer")
is "$(field 5 "$m")|$(field 6 "$m")" "$conv|" "the customer's answer joins the conversation, without flags"
c=$(conversation "$conv")
is "$(field 1-4 "$c")" "us|info@example.com|$frs|open" \
	"the customer's answer makes it wait on us; the first response stays as measured"

# --- 5. a newsletter from a stranger ------------------------------------------------------------
compose "$T_TMP/news.eml" "Newsletter <news@letter-$tag.example>" info@example.com "Angebote der Woche $tag" \
	"news.$tag@letter-$tag.example" "Nur diese Woche: alles billiger." \
	"List-Id: Angebote <angebote.letter-$tag.example>" \
	"List-Unsubscribe: <mailto:unsubscribe@letter-$tag.example>"
id_news=$(deliver news "$MAILROOM_SMTP" "bounce-$tag@letter-$tag.example" info@example.com)
m=$(meta_of "$id_news")
is "$(field 1-3 "$m")" "newsletter|bulk|" "List-Id mail from an unknown sender is newsletter, decided as bulk"
like "$(field 6 "$m")" '(^|,)list(,|$)' "the newsletter is flagged list"
isnt "$(field 5 "$m")" "$conv" "the newsletter is not in the customer's conversation"

# --- 6. threading by subject only ---------------------------------------------------------------
compose "$T_TMP/subj.eml" "Anna Kunde <$anna>" info@example.com "AW: $subject" "subj.$tag@$dom" \
	"Noch eine Frage zur Bestellung."
id_subj=$(deliver subj "$MAILROOM_SMTP" "$anna" info@example.com)
m=$(meta_of "$id_subj")
is "$(field 5 "$m")" "$conv" "a subject-only reply (AW:, no References) from the customer joins the conversation"

compose "$T_TMP/other.eml" "Otto Fremd <otto@andere-$tag.example>" info@example.com "AW: $subject" \
	"other.$tag@andere-$tag.example" "Ich habe dieselbe Frage."
id_other=$(deliver other "$MAILROOM_SMTP" "otto@andere-$tag.example" info@example.com)
m=$(meta_of "$id_other")
like "$(field 5 "$m")" '^[0-9]+$' "the same subject from another sender is threaded"
isnt "$(field 5 "$m")" "$conv" "the same subject from another sender starts its own conversation"
is "$(field 1-2 "$m")" "unclassified|none" "another sender unknown to the address book is unclassified"

# --- the whole conversation ----------------------------------------------------------------------
is "$(sql "SELECT count(*) FROM auditor.classifications WHERE conversation_id = ${conv:-0}
             AND id IN ('$id_first', '$id_reply', '$id_ooo', '$id_answer', '$id_subj')")" 5 \
	"five of this run's messages are in the customer's conversation"
is "$(sql "SELECT count(*) FROM auditor.classifications WHERE conversation_id = ${conv:-0}
             AND id IN ('$id_news', '$id_other')")" 0 "neither the newsletter nor the stranger's mail is in it"

done_testing
