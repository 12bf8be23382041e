#!/usr/bin/env bash
# 96-web-signin.sh - sign-in to the web pages through lighttpd and
# mailroom.cgi, with curl, against the running stack.
#
# 1. GET /login: the form and every security header.
# 2. Sign-in with a password: a __Host- cookie (Secure, HttpOnly,
#    SameSite=Strict), only the token's SHA-256 in the database, the home
#    page naming the user with the name's markup escaped, audited.
# 3. Sign-out: refused without, with a wrong, or from another origin's
#    CSRF token; with the right one the session row is gone and the old
#    cookie no longer works.
# 4. Wrong passwords: after web.login_max_failures failures even the right
#    password is refused (429); failures are audited. Then the same per
#    client address (web.addr_max_failures), with the CGI run directly.
#    A hash weaker than today's limits is replaced at sign-in.
# 5. TOTP (code computed here with python's hmac): no code and a wrong code
#    are refused, the right code works once, the same code again is refused.
# 6. Idle and absolute session expiry; disable and reset end sessions.
# 7. SQL and script injection in every parameter is inert.
# 8. Role separation: the worker cannot read credentials or sessions.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack

require_web
command -v argon2 >/dev/null || bail "the argon2 command is missing (apt-get install argon2)"
ctlq() { ctl "$@" >/dev/null; }
URL=$WEB_URL
ORIGIN=$WEB_ORIGIN
BASE=$WEB_BASE

tok=$(date +%s)$$
ann=ann$tok
bob=bob$tok
pw='correct horse battery staple'
at_exit "sql_admin \"DELETE FROM mailroom.users WHERE login IN ('$ann', '$bob'); DELETE FROM mailroom.login_failures WHERE login LIKE '%$tok%' OR addr = '127.0.0.1'\" >/dev/null"
sql_admin "DELETE FROM mailroom.login_failures WHERE addr = '127.0.0.1'" >/dev/null

printf '%s\n' "$pw" > "$T_TMP/pw"
ok "user add with --password-file" \
	ctlq user add "$ann" --name "<script>alert(1)</script> O'Neil \"&\"" --role agent --password-file "$T_TMP/pw"
ok "user add with the password on stdin" \
	bash -c "printf '%s\n' '$pw' | '$CTL' -c '$MAILROOM_CONF' user add '$bob' --password-file - >/dev/null"
is "$(printf 'short\n' | ctl user reset "$bob" --password-file - 2>&1)" \
	"mailroomctl: a password needs at least 10 characters" "a short password is refused"

# home COOKIE - GET / with a session cookie; prints the status
home() {
	curl -s -o "$T_TMP/home.html" -w '%{http_code}' -H "Cookie: __Host-mailroom=$1" "$URL/"
}

# sessions COOKIE - how many session rows the cookie's token has
sessions() {
	sql_admin "SELECT count(*) FROM mailroom.web_sessions WHERE token_hash = sha256(decode('$1', 'hex'))"
}

# 1. the form and the headers
web_login_form
hdr=$(tr -d '\r' < "$T_TMP/lf.hdr")
like "$hdr" "Content-Security-Policy: default-src 'none'.*frame-ancestors 'none'" "CSP without inline script"
like "$hdr" "X-Frame-Options: DENY" "X-Frame-Options"
like "$hdr" "X-Content-Type-Options: nosniff" "nosniff"
like "$hdr" "Referrer-Policy: same-origin" "Referrer-Policy"
like "$hdr" "Cache-Control: no-store" "Cache-Control"
like "$hdr" "Permissions-Policy: camera=()" "Permissions-Policy"
like "$hdr" "Set-Cookie: __Host-mailroom-login=[0-9a-f]{64}; Path=/; Secure; HttpOnly; SameSite=Strict" "login cookie"
is "$LF" "$LC" "the form carries the login cookie's value"
like "$(cat "$T_TMP/lf.html")" "action=\"$BASE/login\"" "the form posts under the script's path"

