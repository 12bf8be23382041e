#!/bin/bash
# run-golden.sh - run mailroom.cgi as a web server would, once per case,
# and compare status, headers and body with tests/cgi/<case>.golden.
#
# A case is <case>.env (one VAR=value per line: the CGI environment) and
# optionally <case>.body (stdin). Volatile parts are normalised before the
# comparison: 64-digit hex tokens become <HEX64>. None of these cases
# reaches the database; those that do are in tests/integration/96-web-signin.sh.
# MAILROOM_GOLDEN_UPDATE=1 rewrites the golden files from the output.
set -u
src=${top_srcdir:-.}/tests/cgi
cgi=${top_builddir:-.}/webui-cgi/mailroom.cgi
conf=${top_srcdir:-.}/conf/mailroom.conf
cases=("$src"/*.env)
echo "1..$((${#cases[@]} * 2))"
n=0
for envf in "${cases[@]}"; do
	name=$(basename "$envf" .env)
	body=$src/$name.body
	[[ -f $body ]] || body=/dev/null
	mapfile -t vars < <(grep -v '^#' "$envf")
	raw=$(env -i PATH="$PATH" MAILROOM_CONF="$conf" "${vars[@]}" "$cgi" < "$body" 2>/dev/null; echo "rc=$?")
	# every header line ends in CR LF, up to the empty line
	head_part=${raw%%$'\r\n\r\n'*}
	n=$((n + 1))
	if [[ $head_part != "$raw" ]] && ! grep -qv $'\r$' <<<"$head_part"$'\r'; then
		echo "ok $n - $name: headers end in CR LF"
	else
		echo "not ok $n - $name: headers end in CR LF"
	fi
	got=$(printf '%s\n' "$raw" | tr -d '\r' | sed -E 's/[0-9a-f]{64}/<HEX64>/g')
	n=$((n + 1))
	if [[ ${MAILROOM_GOLDEN_UPDATE:-0} == 1 ]]; then
		printf '%s\n' "$got" > "$src/$name.golden"
	fi
	if [[ -f $src/$name.golden ]] && diff -u "$src/$name.golden" <(printf '%s\n' "$got") > /tmp/golden.$$ 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' /tmp/golden.$$
	fi
	rm -f /tmp/golden.$$
done
