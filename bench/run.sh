#!/bin/sh
# bench/run.sh — the benchmark behind `make bench` (which builds first).
#
# Measures, in one run on this machine, two floors and certcontacts against
# them, and prints one line per figure with its ratio and target:
#   floor A   a bare libmicrohttpd server (bench/floor_mhd.c) with the
#             server's threading options and a fixed 400-byte JSON body;
#   GET       /v1/contacts/{id} with HTTP Basic over keep-alive, vs floor A;
#   floor B   durable single-row SQLite commits/s (bench/floor_sqlite.c);
#   POST      /v1/contacts with distinct bodies, 64 connections, durable
#             (synchronous=full, the default), vs floor B;
#   search    p50/p99 of keyword search in one account of 1 000 000 contacts
#             seeded through the store (bench/seed.c), keywords of 1, 2, 3
#             and 8 characters, Latin and Chinese (bench/latency.c);
#   RSS       of the server idle after start and after the load;
#   reminders the scheduler's idle CPU with 100 000 certificates, and the
#             time to raise 10 000 reminders due at once (bench/reminders.sh).
# See bench/README.md for what each figure means.
#
# Every server runs in a fresh temporary directory on 127.0.0.1 and is
# stopped on exit; the directory is removed. A figure that misses its target
# is reported, never fatal: the script exits 0 unless a step could not run.
#
# Environment knobs (defaults in brackets): BENCH_CONTACTS [1000000],
# BENCH_SECONDS per wrk run [8], BENCH_SEARCH_SECONDS per keyword [4],
# BENCH_THREADS wrk threads [2], BENCH_KEEP=1 keeps the temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BIN=$ROOT/build/certcontacts
LIBCC=$ROOT/build/libcc.a
CONTACTS=${BENCH_CONTACTS:-1000000}
DUR=${BENCH_SECONDS:-8}
SDUR=${BENCH_SEARCH_SECONDS:-4}
WT=${BENCH_THREADS:-2}
CONNS=64
SERVER_THREADS=4 # certcontacts' default --threads; floor A uses the same

T0=$(date +%s)
NAME=bench
. bench/common.sh
need wrk wrk
need gcc gcc
need base64 coreutils

# ---- build the floors and helpers ----------------------------------------------------
build floor_mhd -lmicrohttpd
build floor_sqlite -lsqlite3
build latency
# shellcheck disable=SC2086
build seed "$LIBCC" $LIBS

# ---- helpers ---------------------------------------------------------------------

# start_server DIR: starts certcontacts on a free port with its data in
# DIR/data; sets SRV_PID, PORT, AUTH (base64 of the admin key id:secret).
start_server() {
    d=$1
    mkdir -p "$d"
    "$BIN" serve --data-dir "$d/data" --listen 127.0.0.1:0 --threads "$SERVER_THREADS" \
        --max-contacts-per-account 2000000 --max-connections-per-address 1000000 >"$d/stdout" 2>>"$d/stderr" &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
    await_server "$d" || return 1
    if [ -z "$kid" ] || [ -z "$ksecret" ]; then
        echo "bench: certcontacts printed no admin key" >&2
        return 1
    fi
    AUTH=$(printf '%s:%s' "$kid" "$ksecret" | base64 | tr -d '\n')
    return 0
}

rss_mb() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# run_wrk OUT CONNS SECONDS URL [SCRIPT]: sets RATE (req/s) and NOTE
# (non-2xx answers and socket errors, if any).
run_wrk() {
    out=$1 c=$2 s=$3 url=$4 script=${5:-}
    if [ -n "$script" ]; then
        CC_AUTH=$AUTH wrk -t"$WT" -c"$c" -d"${s}s" --timeout 10s -s "$script" "$url" >"$out" 2>&1
    else
        wrk -t"$WT" -c"$c" -d"${s}s" --timeout 10s "$url" >"$out" 2>&1
    fi
    RATE=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    NOTE=""
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    sockerr=$(sed -n 's/^ *Socket errors: //p' "$out")
    [ -n "$non2xx" ] && NOTE="$NOTE; $non2xx answers not 2xx"
    [ -n "$sockerr" ] && NOTE="$NOTE; socket errors: $sockerr"
    [ -n "$RATE" ]
}

