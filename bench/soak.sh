#!/bin/sh
# bench/soak.sh — the soak test behind `make soak` (which builds first; not
# part of `make test`).
#
# One certcontacts server on SQLite, SOAK_CONTACTS contacts seeded through the
# store (bench/seed.c), SOAK_ROBOTS contacts with one WeCom robot each sent to
# a local receiver (bench/receiver.c). Then for SOAK_SECONDS a steady mix at
# about SOAK_RATE requests/s (bench/soak.lua: wrk, one thread, SOAK_CONNS
# connections, each waiting between requests; Debian has no wrk2): half
# detail reads with a readonly key, a fifth searches, a fifth contact
# creations, a tenth events. The load runs in windows of SOAK_WINDOW_S
# ("minutes"), one wrk run each, and a line per window gives its rate, p99
# and errors; the server's RSS is sampled every SOAK_SAMPLE_S, a line each.
#
# Verdicts, one line per criterion ("met"/"MISSED"):
#   RSS flat     the samples after warm-up (the first 2 samples are warm-up)
#                stay within 10% of each other (max <= 1.10 x min);
#   p99 stable   the largest window p99 is at most twice the smallest;
#   no errors    every answer 2xx, no socket error, no notification failed,
#                and the server has nothing left pending 30 s after the load.
#
# Knobs (defaults in brackets): SOAK_SECONDS [600], SOAK_SAMPLE_S [30],
# SOAK_WINDOW_S [60], SOAK_RATE [100], SOAK_CONNS [10], SOAK_CONTACTS [10000],
# SOAK_ROBOTS [120], BENCH_KEEP=1 keeps the temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BIN=$ROOT/build/certcontacts
LIBCC=$ROOT/build/libcc.a
SECS=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE_S:-30}
WINDOW=${SOAK_WINDOW_S:-60}
RATE=${SOAK_RATE:-100}
SCONNS=${SOAK_CONNS:-10}
NCONTACTS=${SOAK_CONTACTS:-10000}
NROBOTS=${SOAK_ROBOTS:-120}
WARMUP_SAMPLES=2

T0=$(date +%s)
NAME=soak
. bench/common.sh
need wrk wrk
need curl curl
need gcc gcc
need base64 coreutils
need python3 python3

build receiver -lmicrohttpd
# shellcheck disable=SC2086
build seed "$LIBCC" $LIBS

rss_mb() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

verdict() {
    awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"
}

# api METHOD PATH [BODY]: the admin key's request; prints the answer's body.
api() {
    if [ -n "${3:-}" ]; then
        curl -s --max-time 10 -X "$1" -H "Authorization: Basic $AUTH" \
            -H 'Content-Type: application/json' -d "$3" "http://127.0.0.1:$PORT$2"
    else
        curl -s --max-time 10 -H "Authorization: Basic $AUTH" "http://127.0.0.1:$PORT$2"
    fi
}

total() { # notifications with status $1
    api GET "/v1/notifications?status=$1&page_size=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

# p99 of a wrk --latency output in ms
wrk_p99() {
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
        printf "%.2f", v * f }' "$1"
}

echo "machine: $(nproc) cores ($(uname -m), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), $(awk '/^MemTotal:/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the receiver and the server ---------------------------------------------------
start_receiver --threads 2

S=$T/server
mkdir -p "$S"
CERTCONTACTS_WECOM_BASE_URL=http://127.0.0.1:$RPORT \
    "$BIN" serve --data-dir "$S/data" --listen 127.0.0.1:0 \
    --max-contacts-per-account 2000000 --max-connections-per-address 1000000 \
    >"$S/stdout" 2>>"$S/stderr" &
SRV_PID=$!
PIDS="$PIDS $SRV_PID"
if ! await_server "$S" || [ -z "$kid" ]; then
    echo "soak: certcontacts did not start or printed no admin key" >&2
    exit 1
fi
AUTH=$(printf '%s:%s' "$kid" "$ksecret" | base64 | tr -d '\n')

# ---- data: seeded contacts, a readonly key, the robots' contacts ----------------------
if ! "$BB/seed" --db "sqlite:$S/data/certcontacts.db" --count "$NCONTACTS" --seed 11 >"$T/seed.txt" 2>&1; then
    echo "soak: seeding failed: $(tail -n 1 "$T/seed.txt")" >&2
    exit 1
fi
api POST /v1/keys '{"role":"readonly"}' >"$T/rokey.json"
rid=$(sed -n 's/.*"key":{"id":"\([^"]*\)".*/\1/p' "$T/rokey.json")
rsec=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/rokey.json")
if [ -z "$rid" ] || [ -z "$rsec" ]; then
    echo "soak: no readonly key: $(head -c 300 "$T/rokey.json")" >&2
    exit 1
fi
RAUTH=$(printf '%s:%s' "$rid" "$rsec" | base64 | tr -d '\n')
ROBOTS=""
r=1
while [ $r -le "$NROBOTS" ]; do
    id=$(api POST /v1/contacts "{\"name\":\"Soak Robot $r\",\"mobile\":\"197$(printf %08d "$r")\",\"webhooks\":[{\"url\":\"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=soak-$r\"}]}" |
        sed -n 's/^{"id":\([0-9]*\).*/\1/p')
    [ -n "$id" ] || {
        echo "soak: creating robot contact $r failed" >&2
        exit 1
    }
    ROBOTS="$ROBOTS${ROBOTS:+,}$id"
    r=$((r + 1))
