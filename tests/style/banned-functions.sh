#!/bin/sh
# banned-functions.sh - no C file of ours calls a function that invites
# overflows or silent errors. Use snprintf, memcpy with a checked length,
# strtol/strtoul with end checks, strtok_r.
top=${top_srcdir:-.}
banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|atoll|gets|tmpnam|mktemp'
n=0
echo "1..1"
hits=$(cd "$top" && grep -nE "(^|[^_a-zA-Z0-9.>])($banned)[[:space:]]*\(" \
	lib/*.c lib/*.h milter/*.c milter/*.h ctl/*.c ctl/*.h tests/unit/*.c tests/unit/*.h fuzz/*.c bench/*.c 2>/dev/null)
if [ -n "$hits" ]; then
	echo "not ok 1 - banned functions used:"
	echo "$hits" | sed 's/^/# /'
	exit 1
fi
echo "ok 1 - no banned function in our C sources"
