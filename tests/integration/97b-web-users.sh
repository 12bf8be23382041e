#!/usr/bin/env bash
# 97b-web-users.sh - user management and TOTP set-up in the web pages,
# through lighttpd and mailroom.cgi with curl, against the running stack.
#
# 1. Everyone but an admin gets 403 on every users route, even with a
#    valid CSRF token of their own session; signed out: the sign-in page.
# 2. An admin adds a user: the password shown once signs in; the name's
#    markup is escaped and SQL in it is stored as text; bad fields (400),
#    a taken login (409) and a wrong form's CSRF token (403) add nothing.
# 3. Edit name, e-mail, role, active and shared inbox membership; a
#    disabled user's session ends and sign-in fails.
# 4. A new password: shown once, the old one fails, sessions end.
# 5. An admin cannot demote or disable themself (409).
# 6. Every change is audited, never with the password or its hash.
# 7. TOTP set-up: a QR code as <svg class="qr"> (read back by zbarimg)
#    and the key as text,
#    nothing stored before a right code; a wrong code, an altered sealed
#    key and another session's sealed key are refused; a right code stores
#    the key (checked against the key shown), and sign-in then needs a
#    code; the confirming code cannot sign in again. Replacing it and
#    turning it off need the password; wrong ones count for the sign-in
#    throttle.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
URL=$MAILROOM_URL
ORIGIN=${URL%/mailroom.cgi*}

tok=$(date +%s)$$
adm=adm$tok
agt=agt$tok
new=new$tok
ib1=sales-$tok@example.com
ib2=help-$tok@example.com
pw='correct horse battery staple'
at_exit "sql_admin \"DELETE FROM mailroom.users WHERE login LIKE '%$tok'; DELETE FROM mailroom.inboxes WHERE address LIKE '%-$tok@example.com'; DELETE FROM mailroom.login_failures WHERE login LIKE '%$tok'\" >/dev/null"

printf '%s\n' "$pw" >"$T_TMP/pw"
ctl user add "$adm" --name "Admin $tok" --role admin --password-file "$T_TMP/pw" >/dev/null || bail "user add $adm"
ctl user add "$agt" --name "Agent $tok" --role agent --password-file "$T_TMP/pw" >/dev/null || bail "user add $agt"
sql_admin "INSERT INTO mailroom.inboxes (address, name) VALUES ('$ib1', 'Sales'), ('$ib2', 'Help')" >/dev/null
uid() { sql_admin "SELECT id FROM mailroom.users WHERE login = '$1'"; }
adm_id=$(uid "$adm")
agt_id=$(uid "$agt")

# get PATH COOKIE - GET; prints the status, the page in $T_TMP/page.html
get() {
	curl -s -o "$T_TMP/page.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$2" "$URL$1"
}
# post PATH COOKIE FIELD=VALUE... - POST from our origin; prints the
# status, the page in $T_TMP/post.html, the headers in $T_TMP/post.hdr
post() {
	local path=$1 cookie=$2 f args=()
	shift 2
	for f in "$@"; do
		args+=(--data-urlencode "$f")
	done
	curl -s -o "$T_TMP/post.html" -D "$T_TMP/post.hdr" -w '%{http_code}' -H "Origin: $ORIGIN" \
		-H "Cookie: __Host-mailroom=$cookie" "${args[@]}" "$URL$path"
}
# csrf_of FORM-ID [FILE] - the CSRF token of the form with that id
csrf_of() {
	sed -n "/<form [^>]*id=\"$1\"/{n;s/.*name=\"csrf\" value=\"\([0-9a-f]\{64\}\)\".*/\1/p;}" "${2:-$T_TMP/page.html}"
}
# csrf_for COOKIE FORM - the right CSRF token of a form for a session, made
# here from its key (so that a refusal is the role check, not the token)
csrf_for() {
	local key
	key=$(sql_admin "SELECT encode(csrf_key, 'hex') FROM mailroom.web_sessions WHERE token_hash = sha256(decode('$1', 'hex'))")
	python3 -c 'import hmac, hashlib, sys; print(hmac.new(bytes.fromhex(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$key" "$2"
}
# new_password FILE - the password shown once in a page
new_password() {
	sed -n 's/.*<code class="new-password">\([^<]*\)<\/code>.*/\1/p' "$1"
}
audits() { # ACTION OBJECT - how many audit rows
	sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = '$1' AND object = '$2'"
}

