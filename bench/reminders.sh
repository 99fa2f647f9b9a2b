#!/bin/sh
# bench/reminders.sh — the expiry reminder scheduler, run by bench/run.sh
# (or alone after make):
#   idle CPU   a server holding BENCH_REMINDER_CERTS [100000] certificates
#              whose next reminders are all weeks away: utime+stime of the
#              whole process (/proc/PID/stat) over BENCH_IDLE_SECONDS [5]
#              seconds; the scheduler sleeps until the earliest one, so this
#              must be ~0;
#   raise      BENCH_REMINDER_DUE [10000] of them made due at once, each with
#              a subscriber, the server restarted: the time from its launch
#              (start-up included) until the outbox holds a notification for
#              every reminder (batches of CC_REMINDER_BATCH per transaction).
# The certificates are seeded with direct SQL into the stopped server's
# database file (sqlite3). The one subscriber has a verified email; email
# goes to a closed local port, so deliveries fail fast and stay in the outbox.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BIN=$ROOT/build/certcontacts
LIBCC=$ROOT/build/libcc.a
CERTS=${BENCH_REMINDER_CERTS:-100000}
DUE=${BENCH_REMINDER_DUE:-10000}
IDLE=${BENCH_IDLE_SECONDS:-5}
[ "$DUE" -le "$CERTS" ] || DUE=$CERTS
NAME=bench-reminders
. bench/common.sh
need sqlite3 sqlite3
need curl curl

D=$T/reminders
DB=$D/data/certcontacts.db
SERVE_ARGS="--listen 127.0.0.1:0 --smtp-url smtp://127.0.0.1:9 --dispatcher-threads 1"

serve() {
    # shellcheck disable=SC2086
    "$BIN" serve --data-dir "$D/data" $SERVE_ARGS >"$D/stdout" 2>"$D/stderr" &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
    await_server "$D"
}

ticks() { # utime + stime of a process, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}

mkdir -p "$D"
if ! serve; then
    cannot "reminders" "the server did not start"
    exit 1
fi
AUTH="$kid:$ksecret"
# the subscriber: a contact whose email is verified below
curl -fsS -u "$AUTH" -H 'Content-Type: application/json' \
    -d '{"name":"Bench","email":"bench@example.com","mobile":"13800138000"}' "http://127.0.0.1:$PORT/v1/contacts" >"$D/contact.json" ||
    { cannot "reminders" "creating the subscriber failed"; exit 1; }
stop_pid "$SRV_PID"

NOW=$(($(date +%s) * 1000))
t0=$(date +%s.%N)
# every certificate expires 40 to 339 days from now: its next reminder (the
# 30-day point) is at least 10 days away
sqlite3 "$DB" <<EOF || { cannot "reminders" "seeding failed"; exit 1; }
PRAGMA foreign_keys = ON;
UPDATE contacts SET email_verified_at = $NOW;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $CERTS)
INSERT INTO certificates(account_id, common_name, domains, not_after, created_at, updated_at)
SELECT 1, 'b' || x || '.example.com', json_array('b' || x || '.example.com'),
       $NOW + (40 + x % 300) * 86400000, $NOW, $NOW FROM n;
INSERT INTO certificate_domains(certificate_id, domain, account_id)
SELECT id, common_name, 1 FROM certificates;
INSERT INTO certificate_reminders(certificate_id, account_id, next_reminder_at, raised_at)
SELECT id, 1, not_after - 30 * 86400000, 0 FROM certificates;
COMMIT;
EOF
seed_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "reminders: seeded $CERTS certificates in $seed_s s (sqlite3, server stopped)"

# ---- idle ------------------------------------------------------------------------
if serve; then
    sleep 1
    a=$(ticks "$SRV_PID")
    sleep "$IDLE"
    b=$(ticks "$SRV_PID")
    hz=$(getconf CLK_TCK)
    echo "reminders: idle server with $CERTS certificates, nothing due: $((b - a)) ticks of CPU in $IDLE s ($(awk -v t=$((b - a)) -v hz="$hz" -v s="$IDLE" 'BEGIN { printf "%.2f", 100 * t / hz / s }')% of one core; target ~0: $(awk -v t=$((b - a)) 'BEGIN { print (t <= 2) ? "met" : "MISSED" }'))"
    stop_pid "$SRV_PID"
else
    cannot "reminders idle" "the server did not start"
fi

# ---- DUE reminders at once -------------------------------------------------------
NOW=$(($(date +%s) * 1000))
sqlite3 "$DB" <<EOF || { cannot "reminders" "making reminders due failed"; exit 1; }
BEGIN;
UPDATE certificates SET not_after = $NOW + 5 * 86400000 WHERE id <= $DUE;
UPDATE certificate_reminders SET next_reminder_at = $NOW - 1000 WHERE certificate_id <= $DUE;
INSERT INTO certificate_subscribers(certificate_id, contact_id)
SELECT id, (SELECT min(id) FROM contacts) FROM certificates WHERE id <= $DUE;
COMMIT;
EOF
COUNT="SELECT count(*) FROM notifications n JOIN events e ON e.id = n.event_id WHERE e.type = 'certificate.expiring'"
# timed from the launch: the scheduler starts raising before the server logs
# "listening", so the start-up (its database check included) is counted in
t0=$(date +%s.%N)
if serve; then
    n=0
    i=0
    while [ "$n" -lt "$DUE" ] && [ $i -lt 1200 ]; do
        n=$(sqlite3 "$DB" "PRAGMA busy_timeout = 2000; $COUNT" 2>/dev/null | tail -n 1)
        [ -n "$n" ] || n=0
        [ "$n" -ge "$DUE" ] || sleep 0.1
        i=$((i + 1))
    done
    took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    if [ "$n" -ge "$DUE" ]; then
        echo "reminders: $DUE due at once (of $CERTS): in the outbox $took s after the server was started (start-up included) ($(awk -v n="$DUE" -v s="$took" 'BEGIN { printf "%.0f", n / s }') reminders/s, batches of 500 per transaction)"
    else
        cannot "reminders raise" "only $n of $DUE reminders in the outbox after $took s"
    fi
    stop_pid "$SRV_PID"
else
    cannot "reminders raise" "the server did not start"
fi
exit $FAILED
