#!/bin/sh
# bench/run.sh — the benchmark behind `make bench` (which builds first).
#
# Measures, in one run on this machine, two floors and certcontacts against
# them, and prints one line per figure with its ratio and target:
#   floor A   a bare libmicrohttpd server (bench/floor_mhd.c) with the
#             server's threading options and a fixed 400-byte JSON body;
#   GET       /v1/contacts/{id} with HTTP Basic over keep-alive and a
#             readonly key (masked addresses, no audit write), vs floor A:
#             three pairs (a floor A run, then a GET run), the median ratio;
#   floor B   durable single-row SQLite commits/s (bench/floor_sqlite.c);
#   GET random the same GET of a contact chosen at random among the 1 000
#             each request (bench/get_random.lua), vs floor A, no target:
#             the GET above asks for one contact again and again, which the
#             server keeps rendered while nothing is committed;
#   POST      /v1/contacts with distinct bodies, 64 connections, durable
#             (synchronous=full, the default), vs floor B: three pairs (a
#             floor B run, then a POST run), the median ratio;
#   GET admin the same GET with the admin key: a reveal of the addresses,
#             audited durably (a write per GET), vs the median floor B, no
#             target;
#   search    p50/p99 of keyword search in one account of 1 000 000 contacts
#             seeded through the store (bench/seed.c), keywords of 1, 2, 3
#             and 8 characters, Latin and Chinese (bench/latency.c);
#   RSS       of the server idle after start and after the load;
#   10k conns BENCH_CONNECTIONS keep-alive connections held at once, one
#             request answered on each (bench/conns.c), and the RSS then;
#   start-up  exec to /readyz 200 of the server holding the seeded account,
#             polled every millisecond by one process (bench/until.c), the
#             median of three starts;
#   reminders the scheduler's idle CPU with 100 000 certificates, and the
#             time to raise 10 000 reminders due at once (bench/reminders.sh).
# See bench/README.md for what each figure means.
#
# BENCH_DB=postgres runs the same figures with certcontacts on PostgreSQL: the
# script starts a durable cluster of its own (scripts/pg-test.sh, fsync and
# synchronous_commit on), one database per server, and measures PostgreSQL's
# floors in the same run (bench/floor_pg.c over libpq): floor B-pg, durable
# single-row commits/s on one connection (and on BENCH_PG_CONNS connections,
# where PostgreSQL's group commit helps), the floor of POST; floor C-pg, point
# SELECTs by primary key per second (one and BENCH_PG_CONNS connections).
# It adds the throughput of 1 against 3 instances on one database, and skips
# the reminder figures (bench/reminders.sh seeds with sqlite3).
#
# Every server runs in a fresh temporary directory on 127.0.0.1 and is
# stopped on exit; the directory is removed. A figure that misses its target
# is reported, never fatal: the script exits 0 unless a step could not run.
#
# Environment knobs (defaults in brackets): BENCH_CONTACTS [1000000],
# BENCH_SECONDS per wrk run [8], BENCH_SEARCH_SECONDS per keyword [4],
# BENCH_THREADS wrk threads [2], BENCH_KEEP=1 keeps the temporary directory,
# BENCH_DB sqlite|postgres [sqlite], BENCH_PG_CONNS connections of the
# many-connection PostgreSQL floors [16], BENCH_PG_FLOOR_SECONDS per
# PostgreSQL floor [5], BENCH_CONNECTIONS [10000], BENCH_REPORT [bench/report.html],
# BENCH_PAIRS GET/floor A pairs and starts measured [3].
#
# At exit the figures go to bench/report.html (bench/report.py): a bar per
# figure against its target.

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BIN=$ROOT/build/certcontacts
LIBCC=$ROOT/build/libcc.a
CONTACTS=${BENCH_CONTACTS:-1000000}
DUR=${BENCH_SECONDS:-8}
SDUR=${BENCH_SEARCH_SECONDS:-4}
WT=${BENCH_THREADS:-2}
PAIRS=${BENCH_PAIRS:-3}
CONNS=64
SERVER_THREADS=4 # certcontacts' default --threads; floor A uses the same
DB_KIND=${BENCH_DB:-sqlite}
PG_CONNS=${BENCH_PG_CONNS:-16}
PG_FSECS=${BENCH_PG_FLOOR_SECONDS:-5}
case "$DB_KIND" in
sqlite | postgres) ;;
*)
    echo "bench: BENCH_DB must be sqlite or postgres, not $DB_KIND" >&2
    exit 2
    ;;