web_sign_in "$adm" "$pw"; is "$ST" 303 "the admin signs in"
AC=$SC
web_sign_in "$agt" "$pw"; is "$ST" 303 "the agent signs in"
GC=$SC

# 1. only admins
is "$(post /account/totp "$GC" "csrf=$(csrf_for "$GC" totp-start)")" 200 "a token made by csrf_for is accepted"
users_before=$(sql_admin "SELECT count(*) FROM mailroom.users")
is "$(get /users "$GC")" 403 "agent: GET /users is 403"
is "$(get "/users/$adm_id" "$GC")" 403 "agent: GET /users/ID is 403"
is "$(post /users "$GC" "csrf=$(csrf_for "$GC" users-add)" "login=x$tok" "name=X" "role=admin")" 403 \
	"agent: POST /users with a valid token is 403"
is "$(post "/users/$agt_id" "$GC" "csrf=$(csrf_for "$GC" user-edit)" "name=Agent" "role=admin" "active=1")" 403 \
	"agent: POST /users/ID (making themself admin) is 403"
is "$(post "/users/$adm_id/reset" "$GC" "csrf=$(csrf_for "$GC" user-reset)")" 403 "agent: POST /users/ID/reset is 403"
is "$(sql_admin "SELECT role FROM mailroom.users WHERE id = $agt_id")" agent "the agent is still an agent"
is "$(sql_admin "SELECT count(*) FROM mailroom.users")" "$users_before" "no user was added"
sql_admin "UPDATE mailroom.users SET role = 'auditor' WHERE id = $agt_id" >/dev/null
is "$(get /users "$GC")" 403 "auditor: GET /users is 403"
sql_admin "UPDATE mailroom.users SET role = 'lead' WHERE id = $agt_id" >/dev/null
is "$(get /users "$GC")" 403 "lead: GET /users is 403"
sql_admin "UPDATE mailroom.users SET role = 'agent' WHERE id = $agt_id" >/dev/null
is "$(get /users "")" 303 "signed out: GET /users goes to the sign-in page"
is "$(post /users "" "login=x$tok")" 403 "signed out: POST /users is 403"

# 2. add a user
is "$(get /users "$AC")" 200 "admin: GET /users"
page=$(cat "$T_TMP/page.html")
like "$page" '<table class="users">' "table.users"
like "$page" "<td class=\"login\"><a href=\"[^\"]*/users/$agt_id\">$agt</a></td><td class=\"name\">Agent $tok</td>" \
	"a row per user with a link to its page"
like "$page" '<form method="post" action="[^"]*/users" id="users-add">' "the form to add a user"
add_csrf=$(csrf_of users-add)
is "${#add_csrf}" 64 "  with a CSRF token"
evil_name="<script>alert(1)</script> O'Neil'); DROP TABLE mailroom.users; --"
is "$(post /users "$AC" "csrf=$add_csrf" "login=$new" "name=$evil_name" "email=new@example.com" "role=agent")" 200 \
	"admin adds a user"
npw=$(new_password "$T_TMP/post.html")
like "$npw" '^[2-9a-km-zA-HJ-NP-Z]{24}$' "the page shows a 24-character password"
new_id=$(uid "$new")
like "$new_id" '^[0-9]+$' "the user is in the database"
is "$(sql_admin "SELECT display_name || '|' || email || '|' || role || '|' || active FROM mailroom.users WHERE id = $new_id")" \
	"$evil_name|new@example.com|agent|true" "with the name (SQL in it as text), e-mail, role, active"
