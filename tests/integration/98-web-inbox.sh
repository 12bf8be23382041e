#!/usr/bin/env bash
# 98-web-inbox.sh - the inbox page (GET /) through lighttpd and
# mailroom.cgi, with curl, against the running stack.
#
# Fixture conversations are written with SQL as the superuser, all in a
# shared inbox of this run whose members are the two agents of this run,
# so that the page's rows can be compared with what the database holds.
#
# 1. The rows carry the markup of docs/web.md (level, class, status, due,
#    holder, assignee, labels, escaped title, unread marker, checkbox of
#    the bulk form); the bulk form, the filters and their counts are there.
# 2. Each filter narrows to exactly the expected conversations.
# 3. Keyset pages in both orders: every row once, in the database's order.
# 4. Bad filter values answer 400.
# 5. SQL and markup in q are inert.
# 6. Another user's private conversation is neither shown nor counted.
# 7. Unread for me changes once a read row is written.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

CTL=$top_builddir/ctl/mailroomctl
[[ -x $CTL ]] || bail "mailroomctl not built"
[[ -n ${MAILROOM_URL:-} ]] || bail "MAILROOM_URL is not set: ./dev.sh up starts lighttpd"
URL=$MAILROOM_URL
BASE=${URL#"${URL%/mailroom.cgi*}"}
ctlq() { "$CTL" -c "$MAILROOM_CONF" "$@" >/dev/null; }

tok=$(date +%s)$$
ann=ann$tok
bob=bob$tok
box=inbox$tok@test.example
pw='inbox test password'
word=quokka$tok
cleanup="
	DELETE FROM mailroom.message_meta WHERE conversation_id IN (SELECT id FROM mailroom.conversations WHERE inboxes && ARRAY['$box', 'x$box']);
	DELETE FROM mailroom.jobs WHERE message_id IN (SELECT id FROM mailroom.messages WHERE gateway = 'test98-$tok');
	DELETE FROM mailroom.messages WHERE gateway = 'test98-$tok';
	DELETE FROM mailroom.conversations WHERE inboxes && ARRAY['$box', 'x$box'];
	DELETE FROM mailroom.inboxes WHERE address IN ('$box', 'x$box');
	DELETE FROM mailroom.labels WHERE name LIKE '%$tok';
	DELETE FROM mailroom.folders WHERE name LIKE '%$tok';
	DELETE FROM mailroom.organisations WHERE name = 'Org $tok';
	DELETE FROM mailroom.users WHERE login IN ('$ann', '$bob');"
at_exit "sql_admin \"$cleanup\" >/dev/null"

printf '%s\n' "$pw" >"$T_TMP/pw"
ctlq user add "$ann" --name "Ann $tok" --password-file "$T_TMP/pw" || bail "user add $ann"
ctlq user add "$bob" --name "Bob <b>$tok</b>" --password-file "$T_TMP/pw" || bail "user add $bob"
ANN=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$ann'")
BOB=$(sql_admin "SELECT id FROM mailroom.users WHERE login = '$bob'")

# --- fixtures -----------------------------------------------------------------------------
sql_admin "INSERT INTO mailroom.inboxes (address) VALUES ('$box');
	INSERT INTO mailroom.inbox_members (inbox, user_id) VALUES ('$box', $ANN), ('$box', $BOB);
	INSERT INTO mailroom.labels (name) VALUES ('red$tok'), ('blue$tok');
	INSERT INTO mailroom.folders (name) VALUES ('done$tok');
	INSERT INTO mailroom.organisations (name) VALUES ('Org $tok');" >/dev/null
L1=$(sql_admin "SELECT id FROM mailroom.labels WHERE name = 'red$tok'")
L2=$(sql_admin "SELECT id FROM mailroom.labels WHERE name = 'blue$tok'")
F1=$(sql_admin "SELECT id FROM mailroom.folders WHERE name = 'done$tok'")
O1=$(sql_admin "SELECT id FROM mailroom.organisations WHERE name = 'Org $tok'")

# conv TITLE STATUS CLASS AGE PRIORITY [COLUMN=VALUE...] - a conversation of
# this run's inbox, last active AGE (an interval) ago; prints its id
conv() {
	local cols="title, subject_key, status, class, first_message_at, last_activity_at, priority_score, priority_level, message_count, inboxes"
	local vals="\$\$$1\$\$, 'k$tok', '$2', $3, now() - interval '$4', now() - interval '$4', $5,
		CASE WHEN $5 IS NULL THEN NULL WHEN $5 >= 85 THEN 'urgent' WHEN $5 >= 30 THEN 'normal' ELSE 'low' END, 1, ARRAY['$box']"
	shift 5
	local kv
	for kv in "$@"; do
		cols+=", ${kv%%=*}"
		vals+=", ${kv#*=}"
	done
	sql_admin "INSERT INTO mailroom.conversations ($cols) VALUES ($vals) RETURNING id" | head -n 1
}
C1=$(conv "Urgent <b>&\"quoted\"</b> $tok" open "'customer'" '1 hour' 90 "organisation_id=$O1" \
	"assignee_id=$ANN" "holder_id=$BOB" "held_since=now()" "folder_id=$F1")
C2=$(conv "Supplier $tok" open "'supplier'" '2 hours' 40)
C3=$(conv "Closed $tok" closed "'internal'" '3 hours' NULL "assignee_id=$BOB")
C4=$(conv "Old newsletter $tok" archived "'newsletter'" '40 days' 10)
C5=$(conv "Unsorted $tok" open NULL '10 days' NULL)
C6=$(conv "Private of bob $tok" open "'internal'" '30 minutes' 50 "private=true" "owner_id=$BOB" "assignee_id=$ANN")
sql_admin "INSERT INTO mailroom.conversation_labels (conversation_id, label_id) VALUES ($C1, $L1), ($C2, $L2);
	INSERT INTO mailroom.conversation_reads (user_id, conversation_id, read_at) VALUES ($ANN, $C2, now());
	INSERT INTO mailroom.reminders (conversation_id, due_at, message) VALUES ($C1, now() + interval '1 day', 'call back');" >/dev/null
# a message of C5 with a word to find (its job done: the worker leaves it alone)
sql_admin "BEGIN;
	INSERT INTO mailroom.messages (id, received_at, gateway, direction, record_policy, envelope_from, envelope_to,
		envelope_to_args, size_bytes, sha256)
	VALUES ('00000000-0000-7000-8000-$(printf '%012d' $((tok % 1000000000000)))', now(), 'test98-$tok', 'inbound', 'metadata',
		'x@example.org', ARRAY['$box'], ARRAY[NULL::text], 10, sha256('x'));
	UPDATE mailroom.jobs SET state = 'done' WHERE message_id IN (SELECT id FROM mailroom.messages WHERE gateway = 'test98-$tok');
	INSERT INTO mailroom.message_meta (message_id, subject, text_new, conversation_id, search)
	SELECT id, 'hello', 'about the $word', $C5, to_tsvector('english', 'about the $word')
	  FROM mailroom.messages WHERE gateway = 'test98-$tok';
	COMMIT;" >/dev/null
# 120 conversations to page through: ties in activity and priority, some without a score
sql_admin "INSERT INTO mailroom.conversations (title, subject_key, status, class, first_message_at, last_activity_at,
		priority_score, inboxes)
	SELECT 'Page $tok ' || g, 'k$tok', 'open', 'advertising', now() - interval '100 days',
	       now() - interval '100 days' - (g / 3) * interval '1 minute',
	       CASE WHEN g % 4 = 0 THEN NULL ELSE (g * 7) % 5 * 10 END, ARRAY['$box']
	  FROM generate_series(1, 120) g" >/dev/null