esac

T0=$(date +%s)
NAME=bench
. bench/common.sh
need wrk wrk
need gcc gcc
need base64 coreutils
need curl curl
need python3 python3

# The 10k-connections figure needs a descriptor per connection in the client
# and in the server (both inherit this limit): raise the soft limit to the hard.
# shellcheck disable=SC3045 # dash and bash both have ulimit -H -n
HARD_NOFILE=$(ulimit -H -n)
[ "$HARD_NOFILE" = unlimited ] && HARD_NOFILE=1048576
# shellcheck disable=SC3045
ulimit -n "$HARD_NOFILE" 2>/dev/null
HELD=${BENCH_CONNECTIONS:-10000}

# ---- build the floors and helpers ----------------------------------------------------
build floor_mhd -lmicrohttpd
build floor_sqlite -lsqlite3
build latency
build conns
build until -lcurl
# shellcheck disable=SC2086
build seed "$LIBCC" $LIBS
if [ "$DB_KIND" = postgres ]; then
    need psql postgresql-client
    need pg_config libpq-dev
    build floor_pg -isystem "$(pg_config --includedir)" -lpq
fi

# ---- helpers ---------------------------------------------------------------------

# start_instance DIR [DB_URL]: starts certcontacts on a free port (LISTEN:
# on that address) with its data in DIR/data and its database at DB_URL
# (default: SQLite in DIR/data); sets SRV_PID and PORT.
start_instance() {
    launch_instance "$@"
    await_server "$1"
}

# launch_instance DIR [DB_URL]: start_instance without waiting for the server.
launch_instance() {
    d=$1
    mkdir -p "$d"
    listen=${LISTEN:-127.0.0.1:0}
    if [ -n "${2:-}" ]; then set -- --db "$2"; else set --; fi
    "$BIN" serve --data-dir "$d/data" --listen "$listen" --threads "$SERVER_THREADS" \
        --max-contacts-per-account 2000000 --max-connections "$((HELD + 1000))" \
        --max-connections-per-address 1000000 "$@" >"$d/stdout" 2>>"$d/stderr" &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
}

# start_server DIR [DB_URL]: start_instance on a new database, which creates
# the admin key; sets AUTH (base64 of the admin key id:secret) too.
start_server() {
    start_instance "$@" || return 1
    if [ -z "$kid" ] || [ -z "$ksecret" ]; then
        echo "bench: certcontacts printed no admin key" >&2
        return 1
    fi
    AUTH=$(printf '%s:%s' "$kid" "$ksecret" | base64 | tr -d '\n')
    return 0
}

# readonly_key: creates a readonly access key through POST /v1/keys with the
# admin key; sets RAUTH (base64 of its id:secret). The readonly detail view
# masks addresses and writes no audit entry: the read path GET's target is
# about (an admin's view reveals addresses in full and is audited durably).
readonly_key() {
    RAUTH=""
    curl -s --max-time 10 -H "Authorization: Basic $AUTH" -H 'Content-Type: application/json' \
        -d '{"role":"readonly"}' "http://127.0.0.1:$PORT/v1/keys" >"$T/rokey.json" || return 1
    rid=$(sed -n 's/.*"key":{"id":"\([^"]*\)".*/\1/p' "$T/rokey.json")
    rsec=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/rokey.json")
    [ -n "$rid" ] && [ -n "$rsec" ] || return 1
    RAUTH=$(printf '%s:%s' "$rid" "$rsec" | base64 | tr -d '\n')
}