like "$(sql_admin "SELECT password_hash FROM mailroom.user_credentials WHERE user_id = $new_id")" '^\$argon2id\$' \
	"only an Argon2id hash is stored"
unlike "$(cat "$T_TMP/post.html")" "<script>alert" "the name is not markup on the page"
web_sign_in "$new" "$npw"; is "$ST" 303 "the shown password signs in"
NC=$SC
is "$(get /users "$AC")" 200 "the list again"
like "$(cat "$T_TMP/page.html")" "&lt;script&gt;alert\(1\)&lt;/script&gt; O&#39;Neil&#39;\); DROP TABLE" "the name escaped in the list"
unlike "$(cat "$T_TMP/page.html")" "<script>" "no script in the list"
is "$(audits user.add "user:$new_id")" 1 "user.add audited"
is "$(sql_admin "SELECT (after->>'login') || ' ' || (after->>'role') FROM mailroom.audit WHERE action = 'user.add' AND object = 'user:$new_id'")" \
	"$new agent" "  with the new user's fields"
is "$(post /users "$AC" "csrf=$add_csrf" "login=$new" "name=Again" "role=agent")" 409 "a taken login is 409"
like "$(cat "$T_TMP/post.html")" "That login is already taken" "  with a message"
is "$(post /users "$AC" "csrf=$add_csrf" "login=Bad Login$tok" "name=X" "role=agent")" 400 "a bad login is 400"
is "$(post /users "$AC" "csrf=$add_csrf" "login=x$tok" "name=X" "email=not-an-address" "role=agent")" 400 "a bad e-mail is 400"
is "$(post /users "$AC" "csrf=$add_csrf" "login=x$tok" "name=X" "role=root")" 400 "a bad role is 400"
is "$(post /users "$AC" "csrf=$add_csrf" "login=x$tok" "name=" "role=agent")" 400 "an empty name is 400"
is "$(post /users "$AC" "csrf=$add_csrf" "login=x$tok" "name=$(printf 'n%.0s' {1..201})" "role=agent")" 400 \
	"a name of 201 characters is 400"
is "$(post /users "$AC" "csrf=$(csrf_for "$AC" user-edit)" "login=x$tok" "name=X" "role=agent")" 403 \
	"another form's CSRF token is 403"
is "$(sql_admin "SELECT count(*) FROM mailroom.users WHERE login LIKE 'x$tok' OR login LIKE 'bad%$tok'")" 0 \
	"none of these added a user"

# 3. edit
is "$(get "/users/$new_id" "$AC")" 200 "admin: GET /users/ID"
page=$(cat "$T_TMP/page.html")
like "$page" "<form method=\"post\" action=\"[^\"]*/users/$new_id\" id=\"user-edit\">" "the edit form"
like "$page" "<input type=\"checkbox\" name=\"inbox\" value=\"$ib1\"> $ib1 \(Sales\)" "a checkbox per shared inbox"
like "$page" '<input type="checkbox" name="active" value="1" checked>' "active is ticked"
like "$page" "value=\"&lt;script&gt;alert\(1\)&lt;/script&gt; O&#39;Neil" "the name escaped in its field"
edit_csrf=$(csrf_of user-edit)
reset_csrf=$(csrf_of user-reset)
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "email=" "role=lead" "active=1" "inbox=$ib1")" 303 \
	"role, name, e-mail and an inbox saved"
like "$(tr -d '\r' <"$T_TMP/post.hdr")" "Location: [^ ]*/users/$new_id" "  back to the user's page"
is "$(sql_admin "SELECT display_name || '|' || coalesce(email, 'none') || '|' || role || '|' || active FROM mailroom.users WHERE id = $new_id")" \
	"New Name|none|lead|true" "  stored"
is "$(sql_admin "SELECT string_agg(inbox, ',') FROM mailroom.inbox_members WHERE user_id = $new_id")" "$ib1" \
	"  the inbox membership row is there"
