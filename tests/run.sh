#!/bin/sh
# run.sh — every suite `make test` runs: unit tests (cmocka), integration
# tests against the real binary (node:test) and the scan of every server log
# line they wrote (tests/logscan.mjs), a short fuzz run, then the unit and
# integration suites (and the scan) again with ASan+UBSan. Ends with one line
# "N passed, N failed" and exits non-zero when anything failed.
#
# Both database backends run the whole suites: a throwaway PostgreSQL
# (scripts/pg-test.sh, Debian's server as an unprivileged user on loopback)
# is started first. The unit tests run on SQLite and on PostgreSQL; the
# integration suite runs on SQLite with the plain build and on PostgreSQL
# with the sanitizer build (so the newer backend runs under ASan+UBSan and
# LeakSanitizer). CC_TEST_MATRIX=full runs the integration suite on both
# backends with both builds.
set -u
cd "$(dirname "$0")/.."
PASS=0
FAIL=0
LOG=build/test-logs
mkdir -p "$LOG"

# Each heading says when its step began, in seconds since the run did: the
# run's whole time is what a CI's limit is held against.
T0=$(date +%s)
note() { printf '\n== %s (at %d s)\n' "$*" "$(($(date +%s) - T0))"; }

# count_tap FILE: adds the "ok"/"not ok" lines of a cmocka TAP stream (a case
# cmocka skips is "not ok N # SKIP name": neither passed nor failed).
count_tap() {
  p=$(grep -cE '^ok [0-9]+' "$1"); f=$(grep -E '^not ok [0-9]+' "$1" | grep -vc '^not ok [0-9]* # SKIP')
  PASS=$((PASS + p)); FAIL=$((FAIL + f))
  echo "  $p passed, $f failed"
}

# count_node FILE: adds node's TAP summary.
count_node() {
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -n 1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -n 1)
  PASS=$((PASS + ${p:-0})); FAIL=$((FAIL + ${f:-0}))
  echo "  ${p:-0} passed, ${f:-0} failed"
}

unit() { # unit BUILD_DIR [PG_URL]
  for t in "$1"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out="$LOG/$(basename "$1")${2:+-pg}-$name.tap"
    CC_TEST_PG="${2:-}" CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$out" 2>&1
    rc=$?
    printf '%s:' "$name"
    count_tap "$out"
    if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$out"; then
      echo "  $name exited $rc without a failing case (crash or sanitizer report):"
      tail -n 30 "$out"
      FAIL=$((FAIL + 1))
    elif [ $rc -ne 0 ]; then
      grep -E -A5 '^not ok' "$out" | head -n 40
    fi
  done
}