# 2. sign-in with a password
web_sign_in "$ann" "$pw"; is "$ST" 303 "the right password signs in"
like "$(tr -d '\r' < "$T_TMP/si.hdr")" "Location: $BASE/" "redirected home"
like "$(tr -d '\r' < "$T_TMP/si.hdr")" "Set-Cookie: __Host-mailroom=[0-9a-f]{64}; Path=/; Secure; HttpOnly; SameSite=Strict" \
	"session cookie with __Host-, Secure, HttpOnly, SameSite=Strict"
ann_cookie=$SC
is "$(sessions "$ann_cookie")" 1 "the database holds the token's SHA-256"
is "$(sql_admin "SELECT count(*) FROM mailroom.web_sessions WHERE encode(token_hash, 'hex') = '$ann_cookie'")" 0 \
	"and not the token itself"
is "$(home "$ann_cookie")" 200 "home page with the session"
page=$(cat "$T_TMP/home.html")
like "$page" "&lt;script&gt;alert\(1\)&lt;/script&gt; O&#39;Neil &quot;&amp;&quot;" "the user's name, escaped"
unlike "$page" "<script>" "no script from the name"
csrf=$(sed -n '/action="[^"]*\/logout"/{n;s/.*name="csrf" value="\([0-9a-f]\{64\}\)".*/\1/p;}' "$T_TMP/home.html")
is "${#csrf}" 64 "the sign-out form has a CSRF token"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'web.signin' AND actor = 'web:$ann'")" 1 \
	"sign-in audited"
is "$(home "$(printf '0%.0s' {1..64})")" 303 "a made-up cookie gives the sign-in page"
web_sign_in "$ann" "$pw"; is "$ST" 303 "a second sign-in"
is "$([[ $SC != "$ann_cookie" ]] && echo new)" new "gets a new token"
ann_cookie2=$SC

# 3. sign-out
logout() { # COOKIE CSRF [ORIGIN]
	curl -s -o /dev/null -D "$T_TMP/lo.hdr" -w '%{http_code}' -H "Origin: ${3:-$ORIGIN}" -H "Cookie: __Host-mailroom=$1" \
		--data-urlencode "csrf=$2" "$URL/logout"
}
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom=$ann_cookie" \
	-d x=1 "$URL/logout")" 403 "sign-out without a CSRF token is refused"
is "$(logout "$ann_cookie" "$(printf 'a%.0s' {1..64})")" 403 "sign-out with a wrong CSRF token is refused"
is "$(logout "$ann_cookie2" "$csrf")" 403 "another session's CSRF token is refused"
is "$(logout "$ann_cookie" "$csrf" "https://evil.example")" 403 "a cross-origin sign-out is refused"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Sec-Fetch-Site: cross-site" -H "Cookie: __Host-mailroom=$ann_cookie" \
	--data-urlencode "csrf=$csrf" "$URL/logout")" 403 "a cross-site sign-out is refused"
is "$(sessions "$ann_cookie")" 1 "the session survived the refused sign-outs"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$ann_cookie" "$URL/logout")" 405 \
	"GET /logout changes nothing (405)"
is "$(logout "$ann_cookie" "$csrf")" 303 "sign-out with the right token"
like "$(tr -d '\r' < "$T_TMP/lo.hdr")" "Set-Cookie: __Host-mailroom=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" \
	"the cookie is cleared"
is "$(sessions "$ann_cookie")" 0 "the session row is gone"
is "$(home "$ann_cookie")" 303 "the old cookie no longer works"
is "$(home "$ann_cookie2")" 200 "the other session still works"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'web.signout' AND actor = 'web:$ann'")" 1 \
	"sign-out audited"

# 4. throttling
max=5
for i in $(seq 1 $max); do
	web_sign_in "$bob" "wrong password $i"; code=$ST
	[[ $code == 401 ]] || break