is "$(audits user.update "user:$new_id")" 1 "  user.update audited"
is "$(sql_admin "SELECT (before->>'role') || '>' || (after->>'role') FROM mailroom.audit WHERE action = 'user.update' AND object = 'user:$new_id'")" \
	"agent>lead" "  with before and after"
is "$(sql_admin "SELECT (after->>'inbox') || ' ' || (before->>'member') || '>' || (after->>'member') FROM mailroom.audit WHERE action = 'user.inbox' AND object = 'user:$new_id'")" \
	"$ib1 false>true" "  user.inbox audited"
is "$(get /users "$AC")" 200 "the list again"
like "$(cat "$T_TMP/page.html")" "<tr data-id=\"$new_id\">.*<td class=\"role\">lead</td><td class=\"active\">yes</td><td class=\"totp\">no</td><td class=\"inboxes\">$ib1</td>" \
	"  shows role, active, second factor and inboxes"
is "$(get "/users/$new_id" "$AC")" 200 "the edit page again"
like "$(cat "$T_TMP/page.html")" "<input type=\"checkbox\" name=\"inbox\" value=\"$ib1\" checked>" "  the inbox is ticked"
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "role=lead" "active=1" "inbox=$ib2")" 303 \
	"one inbox off, another on"
is "$(sql_admin "SELECT string_agg(inbox, ',') FROM mailroom.inbox_members WHERE user_id = $new_id")" "$ib2" "  stored"
is "$(audits user.inbox "user:$new_id")" 3 "  each change audited"
is "$(audits user.update "user:$new_id")" 1 "  nothing else changed, no user.update row"
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "role=lead" "active=1" "inbox=nosuch@example.com")" 400 \
	"an unknown inbox is 400"
is "$(sql_admin "SELECT string_agg(inbox, ',') FROM mailroom.inbox_members WHERE user_id = $new_id")" "$ib2" "  and changes nothing"
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "role=boss" "active=1")" 400 "a bad role is 400"
is "$(post "/users/999999999" "$AC" "csrf=$edit_csrf" "name=X" "role=agent" "active=1")" 404 "an unknown user is 404"
is "$(get "/users/0$new_id" "$AC")" 404 "a malformed id is 404"
is "$(get "$(printf '/users/%s' "1'%20OR%201=1")" "$AC")" 404 "SQL as an id is 404"
is "$(get / "$NC")" 200 "the new user's session works"
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "role=lead" "inbox=$ib2")" 303 "disable the user"
is "$(sql_admin "SELECT active FROM mailroom.users WHERE id = $new_id")" f "  stored"
is "$(get / "$NC")" 303 "  the disabled user's session has ended"
web_sign_in "$new" "$npw"; is "$ST" 401 "  and they cannot sign in"
is "$(post "/users/$new_id" "$AC" "csrf=$edit_csrf" "name=New Name" "role=lead" "active=1" "inbox=$ib2")" 303 "enable again"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$new'" >/dev/null

# 4. reset
web_sign_in "$new" "$npw"; is "$ST" 303 "the user signs in again"
NC=$SC
is "$(post "/users/$new_id/reset" "$AC" "csrf=$reset_csrf")" 200 "admin sets a new password"
npw2=$(new_password "$T_TMP/post.html")
like "$npw2" '^[2-9a-km-zA-HJ-NP-Z]{24}$' "  shown once"
isnt "$npw2" "$npw" "  a different one"
is "$(get / "$NC")" 303 "  the user's session has ended"
web_sign_in "$new" "$npw"; is "$ST" 401 "  the old password fails"
web_sign_in "$new" "$npw2"; is "$ST" 303 "  the new one signs in"
is "$(audits user.reset "user:$new_id")" 1 "  user.reset audited"
is "$(post "/users/$new_id/reset" "$AC" "csrf=$edit_csrf")" 403 "reset with the edit form's token is 403"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$new'" >/dev/null