integration() { # integration BIN TAG [PG_URL [TEST_FILE...]] (no file: every one)
  bin=$1 tag=$2 pg=${3:-}
  shift 2; [ $# -gt 0 ] && shift
  out="$LOG/integration-$tag.tap"
  logs="$LOG/server-$tag"
  rm -rf "$logs"
  [ $# -eq 0 ] && set -- tests/integration/
  CC_TEST_PG="$pg" CC_SERVER_LOGS="$logs" CC_BIN="$bin" node --test --test-concurrency=1 --test-reporter=tap "$@" > "$out" 2>&1
  rc=$?
  printf 'integration (%s):' "$tag"
  count_node "$out"
  if [ $rc -ne 0 ]; then
    grep -E -B2 -A25 '^ *not ok' "$out" | head -n 200
    if ! grep -qE '^# fail [1-9]' "$out"; then FAIL=$((FAIL + 1)); fi
  fi
  logscan "$logs" "$tag"
}

# logscan DIR TAG: every server log line the suite kept is JSON, and none
# holds a full mobile, email, ID number, robot token or secret.
logscan() {
  out="$LOG/logscan-$2.tap"
  node tests/logscan.mjs "$1" > "$out" 2>&1
  rc=$?
  printf 'log scan (%s):' "$2"
  count_tap "$out"
  grep -E -A41 '^not ok' "$out" | head -n 120
  if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$out"; then
    tail -n 20 "$out"; FAIL=$((FAIL + 1))
  fi
}

# Test tooling from npm (tests/package.json, pinned by its lock file).
if [ ! -d tests/node_modules/playwright-core ] || [ ! -d tests/node_modules/@alicloud/cas20200407 ]; then
  if ! npm ci --prefix tests --no-audit --no-fund >"$LOG/npm.txt" 2>&1; then
    cat "$LOG/npm.txt"; echo "0 passed, 1 failed"; exit 1
  fi
fi

note "build"
if ! make -s all unit >"$LOG/build.txt" 2>&1; then
  cat "$LOG/build.txt"; echo "0 passed, 1 failed"; exit 1
fi
note "PostgreSQL (scripts/pg-test.sh)"
PGDIR=$(mktemp -d /tmp/cc-pg-XXXXXX)
trap 'sh scripts/pg-test.sh stop "$PGDIR"; rm -rf "$PGDIR"' EXIT
if PG=$(sh scripts/pg-test.sh start "$PGDIR" 0 fast 2>"$LOG/pg.txt"); then
  echo "  $PG"
else
  cat "$LOG/pg.txt"; PG=""; FAIL=$((FAIL + 1))
fi
note "unit tests (SQLite)"
unit build
if [ -n "$PG" ]; then
  note "unit tests (PostgreSQL)"
  unit build "$PG"
  note "schema: SQLite and PostgreSQL alike"
  rm -rf "$LOG/schema" && mkdir -p "$LOG/schema"
  sh scripts/pg-test.sh createdb "$PG" cc_schema
  build/certcontacts migrate --data-dir "$LOG/schema" >"$LOG/schema.txt" 2>&1
  build/certcontacts migrate --data-dir "$LOG/schema" --db "${PG}cc_schema" >>"$LOG/schema.txt" 2>&1
  python3 tests/schema_compare.py "$LOG/schema/certcontacts.db" "${PG}cc_schema" > "$LOG/schema.tap" 2>&1
  printf 'schema:'
  count_tap "$LOG/schema.tap"
  grep -E -A20 '^not ok' "$LOG/schema.tap" | head -n 60
  grep -qE '^ok' "$LOG/schema.tap" || { cat "$LOG/schema.txt" "$LOG/schema.tap"; FAIL=$((FAIL + 1)); }
fi
note "layer rules (includes and calls)"
python3 tests/layers.py build > "$LOG/layers.tap" 2>&1
printf 'layers:'
count_tap "$LOG/layers.tap"
grep -E -A40 '^not ok' "$LOG/layers.tap" | grep -E '^(not ok|#)' | head -n 60
note "message catalog (po/zh_CN.po)"
sh scripts/catalog.sh check > "$LOG/catalog.tap" 2>&1
printf 'catalog:'
count_tap "$LOG/catalog.tap"
grep -E -A40 '^not ok' "$LOG/catalog.tap" | head -n 60
note "integration tests (SQLite)"
integration build/certcontacts plain
if [ "${CC_TEST_MATRIX:-}" = full ] && [ -n "$PG" ]; then
  note "integration tests (PostgreSQL)"
  integration build/certcontacts plain-pg "$PG"
fi
note "fuzzing (${FUZZ_SECONDS:=10} s a target)"
if FUZZ_SECONDS=$FUZZ_SECONDS sh tests/fuzz/run.sh > "$LOG/fuzz.txt" 2>&1; then :; fi
p=$(grep -c ': ok$' "$LOG/fuzz.txt"); f=$(grep -c ': FAILED$' "$LOG/fuzz.txt")
[ "$p$f" = "00" ] && { f=1; tail -n 20 "$LOG/fuzz.txt"; }
grep -E ': (ok|FAILED)$' "$LOG/fuzz.txt"
PASS=$((PASS + p)); FAIL=$((FAIL + f))

note "sanitizer build (ASan + UBSan)"
if ! make -s SANITIZE=1 all unit >"$LOG/build-asan.txt" 2>&1; then
  cat "$LOG/build-asan.txt"; FAIL=$((FAIL + 1))
else
  export ASAN_OPTIONS="detect_leaks=1:exitcode=23:abort_on_error=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  note "unit tests (sanitizers, SQLite)"
  unit build-asan
  if [ -n "$PG" ]; then
    note "unit tests (sanitizers, PostgreSQL)"
    unit build-asan "$PG"
  fi
  if [ -n "$PG" ]; then
    note "integration tests (sanitizers, PostgreSQL)"
    integration build-asan/certcontacts asan-pg "$PG"
    # what only SQLite does: a contact's create waits for the writer's
    # commit with its request suspended (cc_req_suspend), not on the pool
    note "integration tests (sanitizers, SQLite: the creates that wait without a thread)"
    integration build-asan/certcontacts asan-sqlite-creates "" tests/integration/create_wait.test.mjs \
      tests/integration/crud.test.mjs tests/integration/idempotency.test.mjs \
      tests/integration/restart.test.mjs tests/integration/crash.test.mjs
  fi
  if [ "${CC_TEST_MATRIX:-}" = full ] || [ -z "$PG" ]; then
    note "integration tests (sanitizers, SQLite)"
    integration build-asan/certcontacts asan
  fi
fi

echo
echo "all suites: $(($(date +%s) - T0)) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