rss_mb() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# run_wrk OUT CONNS SECONDS URL [SCRIPT]: runs wrk with SCRIPT and the key
# WRK_AUTH (default AUTH, the admin key); sets RATE (req/s) and NOTE
# (non-2xx answers and socket errors, if any).
run_wrk() {
    out=$1 c=$2 s=$3 url=$4 script=${5:-}
    if [ -n "$script" ]; then
        CC_AUTH=${WRK_AUTH:-$AUTH} wrk -t"$WT" -c"$c" -d"${s}s" --timeout 10s -s "$script" "$url" >"$out" 2>&1
    else
        wrk -t"$WT" -c"$c" -d"${s}s" --timeout 10s "$url" >"$out" 2>&1
    fi
    wrk_rate "$out"
}

# wrk_rate OUT: RATE and NOTE from wrk's output in OUT; 1 when it has no rate.
wrk_rate() {
    out=$1
    RATE=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    NOTE=""
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    sockerr=$(sed -n 's/^ *Socket errors: //p' "$out")
    [ -n "$non2xx" ] && NOTE="$NOTE; $non2xx answers not 2xx"
    [ -n "$sockerr" ] && NOTE="$NOTE; socket errors: $sockerr"
    [ -n "$RATE" ]
}

# store_batches: "writes commits seconds" the server's writer has committed so
# far, from its /metrics (certcontacts_store_write_batch_size and
# certcontacts_store_commit_duration_seconds); nothing when it cannot say.
store_batches() {
    curl -s --max-time 5 -H "Authorization: Basic $AUTH" "http://127.0.0.1:$PORT/metrics" | awk '
        $1 == "certcontacts_store_write_batch_size_sum" { w = $2 }
        $1 == "certcontacts_store_write_batch_size_count" { n = $2 }
        $1 == "certcontacts_store_commit_duration_seconds_sum" { s = $2 }
        END { if (n != "") print w, n, s }'
}

# batches_between BEFORE AFTER: the group commit between two store_batches.
batches_between() {
    awk 'NR == 1 { w = $1; n = $2; s = $3 } NR == 2 { dw = $1 - w; dn = $2 - n
            if (dn > 0) printf "%.1f writes a commit, %.2f ms a commit (its writes and fsync)", dw / dn, ($3 - s) * 1000 / dn
            else printf "no commits counted" }
        END { if (NR < 2) printf "no store metrics" }' "$1" "$2"
}

# pairs_list FILE: the pairs of FILE ("ratio rate floor" a line) as
# "0.72 (54161/75663), 0.80 (58226/72892), ...".
pairs_list() {
    awk '{ printf "%s%s (%s/%s)", (NR > 1 ? ", " : ""), $1, $2, $3 }' "$1"
}

ratio() { # value floor → "0.61"
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

verdict() { # condition-as-awk-expression → "met" or "MISSED"
    awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"
}

echo "machine: $(nproc) cores ($(uname -m), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), $(awk '/^MemTotal:/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "load: wrk -t$WT from a second process on 127.0.0.1, ${DUR} s per run after a 1 s warm-up; servers use $SERVER_THREADS HTTP threads"

# ---- PostgreSQL: a durable cluster of the script's own -------------------------------
DB_GET="" DB_SEARCH="" DB_FLOOR=""
if [ "$DB_KIND" = postgres ]; then
    if ! pg_start; then
        cannot "PostgreSQL" "$(tail -n 5 "$T/pg-start.txt")"
        exit 1
    fi
    if ! { DB_GET=$(pg_db get) && DB_SEARCH=$(pg_db search) && DB_FLOOR=$(pg_db floor); }; then
        cannot "PostgreSQL" "createdb: $(tail -n 3 "$T/pg-start.txt")"
        exit 1
    fi
    echo "postgres: $(psql "${PG_URL}postgres" -qAt -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers')" 2>&1), a cluster of its own on 127.0.0.1 (scripts/pg-test.sh) on the same disk; certcontacts with --db postgres://... and the default --db-pool-size 10, one database per server"
fi

# pg_floor LABEL insert|select CONNECTIONS: runs bench/floor_pg on the floor
# database; sets FLOOR (per second, empty when it failed) and prints LABEL's line.
pg_floor() {
    FLOOR=""
    if "$BB/floor_pg" "$DB_FLOOR" "$2" "$PG_FSECS" "$3" >"$T/floor-pg.txt" 2>&1; then
        FLOOR=$(awk '{ print $1; exit }' "$T/floor-pg.txt")
        echo "$1: $FLOOR ${4}/s ($(sed -n 's/^[0-9]* per s (\(.*\))$/\1/p' "$T/floor-pg.txt"))"
    else
        cannot "$1" "$(tail -n 1 "$T/floor-pg.txt")"
    fi
}