# 5. no self-demotion
is "$(get "/users/$adm_id" "$AC")" 200 "the admin's own page"
is "$(post "/users/$adm_id" "$AC" "csrf=$edit_csrf" "name=Admin $tok" "role=agent" "active=1")" 409 \
	"an admin cannot demote themself"
like "$(cat "$T_TMP/post.html")" "cannot take away their own admin role" "  a clear message"
is "$(post "/users/$adm_id" "$AC" "csrf=$edit_csrf" "name=Admin $tok" "role=admin")" 409 "nor disable themself"
is "$(sql_admin "SELECT role || ' ' || active FROM mailroom.users WHERE id = $adm_id")" "admin true" "  still an active admin"
is "$(audits user.update "user:$adm_id")" 0 "  nothing audited"
is "$(post "/users/$adm_id" "$AC" "csrf=$edit_csrf" "name=Admin Renamed $tok" "role=admin" "active=1")" 303 \
	"but may change their own name"

# 6. no secrets in the trail
hashes=$(sql_admin "SELECT string_agg(password_hash, ' ') FROM mailroom.user_credentials WHERE user_id = $new_id")
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE object = 'user:$new_id' AND (coalesce(before::text, '') || coalesce(after::text, '')) SIMILAR TO '%($npw|$npw2|argon2)%'")" 0 \
	"no password or hash in the user's audit rows"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE (coalesce(before::text, '') || coalesce(after::text, '')) LIKE '%$npw2%' OR (coalesce(before::text, '') || coalesce(after::text, '')) LIKE '%${hashes:40:20}%'")" 0 \
	"nor anywhere in the trail"
is "$(sql_admin "SELECT count(*) || ' ' || count(*) FILTER (WHERE actor = '$adm') FROM mailroom.audit WHERE object = 'user:$new_id' AND action LIKE 'user.%'")" \
	"8 8" "the user's eight changes (add, 3 updates, 3 inboxes, reset), each audited as the admin's"

# 7. TOTP set-up (as the agent)
is "$(get /account "$GC")" 200 "GET /account"
page=$(cat "$T_TMP/page.html")
like "$page" '<dd class="login">'"$agt"'</dd>' "  the login"
like "$page" '<dd class="totp">off</dd>' "  no second factor"
like "$page" '<dd class="calendar">none</dd>' "  no calendar feed"
start_csrf=$(csrf_of totp-start)
is "$(post /account/totp "$GC" "csrf=$(csrf_of users-add)")" 403 "start without the right token is 403"
is "$(post /account/totp "$GC" "csrf=$start_csrf")" 200 "start"
cp "$T_TMP/post.html" "$T_TMP/enrol.html"
page=$(cat "$T_TMP/enrol.html")
like "$page" '<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 [0-9]+ [0-9]+"' "an inline SVG QR code"
like "$page" '<path fill="#000" d="M4 4h7v1h-7z' "  its finder pattern in the top left corner"
unlike "$page" 'style=' "  no style attribute"
size=$(sed -n 's/.*<svg class="qr"[^>]* viewBox="0 0 \([0-9]*\) .*/\1/p' "$T_TMP/enrol.html")
is "$(((size - 8 - 17) % 4))" 0 "  a QR code's size (17 + 4 x version, quiet zone 4)"
secret=$(sed -n 's/.*<code class="totp-secret">\([A-Z2-7]*\)<\/code>.*/\1/p' "$T_TMP/enrol.html")
is "${#secret}" 32 "the key as base32 text"
if command -v zbarimg >/dev/null; then
	# the SVG's rectangles painted into a greyscale image, read by zbar
	python3 - "$T_TMP/enrol.html" "$T_TMP/qr.pgm" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
n = int(re.search(r'<svg class="qr"[^>]* viewBox="0 0 (\d+) ', page).group(1))
dark = [[0] * n for _ in range(n)]
for x, y, w in re.findall(r'M(\d+) (\d+)h(\d+)v1h-\d+z', re.search(r'<path fill="#000" d="([^"]*)"', page).group(1)):
    for i in range(int(w)):
        dark[int(y)][int(x) + i] = 1