web_sign_in "$ann" "$pw"
[[ $ST == 303 ]] || bail "ann cannot sign in ($ST)"
ANNC=$SC
web_sign_in "$bob" "$pw"
[[ $ST == 303 ]] || bail "bob cannot sign in ($ST)"
BOBC=$SC

# page COOKIE QUERY - GET /?QUERY into $T_TMP/page.html; prints the status
page() {
	curl -s -o "$T_TMP/page.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$1" "$URL/?$2"
}
# ids - the data-id of each row of the last page, in order, one line
ids() {
	sed -n 's/.*<tr class="conv[^"]*" data-id="\([0-9]*\)">.*/\1/p' "$T_TMP/page.html" | paste -sd' '
}
# rows COOKIE QUERY - the ids of the first page for QUERY in this run's inbox
rows() {
	local st
	st=$(page "$1" "inbox=$box&$2")
	[[ $st == 200 ]] || echo "status $st"
	ids
}
# count LABEL - the count beside the filter link named LABEL on the last page
count() {
	sed -n "s|.*>$1</a> <span class=\"count\">\([0-9+]*\)</span>.*|\1|p" "$T_TMP/page.html" | head -n 1
}

# 1. markup
is "$(page "$ANNC" "inbox=$box")" 200 "the inbox answers 200"
html=$(cat "$T_TMP/page.html")
like "$html" "<tr class=\"conv unread\" data-id=\"$C1\">" "an unread row with its id"
row1=$(sed -n "/data-id=\"$C1\"/,/<\/tr>/p" "$T_TMP/page.html" | tr -d '\n')
like "$row1" "<input type=\"checkbox\" name=\"id\" value=\"$C1\" form=\"bulk\"" "a checkbox of the bulk form"
like "$row1" "<a class=\"subject\" href=\"$BASE/c/$C1\">Urgent &lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt; $tok</a>" \
	"the subject links to the conversation, escaped"
