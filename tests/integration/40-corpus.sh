#!/usr/bin/env bash
# 40-corpus.sh - real mail from ../shared/corpus passes the gateway, each recorded once.
#
# Every file of corpus/mime (malformed and unusual MIME), every mail file of
# corpus/threads and the first 1,000 files of corpus/lists (sorted) go to
# info@example.com through the inbound service, four connections at once,
# twenty messages per connection. Each message answered 250 has exactly one
# row with its queue id, its SHA-256 and size describe its stored bytes, and
# Postfix delivered it. A message Postfix refuses is acceptable only when
# Postfix itself refused it, before the milter had a say; the milter must
# refuse nothing. No record may end up in the spool's bad/ and no sanitizer
# report may appear.
#
# The corpus is not part of the project: without it this test is skipped.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

CORPUS=$top_srcdir/../shared/corpus
[[ -d $CORPUS/mime && -d $CORPUS/threads && -d $CORPUS/lists ]] || skip_all "corpus not present ($CORPUS)"
require_stack

# looks_like_mail FILE - the first line is a header field or an mbox From_ line
looks_like_mail() {
	head -n 1 "$1" | grep -qE '^([!-9;-~]+:|From )'
}

{
	find "$CORPUS/mime" -type f | sort
	find "$CORPUS/threads" -type f | sort | while read -r f; do
		looks_like_mail "$f" && printf '%s\n' "$f"
	done
	find "$CORPUS/lists" -type f | sort | head -n 1000
} >"$T_TMP/files"
total=$(wc -l <"$T_TMP/files")
diag "corpus: $(grep -c "^$CORPUS/mime/" "$T_TMP/files") mime, $(grep -c "^$CORPUS/threads/" "$T_TMP/files") threads, $(grep -c "^$CORPUS/lists/" "$T_TMP/files") lists: $total messages"
cmp_ok "$total" '>' 1000 "the corpus lists more than 1,000 messages"

asan_before=$(asan_reports)
pf_off=$(log_mark "$MR_POSTFIX_LOG")
ml_off=$(log_mark "$MR_MILTER_LOG")
start=$SECONDS
tr '\n' '\0' <"$T_TMP/files" | xargs -0 python3 "$MR_SMTPSEND" --server "$MAILROOM_SMTP" \
	--from bob@customer.test --to info@example.com --parallel 4 --per-conn 20 \
	>"$T_TMP/corpus.out" 2>>"$T_TMP/smtpsend.err"
diag "corpus: sent in $((SECONDS - start)) s; answers: $(codes "$T_TMP/corpus.out")"
is "$(wc -l <"$T_TMP/corpus.out")" "$total" "every message got an answer"

# --- the answers ---------------------------------------------------------------------
n250=$(count_code "$T_TMP/corpus.out" 250)
awk -F'\t' '$2 != 250' "$T_TMP/corpus.out" >"$T_TMP/refused"
nrefused=$(wc -l <"$T_TMP/refused")
diag "answered 250: $n250; not 250: $nrefused"
while IFS=$'\t' read -r label code reply; do
	diag "not 250: ${label#"$CORPUS"/}: $code $reply"
done <"$T_TMP/refused"
# Postfix refuses a message before the milter sees its content (size, header
# limits, protocol errors); a permanent 5xx is then the client's to fix.
# The milter's own refusals say "could not be recorded" or show up as
# milter-reject in Postfix's log: none is acceptable here.
is "$(awk -F'\t' '$2 != 250 && ($2 < 500 || $3 ~ /could not be recorded/)' "$T_TMP/refused" | wc -l)" 0 \
	"no temporary failure and no refusal by the milter"
is "$(log_since "$MR_POSTFIX_LOG" "$pf_off" | grep -c 'milter-reject:')" 0 "Postfix logged no milter-reject"

# --- the records -------------------------------------------------------------------------
qids "$T_TMP/corpus.out" >"$T_TMP/qids"
is "$(sort -u "$T_TMP/qids" | wc -l)" "$n250" "every 250 has its own queue id"
start=$SECONDS
wait_qids_recorded "$T_TMP/qids" 180
is "$BAD" "" "each queue id answered 250 has exactly one row"
[[ -n $BAD ]] && diag "queue ids with a count other than 1:" "$(head -20 <<<"$BAD")"
diag "all in PostgreSQL $((SECONDS - start)) s after the last answer"
is "$(sql_admin "SELECT count(*) FROM mailroom.messages
                  WHERE queue_id = ANY ('{$(paste -sd, "$T_TMP/qids")}') AND $MINE
                    AND (record_policy <> 'full' OR sha256 <> sha256(raw) OR size_bytes <> length(raw))")" 0 \
	"every record is full and its sha256 and size describe its raw bytes"
is "$(log_since "$MR_MILTER_LOG" "$ml_off" | grep -c 'bad/')" 0 "no record was moved to bad/"

# --- delivery ------------------------------------------------------------------------------
ok "Postfix's queue empties" postfix_wait_queue 180
sleep 1 # postlogd writes asynchronously
log_since "$MR_POSTFIX_LOG" "$pf_off" | sed -nE 's/.*: ([0-9A-Za-z]+): to=<info@example.com>.* status=sent .*/\1/p' |
	sort -u >"$T_TMP/sent"
is "$(comm -23 "$T_TMP/qids" "$T_TMP/sent" | wc -l)" 0 "every message answered 250 was delivered"

# Byte-exact: each record is the message Postfix queued, rebuilt from the
# delivered copy (its delivery headers and our two headers taken off).
as_queued --newer "$T_MARK" "$MAILROOM_MAILDIR/example.com/info/new" 2>"$T_TMP/as-queued.err" |
	sort >"$T_TMP/delivered"
sql "SELECT queue_id || ' ' || sha256 || ' ' || size_bytes FROM auditor.messages
      WHERE queue_id = ANY ('{$(paste -sd, "$T_TMP/qids")}') AND $MINE" | sort >"$T_TMP/recorded"
is "$(join "$T_TMP/recorded" "$T_TMP/delivered" | wc -l)" "$n250" "every delivered copy could be matched to its record"
differ=$(join "$T_TMP/recorded" "$T_TMP/delivered" | awk '$2 != $4 || $3 != $5 { print $1 }')
is "$(grep -c . <<<"$differ")" 0 "every record is byte for byte the message Postfix queued"
[[ -n $differ ]] && diag "records that differ from the queued message: $(head -10 <<<"$differ" | paste -sd' ')"

is "$(comm -13 <(printf '%s\n' "$asan_before") <(asan_reports) | grep -c .)" 0 "no sanitizer report appeared"

done_testing