ratio() { # value floor → "0.61"
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

verdict() { # condition-as-awk-expression → "met" or "MISSED"
    awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"
}

echo "machine: $(nproc) cores ($(uname -m), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), $(awk '/^MemTotal:/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "load: wrk -t$WT from a second process on 127.0.0.1, ${DUR} s per run after a 1 s warm-up; servers use $SERVER_THREADS HTTP threads"

# ---- floor A and GET ---------------------------------------------------------------
"$BB/floor_mhd" --threads "$SERVER_THREADS" >"$T/floor_mhd.out" 2>&1 &
FA=$!
PIDS="$PIDS $FA"
i=0
FPORT=""
while [ -z "$FPORT" ] && [ $i -lt 50 ]; do
    FPORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$T/floor_mhd.out")
    [ -n "$FPORT" ] || sleep 0.1
    i=$((i + 1))
done
FLOOR_A=""
if [ -z "$FPORT" ]; then
    cannot "floor A (bare libmicrohttpd, 400 B)" "$(cat "$T/floor_mhd.out")"
else
    run_wrk "$T/wrk-floorA-warm.txt" "$CONNS" 1 "http://127.0.0.1:$FPORT/v1/contacts/500" >/dev/null
    if run_wrk "$T/wrk-floorA.txt" "$CONNS" "$DUR" "http://127.0.0.1:$FPORT/v1/contacts/500"; then
        FLOOR_A=$RATE
        echo "floor A (bare libmicrohttpd, 400 B, $CONNS connections): $FLOOR_A req/s$NOTE"
    else
        cannot "floor A" "wrk: $(tail -n 3 "$T/wrk-floorA.txt")"
    fi
fi
stop_pid "$FA"

S1=$T/server
IDLE_RSS=""
if start_server "$S1"; then
    sleep 1
    IDLE_RSS=$(rss_mb "$SRV_PID")
    # 1 000 contacts through the store while the server runs, to GET one of
    "$BB/seed" --db "sqlite:$S1/data/certcontacts.db" --count 1000 --seed 7 >"$T/seed-small.txt" 2>&1 ||
        cannot "GET /v1/contacts/{id}" "seeding: $(tail -n 1 "$T/seed-small.txt")"
    : >"$S1/stderr" # the request log: opened for appending, so it can be emptied
    run_wrk "$T/wrk-get-warm.txt" "$CONNS" 1 "http://127.0.0.1:$PORT/v1/contacts/500" bench/get.lua >/dev/null
    if run_wrk "$T/wrk-get.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/v1/contacts/500" bench/get.lua; then
        if [ -n "$FLOOR_A" ]; then
            r=$(ratio "$RATE" "$FLOOR_A")
            echo "GET /v1/contacts/{id}, Basic auth, keep-alive, $CONNS connections: $RATE req/s = ${r}x floor A (target >= 0.5x: $(verdict "$r >= 0.5"))$NOTE"
        else
            echo "GET /v1/contacts/{id}, Basic auth, keep-alive, $CONNS connections: $RATE req/s (no floor A)$NOTE"
        fi
    else
        cannot "GET /v1/contacts/{id}" "wrk: $(tail -n 3 "$T/wrk-get.txt")"
    fi
    : >"$S1/stderr"

    # ---- floor B and POST ----------------------------------------------------------
    mkdir -p "$T/floorB"
    FLOOR_B=""
    if "$BB/floor_sqlite" "$T/floorB/floor.db" 5 >"$T/floorB.txt" 2>&1; then
        FLOOR_B=$(awk '{ print $1; exit }' "$T/floorB.txt")
        echo "floor B (SQLite single-row commits, WAL, synchronous=FULL, same file system): $FLOOR_B commits/s"
    else
        cannot "floor B" "$(cat "$T/floorB.txt")"
    fi
    rm -rf "$T/floorB"
    if run_wrk "$T/wrk-post.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/v1/contacts" bench/post.lua; then
        if [ -n "$FLOOR_B" ]; then
            r=$(ratio "$RATE" "$FLOOR_B")
            echo "POST /v1/contacts, $CONNS connections, durable: $RATE req/s = ${r}x floor B (target >= 1.0x: $(verdict "$r >= 1.0"))$NOTE"
        else
            echo "POST /v1/contacts, $CONNS connections, durable: $RATE req/s (no floor B)$NOTE"
        fi
    else
        cannot "POST /v1/contacts" "wrk: $(tail -n 3 "$T/wrk-post.txt")"
    fi
    sleep 1
    LOAD_RSS=$(rss_mb "$SRV_PID")
    echo "RSS idle after start: ${IDLE_RSS:-?} MB; after load: ${LOAD_RSS:-?} MB (target < 16 MB idle: $(verdict "${IDLE_RSS:-999} < 16"))"
    stop_pid "$SRV_PID"
else
    cannot "GET, POST and RSS" "the server did not start"
fi

# ---- search over a seeded account --------------------------------------------------
if [ "$CONTACTS" -ge 1000000 ] && [ $((CONTACTS % 1000000)) -eq 0 ]; then
    NAME="$((CONTACTS / 1000000))M"
else
    NAME="$CONTACTS"
fi
S2=$T/search
if start_server "$S2"; then
    if "$BB/seed" --db "sqlite:$S2/data/certcontacts.db" --count "$CONTACTS" >"$T/seed.txt" 2>&1; then
        echo "seed: $(tail -n 1 "$T/seed.txt") (through cc_store_write, server running)"
        echo "search: bench/latency.c, 1 keep-alive connection, one request at a time, exact p50/p99 over ${SDUR} s per keyword after a 0.5 s warm-up, page_size 20; a request unanswered 10 s after that is abandoned"
        # keyword|characters|script. Short keywords first: the server cannot
        # stop a query whose client went away, so one abandoned slow query
        # would keep loading the server through every later measurement.
        for spec in "a|1|Latin" "li|2|Latin" "王|1|Chinese" "王伟|2|Chinese" \
            "wei|3|Latin" "liu yang|8|Latin" "王秀英|3|Chinese" "华为技术有限公司|8|Chinese"; do
            kw=${spec%%|*}
            rest=${spec#*|}
            nch=${rest%%|*}
            script=${rest#*|}
            if [ "$nch" -ge 3 ]; then target=5; else target=50; fi
            label="search $NAME contacts, keyword \"$kw\" ($nch char, $script)"
            if "$BB/latency" --port "$PORT" --path "/v1/contacts?page=1&page_size=20" \
                --keyword "$kw" --auth "$AUTH" --seconds "$SDUR" >"$T/lat.txt" 2>"$T/lat.err"; then
                read -r _ n _ p50 _ p99 _ max _ total _ errs _ tmo <"$T/lat.txt"
                extra=""
                [ "$errs" != 0 ] && extra=", $errs answers not 200"
                [ "$total" = -1 ] && total="?"
                [ "$tmo" != 0 ] && extra="$extra, 1 request abandoned after $max ms (counted as $max ms: a lower bound)"
                echo "$label: p50 $p50 ms, p99 $p99 ms (target p99 < $target ms: $(verdict "$p99 < $target")); max $max ms, $n requests, $total matches$extra"
            else
                cannot "$label" "$(tail -n 1 "$T/lat.err")"
            fi
            : >"$S2/stderr"
        done
        echo "RSS after search with $NAME contacts: $(rss_mb "$SRV_PID") MB"
    else
        cannot "search" "seeding: $(tail -n 1 "$T/seed.txt")"
    fi
    stop_pid "$SRV_PID"
else
    cannot "search" "the server did not start"
fi

# ---- expiry reminders: idle cost and a burst of due reminders ------------------------
sh bench/reminders.sh || FAILED=1

echo "bench took $(($(date +%s) - T0)) s"
exit $FAILED