like "$row1" '<span class="level level-urgent">urgent</span>' "level"
like "$row1" '<span class="cls">customer</span>' "class"
like "$row1" '<span class="status">open</span>' "status"
like "$row1" '<span class="due"><time datetime="[0-9-]{10}T[0-9:]{8}Z">[0-9-]{10} [0-9:]{5}</time></span>' "due (the reminder)"
like "$row1" "<span class=\"holder\">Bob &lt;b&gt;$tok&lt;/b&gt;</span>" "holder, escaped"
like "$row1" "<span class=\"assignee\">Ann $tok</span>" "assignee"
like "$row1" "<span class=\"labels\"><span class=\"label\">red$tok</span></span>" "labels"
like "$row1" '<time class="activity" datetime=' "last activity"
like "$(sed -n "/data-id=\"$C2\"/p" "$T_TMP/page.html")" "<tr class=\"conv\" data-id=\"$C2\">" "a read row is not unread"
like "$html" "<form method=\"post\" action=\"$BASE/bulk\" id=\"bulk\"" "the bulk form posts to /bulk"
like "$html" '<select name="action">' "with its action select"
for a in archive label assign classify; do
	like "$html" "<option value=\"$a\">" "  and action $a"
done
like "$html" "<option value=\"$BOB\">Bob &lt;b&gt;$tok&lt;/b&gt;</option>" "users in the assignee select"
like "$html" '<select name="class">' "a class select"
like "$html" '<input name="label"' "a label field"
like "$html" '<nav class="filters"' "the filters"
like "$(count open)" '^[0-9]+\+?$' "a count beside the open filter"
like "$html" "href=\"$BASE/\?status=closed&amp;inbox=inbox$tok%40test.example\">closed</a>" "links keep the other filters"
like "$html" 'rel="next"' "more than a page: a next link"
# Without filters the page shows every conversation of the stack that ann
# may see, newest first: after the other tests' mail, a fixture an hour old
# is pages down. For this check it is the newest for a moment.
sql_admin "UPDATE mailroom.conversations SET last_activity_at = now() + interval '1 day' WHERE id = $C1" >/dev/null
is "$(page "$ANNC" "")" 200 "the inbox without filters"
like "$(ids)" "(^| )$C1( |$)" "  shows the fixture"
sql_admin "UPDATE mailroom.conversations SET last_activity_at = now() - interval '1 hour' WHERE id = $C1" >/dev/null

# 2. filters
is "$(rows "$ANNC" "status=closed")" "$C3" "status=closed"
is "$(rows "$ANNC" "status=archived")" "$C4" "status=archived"
is "$(rows "$ANNC" "status=all&class=internal")" "$C3" "status=all&class=internal (the private one absent)"
is "$(rows "$ANNC" "class=customer")" "$C1" "class=customer"
is "$(rows "$ANNC" "class=unclassified")" "$C5" "class=unclassified (NULL)"
is "$(rows "$ANNC" "unread=1&class=customer")" "$C1" "unread=1"
is "$(rows "$ANNC" "unread=1&class=supplier")" "" "unread=1 leaves out what I read"
like "$(cat "$T_TMP/page.html")" '<p class="empty">No conversations match these filters.</p>' "  and says so"
is "$(rows "$ANNC" "org=$O1")" "$C1" "org"
is "$(rows "$ANNC" "assignee=me")" "$C1" "assignee=me"
is "$(rows "$ANNC" "assignee=none&class=supplier")" "$C2" "assignee=none"
is "$(rows "$ANNC" "assignee=$BOB&status=all")" "$C3" "assignee=ID"
is "$(rows "$ANNC" "label=$L1")" "$C1" "label"
is "$(rows "$ANNC" "label=$L2&status=all")" "$C2" "another label"
is "$(rows "$ANNC" "folder=$F1")" "$C1" "folder"
is "$(rows "$ANNC" "older=30&status=all&class=newsletter")" "$C4" "older than 30 days"
is "$(rows "$ANNC" "older=30&class=customer")" "" "older leaves out newer"
day=$(sql_admin "SELECT to_char((now() - interval '40 days') AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD')")
is "$(rows "$ANNC" "from=$day&to=$day&status=all")" "$C4" "from/to: one day"
is "$(rows "$ANNC" "q=$word")" "$C5" "q: full text of a message"
is "$(rows "$ANNC" "q=${word}x")" "" "q: another word finds nothing"
# C6 (bob's private one, score 50) would come second if it were shown
is "$(rows "$ANNC" "sort=priority" | cut -d' ' -f1-2)" "$C1 $C2" "sort=priority: highest score first"

