#!/usr/bin/env bash
# 99b-web-browser.sh - the web pages in a real browser: Debian's Chromium
# driven by playwright-core (tests/browser/*.mjs, node's test runner),
# against the running stack's lighttpd, PostgreSQL and Postfix.
#
# Each browser test becomes one TAP result here (tests/browser/reporter.mjs
# writes them as lines this script reads). Screenshots of the inbox, a
# conversation and the phone layout, and of every page open when a test
# failed (with its HTML), go to .run/artefacts/browser/ (MAILROOM_ARTEFACTS).
#
# Needs /usr/bin/chromium (Debian package chromium), node and
# tests/browser/node_modules (npm ci in tests/browser); ./dev.sh test
# installs all three. Without them the file is skipped, saying which is
# missing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$top_srcdir/tests/browser
CHROMIUM=${MAILROOM_CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || skip_all "no Chromium at $CHROMIUM (apt-get install chromium; ./dev.sh test installs it)"
command -v node >/dev/null || skip_all "node is not installed (apt-get install nodejs; ./dev.sh test installs it)"
[[ -f $BROWSER_DIR/node_modules/playwright-core/package.json ]] ||
	skip_all "playwright-core is not installed: (cd tests/browser && npm ci); ./dev.sh test does it"
require_stack
[[ -n ${MAILROOM_URL:-} ]] || bail "MAILROOM_URL is not set: ./dev.sh up starts lighttpd"
[[ -n ${MAILROOM_SMTP:-} ]] || bail "MAILROOM_SMTP is not set"
command -v swaks >/dev/null || bail "swaks is missing (apt-get install swaks)"

export MAILROOM_ARTEFACTS=${MAILROOM_ARTEFACTS:-$MR_RUN/artefacts/browser}
export top_srcdir top_builddir MAILROOM_URL MAILROOM_SMTP MAILROOM_CONF
mkdir -p "$MAILROOM_ARTEFACTS"
diag "Chromium: $("$CHROMIUM" --version 2>/dev/null | head -1), node $(node --version)" \
	"screenshots: $MAILROOM_ARTEFACTS"

# run_file FILE - one test file of tests/browser; its results as TAP
run_file() {
	local file=$1 out rc=0 kind name rest n_before=$T_COUNT fails=$T_FAILED
	out=$T_TMP/$(basename "$1" .mjs).out
	(cd "$BROWSER_DIR" && timeout 600 node --test --test-reporter=./reporter.mjs "$file") >"$out" 2>&1 || rc=$?
	while IFS=$'\t' read -r kind name rest; do
		case $kind in
		ok) pass "$(basename "$file" .mjs): $name" ;;
		fail) fail "$(basename "$file" .mjs): $name" ;;
		skip) skip "$(basename "$file" .mjs): $name: $rest" ;;
		diag) diag "  ${name}${rest:+ $rest}" ;;
		*) [[ -n $kind ]] && diag "  $kind${name:+ $name}${rest:+ $rest}" ;;
		esac
	done <"$out"
	# A file that died before reporting must not pass silently.
	if ((rc != 0 && T_FAILED == fails)); then
		fail "$(basename "$file" .mjs): node exited with status $rc" "$(tail -n 20 "$out")"
	elif ((T_COUNT == n_before)); then
		fail "$(basename "$file" .mjs): no test ran" "$(tail -n 20 "$out")"
	fi
}

for f in "$BROWSER_DIR"/[a-z]*.mjs; do
	case $(basename "$f") in
	lib.mjs | reporter.mjs) continue ;;
	esac
	run_file "$f"
done

files=$(find "$MAILROOM_ARTEFACTS" -maxdepth 1 -name '*.png' -newer "$T_MARK" -printf '%f ' 2>/dev/null)
diag "screenshots of this run: ${files:-none}"
done_testing