done
is "$code" 401 "$max wrong passwords give 401"
like "$(cat "$T_TMP/si.html")" "Sign-in failed." "a plain failure message"
web_sign_in "$bob" "$pw"; is "$ST" 429 "then even the right password is refused"
is "$SC" "" "and no session cookie is set"
is "$(sql_admin "SELECT count(*) FROM mailroom.audit WHERE action = 'web.signin.fail' AND actor = 'web:$bob'")" $max \
	"failures audited"
web_sign_in "nosuch$tok" "$pw"; is "$ST" 401 "an unknown login fails like a wrong password"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$bob'" >/dev/null
web_sign_in "$bob" "$pw"; is "$ST" 303 "after the window the right password works"

# 4b. throttling by client address: mailroom.cgi run directly, as a web
# server would, with web.addr_max_failures = 3 and a documentation address
conf3=$T_TMP/addr3.conf
sed '/^web = {/a\  addr_max_failures = 3;' "$MAILROOM_CONF" > "$conf3"
at_exit "sql_admin \"DELETE FROM mailroom.login_failures WHERE addr = '192.0.2.77'\" >/dev/null"
cgi_login() { # LOGIN PASSWORD - POST /login from 192.0.2.77; prints the status line
	local body="csrf=$(printf '7%.0s' {1..64})&login=$1&password=$2"
	printf '%s' "$body" | env -i PATH="$PATH" MAILROOM_CONF="$conf3" REQUEST_METHOD=POST PATH_INFO=/login \
		HTTP_HOST=cgi.example HTTP_ORIGIN=http://cgi.example REMOTE_ADDR=192.0.2.77 \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=${#body} \
		HTTP_COOKIE="__Host-mailroom-login=$(printf '7%.0s' {1..64})" "$top_builddir/webui-cgi/mailroom.cgi" |
		sed -n '1s/\r$//p'
}
for i in 1 2 3; do
	is "$(cgi_login "nosuch$i$tok" wrong)" "Status: 401 Unauthorized" "failure $i from one address"
done
is "$(cgi_login "other$tok" wrong)" "Status: 429 Too Many Requests" "then any login from that address is refused"
is "$(sql_admin "SELECT count(*) FROM mailroom.login_failures WHERE addr = '192.0.2.77'")" 3 \
	"a refused attempt is not a new failure row"

# 4c. rehash: a hash made with weaker limits than today's (by the argon2
# command, not libsodium) still signs in, and is replaced by one with
# today's limits
weak=$(printf '%s' "$pw" | argon2 "salt$tok" -id -t 1 -m 12 -p 1 -e)
like "$weak" '^\$argon2id\$v=19\$m=4096,t=1,p=1\$' "a weak Argon2id hash"
sql_admin "UPDATE mailroom.user_credentials SET password_hash = '$weak' WHERE user_id = (SELECT id FROM mailroom.users WHERE login = '$bob')" >/dev/null
web_sign_in "$bob" "$pw"; is "$ST" 303 "the weak hash still signs in"
now_hash=$(sql_admin "SELECT password_hash FROM mailroom.user_credentials WHERE user_id = (SELECT id FROM mailroom.users WHERE login = '$bob')")
isnt "$now_hash" "$weak" "and is replaced at sign-in"
like "$now_hash" '^\$argon2id\$v=19\$m=65536,t=2,p=1\$' "by one with the interactive limits"
web_sign_in "$bob" "$pw"; is "$ST" 303 "the new hash signs in"

# 5. TOTP
uri=$(ctl user totp "$ann")
like "$uri" "^otpauth://totp/mailroom:$ann\?secret=[A-Z2-7]{32}&issuer=mailroom" "user totp prints an otpauth URI"
secret=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' <<<"$uri")
web_sign_in "$ann" "$pw"; is "$ST" 401 "with a second factor, the password alone fails"
web_sign_in "$ann" "$pw" "$(web_totp "$secret" 5)"; is "$ST" 401 "a code from another time fails"
code=$(web_totp "$secret")
web_sign_in "$ann" "$pw" "$code"; is "$ST" 303 "password and code sign in"
web_sign_in "$ann" "$pw" "$code"; is "$ST" 401 "the same code again is refused (replay)"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$ann'" >/dev/null

