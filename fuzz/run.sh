#!/usr/bin/env bash
# fuzz/run.sh - build the libFuzzer targets with clang and run each for a
# bounded time (FUZZ_SECONDS, default 20). Exit 1 when a target crashes,
# leaks or trips a sanitizer; its reproducer is left in .run/fuzz/.
#
#   fuzz/run.sh [target...]      targets: record conf mimeparse webreq mailhtml webusers compose multipart (default: all)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
OUT=$ROOT/.run/fuzz
SECONDS_EACH=${FUZZ_SECONDS:-20}
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "fuzz/run.sh: clang not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$OUT"

CFLAGS=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-I"$ROOT/lib" -I"$ROOT/webui-cgi" $(pkg-config --cflags libconfig libsodium gmime-3.0 libxml-2.0))
declare -A SOURCES=(
	[record]="fuzz/fuzz-record.c lib/record.c lib/uuid.c"
	[conf]="fuzz/fuzz-conf.c lib/conf.c lib/netaddr.c lib/bizcal.c lib/deadpolicy.c"
	[mimeparse]="fuzz/fuzz-mimeparse.c lib/mimeparse.c lib/mimeguard.c lib/htmltext.c lib/quote.c lib/utf8.c"
	[webreq]="fuzz/fuzz-webreq.c webui-cgi/request.c lib/utf8.c"
	[mailhtml]="fuzz/fuzz-mailhtml.c webui-cgi/mailhtml.c webui-cgi/escape.c"
	[webusers]="fuzz/fuzz-webusers.c webui-cgi/totpseal.c webui-cgi/userfields.c"
	[multipart]="fuzz/fuzz-multipart.c webui-cgi/multipart.c webui-cgi/request.c webui-cgi/respond.c webui-cgi/escape.c lib/utf8.c"
	[compose]="fuzz/fuzz-compose.c webui-cgi/mailbuild.c webui-cgi/placeholder.c lib/notifymail.c lib/mimeguard.c"
)
declare -A LIBS=(
	[record]="$(pkg-config --libs libsodium)"
	[conf]="$(pkg-config --libs libconfig)"
	[mimeparse]="$(pkg-config --libs gmime-3.0 libxml-2.0 libsodium)"
	[webreq]=""
	[mailhtml]="$(pkg-config --libs libxml-2.0)"
	[webusers]="$(pkg-config --libs libsodium)"
	[multipart]="$(pkg-config --libs gmime-3.0)"
	[compose]="$(pkg-config --libs gmime-3.0 libsodium)"
)

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(record conf mimeparse webreq mailhtml webusers compose multipart)
status=0
for t in "${targets[@]}"; do
	[[ -n ${SOURCES[$t]:-} ]] || { echo "fuzz/run.sh: no target $t" >&2; exit 2; }
	bin=$OUT/fuzz-$t
	srcs=()
	for s in ${SOURCES[$t]}; do srcs+=("$ROOT/$s"); done
	# shellcheck disable=SC2086
	"$CLANG" "${CFLAGS[@]}" "${srcs[@]}" -o "$bin" ${LIBS[$t]}
	corpus=$OUT/corpus-$t
	mkdir -p "$corpus"
	echo "fuzz: $t for ${SECONDS_EACH}s"
	if ! (cd "$OUT" && LSAN_OPTIONS=suppressions=$ROOT/fuzz/lsan.supp "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -max_len=65536 \
		-artifact_prefix="$OUT/crash-$t-" "$corpus" "$ROOT/fuzz/seeds/$t" >"$OUT/$t.log" 2>&1); then
		echo "fuzz: $t FAILED, see $OUT/$t.log" >&2
		tail -30 "$OUT/$t.log" >&2
		status=1
	else
		grep -E '^Done|stat::number_of_executed_units' "$OUT/$t.log" | tail -1 || true
	fi
done
exit $status