# floor_b PAIR: one floor B run (SQLite single-row commits, or PostgreSQL's
# over libpq), its line printed with PAIR ("pair 1 of 3"); sets FB (commits/s,
# empty when it failed).
floor_b() {
    FB=""
    if [ "$DB_KIND" = postgres ]; then
        pg_floor "floor B-pg (PostgreSQL single-row commits over libpq, 1 connection, prepared INSERT, autocommit, synchronous_commit=on; the floor of POST; $1)" insert 1 commits
        FB=$FLOOR
        return
    fi
    mkdir -p "$T/floorB.d"
    if "$BB/floor_sqlite" "$T/floorB.d/floor.db" 5 >"$T/floorB.txt" 2>&1; then
        FB=$(awk '{ print $1; exit }' "$T/floorB.txt")
        echo "floor B (SQLite single-row commits, WAL, synchronous=FULL, same file system; $1): $FB commits/s"
    else
        cannot "floor B" "$(cat "$T/floorB.txt")"
    fi
    rm -rf "$T/floorB.d"
}

# startup_time DIR [DB_URL]: restarts the server of DIR (SRV_PID, PORT) on
# the same port PAIRS times and prints each time from exec to /readyz
# answering 200, then their median (the figure).
startup_time() {
    port=$PORT
    : >"$T/startups"
    k=1
    while [ "$k" -le "$PAIRS" ]; do
        stop_pid "$SRV_PID"
        t0=$(date +%s%N)
        LISTEN=127.0.0.1:$port launch_instance "$@"
        if ! ms=$("$BB/until" --url "http://127.0.0.1:$port/readyz" --since "$t0" --timeout 120 \
            --pid "$SRV_PID"); then
            cannot "start-up" "/readyz: $ms; $(tail -n 1 "$1/stderr")"
            return
        fi
        echo "$ms" >>"$T/startups"
        k=$((k + 1))
    done
    ms=$(median "$T/startups")
    echo "start-up: $ms ms, the median of $PAIRS starts ($(paste -sd/ "$T/startups") ms; with $NAME contacts: exec to /readyz 200, polled every 1 ms by bench/until.c; target < 1000 ms at 1M: $(verdict "$ms < 1000"))"
    fig "start-up ($NAME contacts)" "$ms" 1000 ms max
}

