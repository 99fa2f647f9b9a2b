#!/bin/sh
# torture.sh — the kill -9 campaign (`make torture`, not part of `make test`):
# tests/integration/crash_loop.test.mjs with CC_CRASH_CYCLES cycles (20 by
# default) against $CC_BIN (build/certcontacts), then its figures:
# acknowledged writes and how many were lost, notifications, how many never
# arrived, duplicates sent and shown. Exits non-zero when the test fails.
set -u
cd "$(dirname "$0")/.."
CC_BIN=${CC_BIN:-$PWD/build/certcontacts}
CYCLES=${CC_CRASH_CYCLES:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
CC_BIN="$CC_BIN" CC_CRASH_CYCLES="$CYCLES" \
  node --test --test-concurrency=1 --test-reporter=tap tests/integration/crash_loop.test.mjs >"$out" 2>&1
rc=$?
figures=$(sed -n 's/^# *crash-loop: //p' "$out")
if [ "$rc" -ne 0 ] || [ -z "$figures" ]; then
  cat "$out"
  echo "torture: FAILED"
  exit 1
fi
echo "torture: $figures"