done
echo "soak: $(tail -n 1 "$T/seed.txt"); $NROBOTS contacts with one WeCom robot each at a local receiver"
echo "load: bench/soak.lua, wrk -t1 -c$SCONNS, about $RATE req/s (each connection waits $((SCONNS * 1000 / RATE)) ms before each request): 50% GET /v1/contacts/{id} (readonly key), 20% keyword search, 20% POST /v1/contacts, 10% POST /v1/events; $SECS s in windows of $WINDOW s; RSS every $SAMPLE s, the first $WARMUP_SAMPLES samples are warm-up"

# ---- RSS sampler -----------------------------------------------------------------
(
    k=1
    while [ $((k * SAMPLE)) -le "$SECS" ]; do
        sleep "$SAMPLE"
        m=$(rss_mb "$SRV_PID")
        echo "$k $m" >>"$T/rss"
        w=""
        [ "$k" -le "$WARMUP_SAMPLES" ] && w=" (warm-up)"
        echo "sample $k at $((k * SAMPLE)) s: RSS $m MB$w"
        k=$((k + 1))
    done
) &
SPID=$!
PIDS="$PIDS $SPID"

# ---- the load, window by window ------------------------------------------------------
: >"$T/windows"
elapsed=0 w=1 ERRS=0
while [ "$elapsed" -lt "$SECS" ]; do
    d=$WINDOW
    [ $((elapsed + d)) -gt "$SECS" ] && d=$((SECS - elapsed))
    CC_AUTH=$AUTH CC_RAUTH=$RAUTH CC_SOAK_RATE=$RATE CC_SOAK_CONNS=$SCONNS \
        CC_SOAK_CONTACTS=$NCONTACTS CC_SOAK_ROBOTS=$ROBOTS \
        wrk -t1 -c"$SCONNS" -d"${d}s" --timeout 10s --latency -s bench/soak.lua \
        "http://127.0.0.1:$PORT" >"$T/wrk-$w.txt" 2>&1
    rate=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' "$T/wrk-$w.txt")
    p99=$(wrk_p99 "$T/wrk-$w.txt")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$T/wrk-$w.txt")
    sockerr=$(sed -n 's/^ *Socket errors: //p' "$T/wrk-$w.txt")
    note=""
    [ -n "$non2xx" ] && note="; $non2xx answers not 2xx" && ERRS=$((ERRS + non2xx))
    [ -n "$sockerr" ] && note="$note; socket errors: $sockerr" && ERRS=$((ERRS + 1))
    if [ -z "$rate" ] || [ -z "$p99" ]; then
        cannot "window $w" "wrk: $(tail -n 3 "$T/wrk-$w.txt")"
        ERRS=$((ERRS + 1))
    else
        echo "$w $p99" >>"$T/windows"
        echo "window $w ($((elapsed))-$((elapsed + d)) s): ${rate} req/s, p99 $p99 ms$note"
        fig "soak p99 window $w" "$p99" "" ms ""
    fi
    elapsed=$((elapsed + d))
    w=$((w + 1))
done
wait "$SPID" 2>/dev/null
PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$SPID" | tr '\n' ' ')

# ---- deliveries settle -------------------------------------------------------------
i=0
while [ $i -lt 300 ]; do
    pending=$(total pending)
    [ "${pending:-1}" = 0 ] && break
    sleep 0.1
    i=$((i + 1))
done
failed=$(total failed)
delivered=$(total delivered)
messages=$(curl -s --max-time 5 "http://127.0.0.1:$RPORT/stats" | awk '{ print $2 }')
echo "deliveries: ${delivered:-?} notifications delivered, ${failed:-?} failed, ${pending:-?} pending 30 s after the load at most; the receiver got ${messages:-?} messages"

# ---- verdicts --------------------------------------------------------------------------
rss=$(awk -v w="$WARMUP_SAMPLES" '$1 > w { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2; n++ }
    END { if (n) printf "%s %s %d", min, max, n }' "$T/rss" 2>/dev/null)
if [ -n "$rss" ]; then
    # shellcheck disable=SC2086 # min, max, count: split on purpose
    set -- $rss
    echo "verdict RSS flat: $3 samples after warm-up, $1 to $2 MB (target max <= 1.10 x min: $(verdict "$2 <= 1.10 * $1"))"
    fig "soak RSS growth after warm-up" "$(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b / a }')" 1.10 "x" max
else
    echo "verdict RSS flat: MISSED (no sample after the $WARMUP_SAMPLES warm-up samples: run longer than $((SAMPLE * WARMUP_SAMPLES)) s)"
fi
p=$(awk '{ if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2; n++ } END { if (n) printf "%s %s %d", min, max, n }' "$T/windows")
if [ -n "$p" ]; then
    # shellcheck disable=SC2086
    set -- $p
    echo "verdict p99 stable: $3 windows, p99 $1 to $2 ms (target max <= 2 x min: $(verdict "$2 <= 2 * $1"))"
else
    echo "verdict p99 stable: MISSED (no window measured)"
fi
bad=$((ERRS + ${failed:-1}))
[ "${pending:-1}" = 0 ] || bad=$((bad + 1))
echo "verdict no errors: $ERRS request errors, ${failed:-?} notifications failed, ${pending:-?} pending ($(verdict "$bad == 0"))"
fig "soak errors" "$bad" 0 "" max
echo "soak took $(($(date +%s) - T0)) s"
exit $FAILED