s = 6
with open(sys.argv[2], "w") as f:
    f.write("P2\n%d %d\n255\n" % (n * s, n * s))
    for y in range(n * s):
        f.write(" ".join("0" if dark[y // s][x // s] else "255" for x in range(n * s)) + "\n")
PY
	is "$(zbarimg -q --raw "$T_TMP/qr.pgm" 2>/dev/null)" \
		"otpauth://totp/mailroom:$agt?secret=$secret&issuer=mailroom&algorithm=SHA1&digits=6&period=30" \
		"the QR code reads as the otpauth URI of the key shown"
else
	skip "zbarimg is missing (apt-get install zbar-tools)" 1
fi
pending=$(sed -n 's/.*name="pending" value="\([0-9a-f]*\)".*/\1/p' "$T_TMP/enrol.html")
is "${#pending}" 136 "the sealed key in the form"
unlike "$pending" "$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex())' "$secret")" "  not readable"
confirm_csrf=$(csrf_of totp-confirm "$T_TMP/enrol.html")
like "$page" '<form method="post" action="[^"]*/account/totp/confirm" id="totp-confirm">' "the form #totp-confirm"
like "$page" '<input name="code"' "  with a field code"
is "$(sql_admin "SELECT count(*) FROM mailroom.user_credentials WHERE user_id = $agt_id AND totp_secret IS NOT NULL")" 0 \
	"nothing stored yet"
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$pending" "code=$(web_totp "$secret" 10)")" 400 \
	"a wrong code is refused"
like "$(cat "$T_TMP/post.html")" 'That code is not right.*<svg class="qr"' "  and the form shown again"
bad=${pending:0:100}$([[ ${pending:100:1} == 0 ]] && echo 1 || echo 0)${pending:101}
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$bad" "code=$(web_totp "$secret")")" 400 \
	"an altered sealed key is refused"
like "$(cat "$T_TMP/post.html")" "This set-up form was changed.*Start again" "  with a message"
web_sign_in "$agt" "$pw"; is "$ST" 303 "the agent signs in a second time"
GC2=$SC
is "$(post /account/totp/confirm "$GC2" "csrf=$(csrf_for "$GC2" totp-confirm)" "pending=$pending" "code=$(web_totp "$secret")")" 400 \
	"the sealed key of another session is refused"
like "$(cat "$T_TMP/post.html")" "This set-up form was changed.*Start again" "  with a message"
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=" "code=$(web_totp "$secret")")" 400 \
	"no sealed key is refused"
is "$(sql_admin "SELECT count(*) FROM mailroom.user_credentials WHERE user_id = $agt_id AND totp_secret IS NOT NULL")" 0 \
	"still nothing stored"
code=$(web_totp "$secret")
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$pending" "code=$code")" 303 "the right code"
is "$(sql_admin "SELECT encode(totp_secret, 'hex') FROM mailroom.user_credentials WHERE user_id = $agt_id")" \
	"$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex())' "$secret")" "stores the key shown"
is "$(audits user.totp "user:$agt_id")" 1 "user.totp audited"
is "$(sql_admin "SELECT (before->>'totp') || '>' || (after->>'totp') FROM mailroom.audit WHERE action = 'user.totp' AND object = 'user:$agt_id'")" \
	"false>true" "  as on/off only"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE (coalesce(before::text, '') || coalesce(after::text, '')) LIKE '%$secret%'")" 0 \
	"  without the key"
is "$(get /account "$GC")" 200 "the account page"
like "$(cat "$T_TMP/page.html")" '<dd class="totp">on</dd>' "  says the second factor is on"
web_sign_in "$agt" "$pw"; is "$ST" 401 "sign-in without a code now fails"
web_sign_in "$agt" "$pw" "$code"; is "$ST" 401 "the confirming code cannot sign in"
web_sign_in "$agt" "$pw" "$(web_totp "$secret" 1)"; is "$ST" 303 "the next code signs in"
GC=$SC
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$agt'" >/dev/null
is "$(get /users "$AC")" 200 "the users list"
like "$(cat "$T_TMP/page.html")" "<tr data-id=\"$agt_id\">.*<td class=\"totp\">yes</td>" "  shows the second factor"

# replacing it needs the password
hexkey() { python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex())' "$1"; }
is "$(get /account "$GC")" 200 "the account page"
is "$(post /account/totp "$GC" "csrf=$(csrf_of totp-start)")" 200 "start again to replace the key"
cp "$T_TMP/post.html" "$T_TMP/enrol2.html"
like "$(cat "$T_TMP/enrol2.html")" '<input type="password" name="password"' "  the form asks for the password"
secret2=$(sed -n 's/.*<code class="totp-secret">\([A-Z2-7]*\)<\/code>.*/\1/p' "$T_TMP/enrol2.html")
pending2=$(sed -n 's/.*name="pending" value="\([0-9a-f]*\)".*/\1/p' "$T_TMP/enrol2.html")
isnt "$secret2" "$secret" "  a new key"
confirm_csrf=$(csrf_of totp-confirm "$T_TMP/enrol2.html")
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$pending2" "code=$(web_totp "$secret2")")" 403 \
	"the right code without the password is refused"
like "$(cat "$T_TMP/post.html")" "The password is not right" "  as a wrong password"
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$pending2" "password=wrong password" "code=$(web_totp "$secret2")")" 403 \
	"  and with a wrong password"
like "$(cat "$T_TMP/post.html")" "The password is not right" "  with a message"
is "$(sql_admin "SELECT encode(totp_secret, 'hex') FROM mailroom.user_credentials WHERE user_id = $agt_id")" "$(hexkey "$secret")" \
	"  the old key stays"
is "$(post /account/totp/confirm "$GC" "csrf=$confirm_csrf" "pending=$pending2" "password=$pw" "code=$(web_totp "$secret2")")" 303 \
	"the password and the right code replace it"
is "$(sql_admin "SELECT encode(totp_secret, 'hex') FROM mailroom.user_credentials WHERE user_id = $agt_id")" "$(hexkey "$secret2")" \
	"  with the new key"
is "$(audits user.totp "user:$agt_id")" 2 "  audited"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$agt'" >/dev/null

# turning it off
is "$(get /account "$GC")" 200 "the account page"
off_csrf=$(csrf_of totp-off)
is "${#off_csrf}" 64 "  with the form #totp-off"
is "$(post /account/totp/off "$GC" "csrf=$off_csrf" "password=wrong password")" 403 "off with a wrong password is refused"
like "$(cat "$T_TMP/post.html")" "The password is not right" "  with a message"
is "$(sql_admin "SELECT count(*) FROM mailroom.user_credentials WHERE user_id = $agt_id AND totp_secret IS NOT NULL")" 1 \
	"  still on"
is "$(sql_admin "SELECT count(*) FROM mailroom.login_failures WHERE login = '$agt'")" 1 \
	"  and counts as a failed sign-in"
sql_admin "INSERT INTO mailroom.login_failures (login, addr) SELECT '$agt', '192.0.2.1' FROM generate_series(1, 5)" >/dev/null
is "$(post /account/totp/off "$GC" "csrf=$off_csrf" "password=$pw")" 429 "throttled like sign-in, even with the password"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$agt'" >/dev/null
is "$(post /account/totp/off "$GC" "csrf=$off_csrf" "password=$pw")" 303 "off with the password"
is "$(sql_admin "SELECT count(*) FROM mailroom.user_credentials WHERE user_id = $agt_id AND totp_secret IS NOT NULL")" 0 \
	"  the key is gone"
is "$(audits user.totp "user:$agt_id")" 3 "  audited"
web_sign_in "$agt" "$pw"; is "$ST" 303 "the password alone signs in again"

is "$(asan_reports)" "" "no sanitizer reports"
done_testing
