#!/usr/bin/env bash
# 91b-db-batch.sh - db_batch(), the worker's several statements in one
# round trip (libpq pipeline mode), against the stack's PostgreSQL:
# tests/tools/db-batch-check.c prints the TAP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
require_stack
tool=$top_builddir/tests/tools/db-batch-check
[[ -x $tool ]] || bail "$tool not built (make check builds it)"
"$tool" "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=postgres" # its TAP is this test's
exit $?
