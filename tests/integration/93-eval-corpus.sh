#!/usr/bin/env bash
# 93-eval-corpus.sh - the local model's goals on the shared corpus, through
# `mailroomctl eval` (docs/evaluation.md).
#
#   advertising: spamassassin/spam-1 against easy-ham-1 + hard-ham-1,
#     replayed in Date order: accuracy at least 0.97; the same figures when
#     the labels come as one FOLDER with a sub-folder per label.
#   tickets: tickets/tickets-multi-lang.csv, priority and type each above
#     the always-majority baseline.
# Each example is predicted before it is learnt (progressive validation),
# so every figure is on mail the model had not seen.
#
# Needs neither the stack nor a database; eval runs with a configuration
# file that does not exist to show it reads none. The corpus is not part
# of the project: without it this test is skipped.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

CORPUS=$top_srcdir/../shared/corpus
SA=$CORPUS/spamassassin
TICKETS=$CORPUS/tickets/tickets-multi-lang.csv
[[ -d $SA/spam-1 && -d $SA/easy-ham-1 && -d $SA/hard-ham-1 && -f $TICKETS ]] || skip_all "corpus not present"
CTL=$top_builddir/ctl/mailroomctl

# field JSON EXPR - a value of eval's JSON output (python3 expression over j)
field() {
	python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- advertising -----------------------------------------------------------------

out=$("$CTL" -c /nonexistent/mailroom.conf eval --json --head class --label advertising="$SA/spam-1" \
	--label other="$SA/easy-ham-1" --label other="$SA/hard-ham-1" 2>"$T_TMP/adv.err")
is "$?" 0 "eval of advertising exits 0 without configuration or database"
want=$(($(find "$SA/spam-1" "$SA/easy-ham-1" "$SA/hard-ham-1" -maxdepth 1 -type f ! -name '.*' | wc -l)))
is "$(field "$out" 'j["examples"] + j["skipped"]')" "$want" "every message file is an example or reported"
is "$(field "$out" 'j["skipped"]')" 0 "no message skipped"
diag "advertising: $out"
ok "accuracy at least 0.97 (got $(field "$out" 'j["accuracy"]'))" \
	test "$(field "$out" 'int(j["correct"] * 100 >= j["examples"] * 97)')" = 1
ok "above the majority baseline" test "$(field "$out" 'int(j["accuracy"] > j["baseline"]["accuracy"])')" = 1

# The same collection as FOLDER/LABEL/FILE (symbolic links) gives the same figures.
mkdir -p "$T_TMP/folder/advertising" "$T_TMP/folder/other"
for f in "$SA/spam-1"/*; do ln -s "$f" "$T_TMP/folder/advertising/"; done
for f in "$SA/easy-ham-1"/* "$SA/hard-ham-1"/*; do ln -s "$f" "$T_TMP/folder/other/"; done
out2=$("$CTL" eval --json --head class "$T_TMP/folder" 2>>"$T_TMP/adv.err")
is "$(field "$out2" 'j["correct"], j["examples"]')" "$(field "$out" 'j["correct"], j["examples"]')" \
	"FOLDER with a sub-folder per label gives the same result"

# --- tickets -------------------------------------------------------------------------

for column in priority type; do
	out=$("$CTL" eval --json --head "$column" --csv "$TICKETS" --label-column "$column" \
		--text-columns subject,body 2>"$T_TMP/$column.err")
	is "$?" 0 "eval of tickets by $column exits 0"
	diag "$column: $out"
	ok "$column: accuracy $(field "$out" 'j["accuracy"]') above the baseline $(field "$out" 'j["baseline"]["accuracy"]')" \
		test "$(field "$out" 'int(j["accuracy"] > j["baseline"]["accuracy"])')" = 1
done

# --- usage ---------------------------------------------------------------------------

"$CTL" eval --csv "$TICKETS" >/dev/null 2>"$T_TMP/usage.err"
is "$?" 2 "--csv without --label-column is a usage error"
"$CTL" eval --label only="$SA/spam-1" >/dev/null 2>"$T_TMP/one.err"
is "$?" 1 "a single label is refused"
like "$(cat "$T_TMP/one.err")" "at least two labels" "and says why"

done_testing