# 3. keyset pages
walk() { # QUERY - every page's ids, following rel=next
	local q=$1 n=0 next
	page "$ANNC" "$q" >/dev/null
	while :; do
		ids
		next=$(sed -n 's/.*<a rel="next" href="[^"?]*?\([^"]*\)">.*/\1/p' "$T_TMP/page.html" | sed 's/&amp;/\&/g')
		[[ -n $next ]] || break
		((++n > 10)) && break
		page "$ANNC" "$next" >/dev/null
	done | tr ' ' '\n' | sed '/^$/d'
}
want=$(sql_admin "SELECT id FROM mailroom.conversations WHERE inboxes @> ARRAY['$box'] AND class = 'advertising'
	ORDER BY last_activity_at DESC, id DESC")
got=$(walk "inbox=$box&class=advertising")
is "$(wc -l <<<"$got")" 120 "activity order: 120 rows over the pages"
is "$got" "$want" "  each once, in the database's order"
want=$(sql_admin "SELECT id FROM mailroom.conversations WHERE inboxes @> ARRAY['$box'] AND class = 'advertising'
	ORDER BY priority_score DESC NULLS LAST, last_activity_at DESC, id DESC")
got=$(walk "inbox=$box&class=advertising&sort=priority")
is "$(wc -l <<<"$got")" 120 "priority order: 120 rows over the pages"
is "$got" "$want" "  each once, scores first, then those without"

# 4. bad values
for q in status=bogus unread=2 class=spam org=abc org=0 assignee=someone label=-1 folder=1x inbox=nobody \
	older=0 older=3651 from=2026-02-30 to=2026-13-01 "from=2026-02-02&to=2026-02-01" sort=size after=garbage \
	"after=a-20261122203410123456-5&sort=priority" "after=p-101-20261122203410123456-5&sort=priority" \
	"q=$(printf 'x%.0s' {1..201})"; do
	is "$(page "$ANNC" "$q")" 400 "400 for $(cut -c1-40 <<<"$q")"
done
is "$(page "$ANNC" "q=$(printf '%%C3%%A4%.0s' {1..200})")" 200 "200 characters of q (400 bytes) are fine"

# 5. injection in q
before=$(sql_admin "SELECT count(*) FROM mailroom.conversations")
for evil in "' OR '1'='1" "x'); DROP TABLE mailroom.conversations; --" '<script>alert(1)</script>' '"><img src=x>'; do
	is "$(curl -s -o "$T_TMP/page.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$ANNC" --get \
		--data-urlencode "inbox=$box" --data-urlencode "q=$evil" "$URL/")" 200 "q $evil: 200"
	is "$(ids)" "" "  finds nothing"
	unlike "$(cat "$T_TMP/page.html")" "<script>alert|<img src=x" "  is not echoed as markup"
done
is "$(sql_admin "SELECT count(*) FROM mailroom.conversations")" "$before" "no conversation was added or removed"

# 6. private conversations: bob's is his alone, and is counted for him alone
page "$BOBC" "inbox=$box&class=internal" >/dev/null
is "$(ids)" "$C6" "bob sees his private conversation"
bob_internal=$(count internal)
bob_mine=$(count "assigned to me")
page "$ANNC" "inbox=$box&class=internal" >/dev/null
is "$(ids)" "" "ann does not"
ann_internal=$(count internal)
is "$((bob_internal - ann_internal))" 1 "it counts in bob's class count, not in ann's"
is "$(count "assigned to me")" 1 "ann's assigned-to-me count leaves it out though it is assigned to her"
is "$bob_mine" 0 "bob's count has nothing of his open"

# 6b. a shared inbox ann does not work: its conversation is neither shown
# to her nor counted for her, in the class counts or the folder counts
sql_admin "INSERT INTO mailroom.inboxes (address) VALUES ('x$box');
	INSERT INTO mailroom.inbox_members (inbox, user_id) VALUES ('x$box', $BOB);
	INSERT INTO mailroom.conversations (title, subject_key, status, class, first_message_at, last_activity_at,
		message_count, inboxes, folder_id)
	VALUES ('Of the other inbox $tok', 'k$tok', 'open', 'internal', now(), now(), 1, ARRAY['x$box'], $F1)" >/dev/null
# folder_count NAME - the count beside a folder's link on the last page
folder_count() {
	sed -n "s|.*>$1</a> <span class=\"count\">\([0-9+]*\)</span>.*|\1|p" "$T_TMP/page.html" | head -n 1
}
page "$BOBC" "class=internal" >/dev/null
bob_internal=$(count internal)
bob_folder=$(folder_count "done$tok")
page "$ANNC" "class=internal" >/dev/null
unlike "$(cat "$T_TMP/page.html")" "Of the other inbox $tok" "ann does not see a conversation of an inbox she does not work"
is "$((bob_internal - $(count internal)))" 2 "bob's class count has it and his private one, ann's neither"
is "$((bob_folder - $(folder_count "done$tok")))" 1 "bob's folder count has it, ann's not"

# 6c. the search function itself (mailroom_web may call it) names no
# conversation its user may not see: a word only in bob's private one and
# in the other inbox's finds both for bob and nothing for ann
C7=$(sql_admin "SELECT id FROM mailroom.conversations WHERE title = 'Of the other inbox $tok'")
secret=wombat$tok
for pair in "9000:$C6:$box" "a000:$C7:x$box"; do
	IFS=: read -r n cid to <<<"$pair"
	mid=00000000-0000-7000-$n-$(printf '%012d' $((tok % 1000000000000)))
	sql_admin "BEGIN;
	INSERT INTO mailroom.messages (id, received_at, gateway, direction, record_policy, envelope_from, envelope_to,
		envelope_to_args, size_bytes, sha256)
	VALUES ('$mid', now(), 'test98-$tok', 'inbound', 'metadata', 'x@example.org', ARRAY['$to'], ARRAY[NULL::text], 10,
		sha256('x'));
	UPDATE mailroom.jobs SET state = 'done' WHERE message_id = '$mid';
	INSERT INTO mailroom.message_meta (message_id, subject, text_new, conversation_id, search)
	VALUES ('$mid', 'secret', 'the $secret', $cid, to_tsvector('english', 'the $secret'));
	COMMIT;" >/dev/null
done
# search_as USER WORD - the ids inbox_search gives the web role for USER
search_as() {
	sql_admin "SET ROLE mailroom_web; SELECT set_config('mailroom.user_id', '$1', false);
		SELECT coalesce(string_agg(x::text, ' ' ORDER BY x), '-') FROM mailroom.inbox_search('$2') x" | tail -n 1
}
is "$(search_as "$BOB" "$secret")" "$(printf '%s\n' "$C6" "$C7" | sort -n | paste -sd' ')" \
	"inbox_search: bob's private conversation and his other inbox's for bob"
is "$(search_as "$ANN" "$secret")" "-" "inbox_search: neither for ann"
is "$(search_as "$ANN" "$word")" "$C5" "inbox_search: ann's own hit"

# 7. unread for me
is "$(rows "$ANNC" "unread=1&class=customer")" "$C1" "unread before"
sql_admin "INSERT INTO mailroom.conversation_reads (user_id, conversation_id, read_at) VALUES ($ANN, $C1, now())" >/dev/null
is "$(rows "$ANNC" "unread=1&class=customer")" "" "read after a read row"
like "$(page "$ANNC" "inbox=$box&class=customer" && sed -n "/data-id=\"$C1\"/p" "$T_TMP/page.html")" \
	"<tr class=\"conv\" data-id=\"$C1\">" "  and its row lost the unread class"
is "$(rows "$BOBC" "unread=1&class=customer")" "$C1" "bob has not read it"
sql_admin "UPDATE mailroom.conversations SET last_activity_at = now() WHERE id = $C1" >/dev/null
is "$(rows "$ANNC" "unread=1&class=customer")" "$C1" "new activity makes it unread again"

is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")" 303 "signed out: to the sign-in page"
is "$(asan_reports)" "" "no sanitizer reports"
done_testing