# 6. expiry, disable, reset
web_sign_in "$bob" "$pw"; is "$ST" 303 "bob signs in"
bc=$SC
sql_admin "UPDATE mailroom.web_sessions SET last_seen = now() - interval '31 minutes' WHERE token_hash = sha256(decode('$bc', 'hex'))" >/dev/null
is "$(home "$bc")" 303 "a session idle longer than web.session_idle_minutes has ended"
web_sign_in "$bob" "$pw"; is "$ST" 303 "bob signs in again"
bc=$SC
sql_admin "UPDATE mailroom.web_sessions SET created_at = now() - interval '13 hours' WHERE token_hash = sha256(decode('$bc', 'hex'))" >/dev/null
is "$(home "$bc")" 303 "a session older than web.session_max_hours has ended, however busy"
web_sign_in "$bob" "$pw"; is "$ST" 303 "bob signs in again"
bc=$SC
newpw=$(ctl user reset "$bob" | sed -n 's/^password for [^:]*: //p')
is "${#newpw}" 24 "user reset prints a new random password"
is "$(sessions "$bc")" 0 "user reset ends the sessions"
web_sign_in "$bob" "$pw"; is "$ST" 401 "the old password no longer works"
web_sign_in "$bob" "$newpw"; is "$ST" 303 "the new one does"
bc=$SC
ok "user disable" ctlq user disable "$bob"
is "$(home "$bc")" 303 "a disabled user's session has ended"
web_sign_in "$bob" "$newpw"; is "$ST" 401 "a disabled user cannot sign in"
sql_admin "DELETE FROM mailroom.login_failures WHERE login = '$bob'" >/dev/null

# 7. injection in every parameter
before=$(sql_admin "SELECT count(*) FROM mailroom.users")
for evil in "' OR '1'='1' --" "<script>alert(1)</script>" "\"><img src=x onerror=alert(1)>" "$ann'; DROP TABLE mailroom.users; --"; do
	web_sign_in "$evil" "$evil" "$evil"; is "$ST" 401 "login/password/code $evil: refused"
	unlike "$(cat "$T_TMP/si.html")" "<script>alert|<img src=x" "  and not echoed as markup"
	web_login_form
	is "$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H "Cookie: __Host-mailroom-login=$LC" \
		--data-urlencode "csrf=$evil" --data-urlencode "login=$ann" --data-urlencode "password=$pw" "$URL/login")" 403 \
		"  as the CSRF token: refused"
	is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: __Host-mailroom=$evil" "$URL/")" 303 "  as the cookie: not signed in"
	like "$(curl -s -o /dev/null -w '%{http_code}' --get --data-urlencode "q=$evil" "$URL/login")" "^(200|303)$" \
		"  in the query: harmless"
done
is "$(sql_admin "SELECT count(*) FROM mailroom.users")" "$before" "no user was added or removed"
is "$(sql_admin "SELECT count(*) FROM mailroom.login_failures WHERE login = left('$ann''; DROP TABLE mailroom.users; --', 64)")" 1 \
	"the odd login was stored as text"

# 8. roles
isnt "$(psql -X -q -A -t -U mailroom_worker -c 'SELECT count(*) FROM mailroom.user_credentials' 2>&1)" 1 \
	"the worker cannot read credentials"
like "$(psql -X -q -A -t -U mailroom_worker -c 'SELECT count(*) FROM mailroom.web_sessions' 2>&1)" "permission denied" \
	"the worker cannot read sessions"
like "$(psql -X -q -A -t -U mailroom_web -c "UPDATE mailroom.users SET role = 'admin'" 2>&1)" "permission denied" \
	"the web role cannot change roles"
like "$(psql -X -q -A -t -U mailroom_web -c "INSERT INTO mailroom.user_credentials (user_id) VALUES (1)" 2>&1)" \
	"permission denied" "the web role cannot add credentials"

is "$(asan_reports)" "" "no sanitizer reports"
done_testing