# held_connections: opens HELD keep-alive connections to the server (SRV_PID,
# PORT) with bench/conns.c, one GET /readyz answered on each, and reads the
# server's RSS while they are all open.
held_connections() {
    rss0=$(rss_mb "$SRV_PID")
    "$BB/conns" --port "$PORT" --count "$HELD" --hold 3 --timeout 60 >"$T/conns.txt" 2>&1 &
    cpid=$!
    PIDS="$PIDS $cpid"
    i=0
    while ! grep -q '^opened' "$T/conns.txt" && kill -0 "$cpid" 2>/dev/null && [ $i -lt 700 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    rss=$(rss_mb "$SRV_PID")
    wait "$cpid"
    PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$cpid" | tr '\n' ' ')
    read -r _ opened _ answered _ ok _ failed why <"$T/conns.txt"
    still=$(sed -n 's/^still_open //p' "$T/conns.txt")
    if [ -z "${answered:-}" ]; then
        cannot "10k connections" "$(tail -n 2 "$T/conns.txt")"
        return
    fi
    per=$(awk -v a="$rss" -v b="$rss0" -v n="$answered" 'BEGIN { if (n > 0) printf "%.1f", (a - b) * 1024 / n }')
    extra=""
    [ "$ok" != "$answered" ] && extra="; $((answered - ok)) answers not 200"
    # shellcheck disable=SC3045
    [ "$answered" != "$HELD" ] && extra="$extra; reached $answered of $HELD (opened $opened, $failed failed${why:+, $why}; open files limit $(ulimit -n))"
    [ -n "$still" ] && [ "$still" != "$answered" ] && extra="$extra; $((answered - ${still:-0})) closed by the server within 3 s"
    echo "10k connections: $answered held, RSS $rss MB (before: $rss0 MB, ${per} KB per connection; one GET /readyz answered on each, all open at once, ${still:-?} still open 3 s later; no target)$extra"
    fig "RSS with $answered connections" "$rss" "" MB ""
}

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
fi
# floor A is measured with GET below, in pairs; it waits meanwhile, idle.

# ---- floor C-pg: point SELECTs by primary key --------------------------------------
FLOOR_CN=""
if [ "$DB_KIND" = postgres ]; then
    pg_floor "floor C-pg (PostgreSQL point SELECT by primary key, prepared, 1 connection)" select 1 selects
    pg_floor "floor C-pg, $PG_CONNS connections (a thread each)" select "$PG_CONNS" selects
    FLOOR_CN=$FLOOR
fi

S1=$T/server
IDLE_RSS=""
if start_server "$S1" "$DB_GET"; then
    sleep 1
    IDLE_RSS=$(rss_mb "$SRV_PID")
    # 1 000 contacts through the store while the server runs, to GET one of
    "$BB/seed" --db "${DB_GET:-sqlite:$S1/data/certcontacts.db}" --count 1000 --seed 7 >"$T/seed-small.txt" 2>&1 ||
        cannot "GET /v1/contacts/{id}" "seeding: $(tail -n 1 "$T/seed-small.txt")"
    readonly_key || cannot "GET /v1/contacts/{id}" "creating a readonly key: $(head -c 300 "$T/rokey.json")"
    : >"$S1/stderr" # the request log: opened for appending, so it can be emptied
    GET_LABEL="GET /v1/contacts/{id}, readonly key, Basic auth, keep-alive, $CONNS connections"
    WRK_AUTH=$RAUTH # run_wrk's key, until reset below
    run_wrk "$T/wrk-get-warm.txt" "$CONNS" 1 "http://127.0.0.1:$PORT/v1/contacts/500" bench/get.lua >/dev/null
    # GET and floor A in pairs, a floor A run right before each GET run, the
    # figure the median of the pairs' ratios: a machine that slows down or
    # speeds up between two runs then moves both sides of a ratio alike.
    : >"$T/get-pairs"
    k=1
    while [ -n "$RAUTH" ] && [ "$k" -le "$PAIRS" ]; do
        fa=""
        if [ -n "$FPORT" ] && run_wrk "$T/wrk-floorA.txt" "$CONNS" "$DUR" "http://127.0.0.1:$FPORT/v1/contacts/500"; then
            fa=$RATE
            echo "floor A (bare libmicrohttpd, 400 B, $CONNS connections; pair $k of $PAIRS): $fa req/s$NOTE"
            echo "$fa" >>"$T/floorA"
        elif [ -n "$FPORT" ]; then
            cannot "floor A" "wrk: $(tail -n 3 "$T/wrk-floorA.txt")"
        fi
        if run_wrk "$T/wrk-get.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/v1/contacts/500" bench/get.lua; then
            if [ -n "$fa" ]; then
                r=$(ratio "$RATE" "$fa")
                echo "$GET_LABEL (pair $k of $PAIRS): $RATE req/s = ${r}x floor A$NOTE"
                echo "$r $RATE $fa" >>"$T/get-pairs"
            else
                echo "$GET_LABEL (pair $k of $PAIRS): $RATE req/s (no floor A)$NOTE"
            fi
        else
            cannot "GET /v1/contacts/{id}" "wrk: $(tail -n 3 "$T/wrk-get.txt")"
        fi
        k=$((k + 1))
    done
    FLOOR_A=$(median "$T/floorA")
    [ -n "$FLOOR_A" ] && fig "floor A" "$FLOOR_A" "" "req/s" ""
    if [ -s "$T/get-pairs" ]; then
        np=$(wc -l <"$T/get-pairs")
        r=$(median "$T/get-pairs")
        c=""
        [ -n "$FLOOR_CN" ] && c="; $(ratio "$RATE" "$FLOOR_CN")x floor C-pg with $PG_CONNS connections (no target)"
        echo "$GET_LABEL, median of $np pairs: ${r}x floor A (target >= 0.5x: $(verdict "$r >= 0.5"))$c (pairs: $(pairs_list "$T/get-pairs"))"
        fig "GET (readonly) / floor A" "$r" 0.5 x min
    fi
    # the same GET of a contact chosen at random each time: the figure above
    # sends one contact again and again, which its server thread keeps
    # rendered while nothing is committed (src/http/view_cache.c); here few
    # requests find their contact kept, so the reads and rendering are paid
    if [ -n "$RAUTH" ] && run_wrk "$T/wrk-get-random.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/" bench/get_random.lua; then
        if [ -n "$FLOOR_A" ]; then
            echo "GET /v1/contacts/{id} of a random contact of the 1000, readonly key, $CONNS connections: $RATE req/s = $(ratio "$RATE" "$FLOOR_A")x the median floor A (no target)$NOTE"
            fig "GET random contact (readonly) / floor A" "$(ratio "$RATE" "$FLOOR_A")" "" x ""
        else
            echo "GET /v1/contacts/{id} of a random contact of the 1000, readonly key, $CONNS connections: $RATE req/s (no floor A; no target)$NOTE"
        fi
    elif [ -n "$RAUTH" ]; then
        cannot "GET of a random contact" "wrk: $(tail -n 3 "$T/wrk-get-random.txt")"
    fi
    stop_pid "$FA"
    WRK_AUTH=""
    : >"$S1/stderr"

    # ---- floor B and POST ----------------------------------------------------------
    # In pairs, as GET: a floor B run right before each POST run, the figure
    # the median of the pairs' ratios. Floor B is bound by the disk's fsync,
    # whose speed drifts from minute to minute on a shared machine (5 241 and
    # 8 358 commits a second in two runs of this bench 5 minutes apart, 7 092–
    # 7 440 in eight runs back to back): a floor taken once would put that
    # drift into the ratio.
    FLOOR_B="" FLOOR_BN="" BNAME="floor B"
    if [ "$DB_KIND" = postgres ]; then
        BNAME="floor B-pg"
        pg_floor "floor B-pg, $PG_CONNS connections (a thread each; PostgreSQL flushes the WAL of concurrent commits together; not the floor)" insert "$PG_CONNS" commits
        FLOOR_BN=$FLOOR
    fi
    : >"$T/floorB" && : >"$T/post-pairs"
    k=1
    while [ "$k" -le "$PAIRS" ]; do
        floor_b "pair $k of $PAIRS"
        [ -n "$FB" ] && echo "$FB" >>"$T/floorB"
        : >"$S1/stderr"
        thread_cpu "$SRV_PID" >"$T/post-cpu.before"
        store_batches >"$T/post-batches.before"
        if run_wrk "$T/wrk-post.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/v1/contacts" bench/post.lua; then
            thread_cpu "$SRV_PID" >"$T/post-cpu.after"
            store_batches >"$T/post-batches.after"
            if [ -n "$FB" ]; then
                r=$(ratio "$RATE" "$FB")
                echo "POST /v1/contacts, $CONNS connections, durable (pair $k of $PAIRS): $RATE req/s = ${r}x $BNAME$NOTE"
                echo "$r $RATE $FB" >>"$T/post-pairs"
            else
                echo "POST /v1/contacts, $CONNS connections, durable (pair $k of $PAIRS): $RATE req/s (no $BNAME)$NOTE"
            fi
            posts=$(awk '/requests in/ { print $1; exit }' "$T/wrk-post.txt")
            [ -n "$posts" ] && [ "$posts" -gt 0 ] &&
                echo "  CPU per POST, by thread (µs): certcontacts $(cpu_split "$T/post-cpu.before" "$T/post-cpu.after" "$posts"); $(batches_between "$T/post-batches.before" "$T/post-batches.after")"
        else
            cannot "POST /v1/contacts" "wrk: $(tail -n 3 "$T/wrk-post.txt")"
        fi
        k=$((k + 1))
    done
    FLOOR_B=$(median "$T/floorB")
    [ -n "$FLOOR_B" ] && fig "$BNAME" "$FLOOR_B" "" "commits/s" ""
    if [ -s "$T/post-pairs" ]; then
        r=$(median "$T/post-pairs")
        c=""
        [ -n "$FLOOR_BN" ] && c="; $(ratio "$(median "$T/post-pairs" 2)" "$FLOOR_BN")x floor B-pg with $PG_CONNS connections (no target)"
        echo "POST /v1/contacts, $CONNS connections, durable, median of $(wc -l <"$T/post-pairs") pairs: ${r}x $BNAME (target >= 2.0x: $(verdict "$r >= 2.0")) (pairs: $(pairs_list "$T/post-pairs"))$c"
        fig "POST / $BNAME" "$r" 2.0 x min
    fi
    # the admin's detail view: addresses in full, one durable audit entry per GET
    : >"$S1/stderr"
    if run_wrk "$T/wrk-get-admin.txt" "$CONNS" "$DUR" "http://127.0.0.1:$PORT/v1/contacts/500" bench/get.lua; then
        if [ -n "$FLOOR_B" ]; then
            echo "GET (admin, audited reveal), $CONNS connections: $RATE req/s = $(ratio "$RATE" "$FLOOR_B")x the median $BNAME (a durable write per GET; no target)$NOTE"
        else
            echo "GET (admin, audited reveal), $CONNS connections: $RATE req/s (no $BNAME; no target)$NOTE"
        fi
        fig "GET (admin, audited reveal)" "$RATE" "" "req/s" ""
    else
        cannot "GET (admin, audited reveal)" "wrk: $(tail -n 3 "$T/wrk-get-admin.txt")"
    fi
    sleep 1
    LOAD_RSS=$(rss_mb "$SRV_PID")
    echo "RSS idle after start: ${IDLE_RSS:-?} MB; after load: ${LOAD_RSS:-?} MB (target < 16 MB idle: $(verdict "${IDLE_RSS:-999} < 16"))"
    fig "RSS idle" "$IDLE_RSS" 16 MB max
    fig "RSS after load" "$LOAD_RSS" "" MB ""
    held_connections
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
if start_server "$S2" "$DB_SEARCH"; then
    if "$BB/seed" --db "${DB_SEARCH:-sqlite:$S2/data/certcontacts.db}" --count "$CONTACTS" >"$T/seed.txt" 2>&1; then
        echo "seed: $(tail -n 1 "$T/seed.txt") (through cc_store_write, server running)"
        if [ -n "$DB_SEARCH" ]; then
            # What autovacuum does some time after a bulk load, done now so the
            # figures do not depend on when it comes: the visibility map and hint
            # bits (cheap heap checks), the trigram index's pending list merged,
            # and the planner's statistics.
            v0=$(date +%s)
            if psql "$DB_SEARCH" -qAt -c "VACUUM (ANALYZE) contacts" >"$T/vacuum.txt" 2>&1; then
                echo "vacuum: VACUUM (ANALYZE) contacts after seeding, as autovacuum would after a bulk load: $(($(date +%s) - v0)) s"
            else
                cannot "vacuum" "$(tail -n 1 "$T/vacuum.txt")"
            fi
        fi
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
                fig "search p99 \"$kw\"" "$p99" "$target" ms max
            else
                cannot "$label" "$(tail -n 1 "$T/lat.err")"
            fi
            : >"$S2/stderr"
        done
        echo "RSS after search with $NAME contacts: $(rss_mb "$SRV_PID") MB"
        startup_time "$S2" "$DB_SEARCH"
    else
        cannot "search" "seeding: $(tail -n 1 "$T/seed.txt")"
    fi
    stop_pid "$SRV_PID"
else
    cannot "search" "the server did not start"
fi

# ---- PostgreSQL: 1 against 3 instances on one database -------------------------------
[ "$DB_KIND" = postgres ] && . bench/instances.sh

# ---- expiry reminders: idle cost and a burst of due reminders ------------------------
if [ "$DB_KIND" = postgres ]; then
    echo "reminders: not measured with BENCH_DB=postgres (bench/reminders.sh seeds an SQLite file with sqlite3; run it alone for the SQLite figures)"
else
    sh bench/reminders.sh || FAILED=1
fi

echo "bench took $(($(date +%s) - T0)) s"
exit $FAILED
