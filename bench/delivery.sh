#!/bin/sh
# bench/delivery.sh — the benchmark behind `make bench-delivery` (which
# builds first).
#
# Measures, in one run on this machine:
#   floor     a bare libcurl multi client (bench/floor_curl_multi.c), 32
#             transfers in flight over keep-alive connections, POSTing the
#             body certcontacts renders for one notification to the same
#             local robot receiver (bench/receiver.c), cycling over the same
#             10 000 robot URLs;
#   delivery  certcontacts delivering 10 000 notifications (2 000 contacts
#             x 5 WeCom robots each, 20 events of 100 contacts) to that
#             receiver, with 4, 16 and 32 dispatcher threads, each from the
#             same fresh copy of the seeded database; notifications/s from
#             the first POST /v1/events to the last message at the receiver,
#             and the ratio to the floor (target >= 0.7x). At 4 threads (the
#             default) three pairs, each a floor run then a certcontacts run,
#             and the median of the pairs' ratios;
#   latency   POST /v1/events -> first message of that event at the
#             receiver (both clocks CLOCK_REALTIME on this machine): under
#             load (the 20 events above, posted back to back) and idle
#             (events of one contact, one every 100 ms);
#   RSS       of the server after each run;
#   instructions (only with BENCH_DELIVERY_INSTRUCTIONS=1) one more floor
#             run and one more certcontacts run at the first thread count,
#             each under valgrind's callgrind: instructions a notification
#             by thread (dispatchers, writer, recorder, the rest) against
#             the floor's client's a post. Exact counts, where the rates
#             above move with the machine from run to run; slow (~1 min).
# See bench/README.md ("Delivery") for what each figure means.
#
# Everything runs on 127.0.0.1 in a fresh temporary directory; every process
# started is stopped on exit (also on Ctrl-C) and the directory removed. A
# figure that misses its target is reported, never fatal: the script exits 0
# unless a step could not run.
#
# Environment knobs (defaults in brackets): BENCH_DELIVERY_CONTACTS [2000],
# BENCH_DELIVERY_THREADS ["4 16 32"], BENCH_DELIVERY_TIMEOUT seconds a run
# may take [50], BENCH_DELIVERY_IDLE_EVENTS [40], BENCH_RECEIVER_THREADS [2],
# BENCH_DELIVERY_PAIRS floor/certcontacts pairs at the first thread count [3],
# BENCH_DELIVERY_INSTRUCTIONS=1 adds the instruction counts [0],
# BENCH_KEEP=1 keeps the temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BIN=$ROOT/build/certcontacts
NCONTACTS=${BENCH_DELIVERY_CONTACTS:-2000}
DTHREADS=${BENCH_DELIVERY_THREADS:-4 16 32}
RUN_TIMEOUT=${BENCH_DELIVERY_TIMEOUT:-50}
IDLE_EVENTS=${BENCH_DELIVERY_IDLE_EVENTS:-40}
RTHREADS=${BENCH_RECEIVER_THREADS:-2}
PAIRS=${BENCH_DELIVERY_PAIRS:-3}
INSTRUCTIONS=${BENCH_DELIVERY_INSTRUCTIONS:-0}
HOOKS=5             # robots per contact (the most a contact may have)
PER_EVENT=100       # contacts per event (the most an event may name)
FLOOR_CONC=32
FLOOR_COUNT=20000
SERVER_THREADS=4    # certcontacts' default --threads

T0=$(date +%s)
NAME=bench-delivery
LIBCC=$ROOT/build/libcc.a
. bench/common.sh
need gcc gcc
need curl curl
[ "$INSTRUCTIONS" = 1 ] && need valgrind valgrind

# ---- build the receiver and the floor -----------------------------------------------
build receiver -lmicrohttpd
build until -lcurl
# shellcheck disable=SC2086
build floor_curl_multi "$LIBCC" $LIBS
POSTER=$BB/floor_curl_multi

# ---- helpers ---------------------------------------------------------------------

rss_mb() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# children_cpu_s: the user + system CPU seconds of this shell's children that
# have ended (the shell's own `times`, second line; 10 ms steps).
children_cpu_s() {
    times >"$T/times" # in this shell: a pipeline's subshell has no children of its own
    awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } print s }' "$T/times"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

verdict() {
    awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"
}

# pctl FILE: "p50 X ms, p99 Y ms, max Z ms over N" of the numbers (µs) in
# FILE, nearest rank.
pctl() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (!NR) { print "no samples"; exit }
        i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
        printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d events", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000, NR }'
}

# start_server DIR THREADS: certcontacts on a free port, data in DIR/data,
# robots sent to the receiver; sets SRV_PID and PORT (and AUTH when the
# server printed a new admin key). SRV_UNDER, when set, is the command it
# runs under (callgrind).
SRV_UNDER=""
start_server() {
    d=$1
    mkdir -p "$d"
    CERTCONTACTS_WECOM_BASE_URL=http://127.0.0.1:$RPORT \
        CERTCONTACTS_DINGTALK_BASE_URL=http://127.0.0.1:$RPORT \
        CERTCONTACTS_FEISHU_BASE_URL=http://127.0.0.1:$RPORT \
        CERTCONTACTS_LARK_BASE_URL=http://127.0.0.1:$RPORT \
        $SRV_UNDER "$BIN" serve --data-dir "$d/data" --listen 127.0.0.1:0 --threads "$SERVER_THREADS" \
        --dispatcher-threads "$2" --max-contacts-per-account 1000000 --max-connections-per-address 1000000 \
        >"$d/stdout" 2>>"$d/stderr" &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
    await_server "$d" || return 1
    [ -n "$kid" ] && [ -n "$ksecret" ] && AUTH="$kid:$ksecret"
    return 0
}

rstat() { # field of the receiver's /stats
    curl -s --max-time 5 "http://127.0.0.1:$RPORT/stats" | awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }'
}

delivered_total() {
    curl -s --max-time 5 -u "$AUTH" "http://127.0.0.1:$PORT/v1/notifications?status=delivered&page_size=1" |
        sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

# wait_messages N SECONDS: until the receiver has N messages or time is up;
# returns 1 on timeout, or once the server (SRV_PID) has ended. One process
# polls every 10 ms (bench/until.c): a shell loop of curl, awk and date would
# take CPU from the run it waits on.
wait_messages() {
    "$BB/until" --url "http://127.0.0.1:$RPORT/stats" --field messages --at-least "$1" \
        --timeout "$2" --pid "$SRV_PID" >/dev/null
}

# event_bodies FILE FIRST_EVENT FIRST_CONTACT_LINE CONTACTS_PER_EVENT EVENTS:
# one POST /v1/events body a line; event k names the contacts on the lines
# of $T/ids after FIRST_CONTACT_LINE and has the domain bench-ev<k>.example.com.
event_bodies() {
    awk -v e0="$2" -v c0="$3" -v per="$4" -v n="$5" '
        { id[NR] = $1 }
        END {
            for (e = 0; e < n; e++) {
                s = ""
                for (k = 0; k < per; k++) s = s (k ? "," : "") id[c0 + e * per + k + 1]
                printf "{\"type\":\"certificate.expiring\",\"contact_ids\":[%s],\"data\":{\"domains\":[\"bench-ev%d.example.com\"],\"days_left\":30,\"not_after\":\"2026-01-01T00:00:00Z\"}}\n", s, e0 + e
            }
        }' "$T/ids" >"$1"
}

# latencies EVENTS_OUT FIRST_EVENT OUT: per event posted (lines of the
# poster's --out), first arrival at the receiver minus the POST's start, µs.
latencies() {
    curl -s --max-time 5 "http://127.0.0.1:$RPORT/events" >"$T/arrivals"
    awk -v e0="$2" 'NR == FNR { first[$1] = $2; next }
        ($1 + e0) in first { print first[$1 + e0] - $2 }' "$T/arrivals" "$1" >"$3"
}

echo "machine: $(nproc) cores ($(uname -m), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), $(awk '/^MemTotal:/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)"

# ---- the receiver ----------------------------------------------------------------
start_receiver --threads "$RTHREADS" --save-body "$T/body.json"
echo "receiver: bench/receiver.c, libmicrohttpd, $RTHREADS threads, answers {\"errcode\":0,\"errmsg\":\"ok\"}; the floor and certcontacts post to it alike"

# ---- seed: contacts with 5 robots each, through the API --------------------------
SEED=$T/seed
AUTH=""
start_server "$SEED" 4 || {
    echo "bench-delivery: cannot go on without a server" >&2
    exit 1
}
[ -n "$AUTH" ] || {
    echo "bench-delivery: certcontacts printed no admin key" >&2
    exit 1
}
awk -v n="$NCONTACTS" -v h="$HOOKS" 'BEGIN {
    for (c = 1; c <= n; c++) {
        w = ""
        for (k = 1; k <= h; k++)
            w = w (k > 1 ? "," : "") sprintf("{\"url\":\"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench-c%d-w%d\"}", c, k)
        printf "{\"name\":\"Bench %d\",\"mobile\":\"139%08d\",\"webhooks\":[%s]}\n", c, c, w
    }
}' >"$T/contacts.jsonl"
echo "http://127.0.0.1:$PORT/v1/contacts" >"$T/contacts.url"
ts=$(date +%s)
"$POSTER" --urls "$T/contacts.url" --bodies "$T/contacts.jsonl" --concurrency 16 \
    --auth "$AUTH" --out "$T/contacts.out" >"$T/contacts.sum" 2>&1
# the contact's own id comes first in its JSON answer
sort -n "$T/contacts.out" | awk '$4 == 201 && match($0, /"id":[0-9]+/) { print substr($0, RSTART + 5, RLENGTH - 5) }' >"$T/ids"
NIDS=$(wc -l <"$T/ids")
if [ "$NIDS" -ne "$NCONTACTS" ]; then
    echo "bench-delivery: created $NIDS of $NCONTACTS contacts; first failure:" >&2
    awk '$4 != 201' "$T/contacts.out" | head -n 1 >&2
    exit 1
fi
echo "seed: $NCONTACTS contacts x $HOOKS WeCom robots (distinct keys) through POST /v1/contacts, 16 in flight: $(($(date +%s) - ts)) s"

# one notification, to capture the body certcontacts renders (the floor's body)
event_bodies "$T/warm.jsonl" 99999 0 1 1
echo "http://127.0.0.1:$PORT/v1/events" >"$T/events.url"
"$POSTER" --urls "$T/events.url" --bodies "$T/warm.jsonl" --concurrency 1 --auth "$AUTH" \
    --out "$T/warm.out" >/dev/null 2>&1
if ! wait_messages "$HOOKS" 20 || [ ! -s "$T/body.json" ]; then
    echo "bench-delivery: certcontacts delivered nothing to the receiver in 20 s; event answer: $(head -c 300 "$T/warm.out")" >&2
    tail -n 5 "$SEED/stderr" >&2
    exit 1
fi
stop_pid "$SRV_PID"
BODY_BYTES=$(wc -c <"$T/body.json")

# ---- floor -----------------------------------------------------------------------
awk -v p="$RPORT" -v n="$NCONTACTS" -v h="$HOOKS" 'BEGIN {
    for (c = 1; c <= n; c++) for (k = 1; k <= h; k++)
        printf "http://127.0.0.1:%s/cgi-bin/webhook/send?key=bench-c%d-w%d\n", p, c, k }' >"$T/floor.urls"
"$POSTER" --urls "$T/floor.urls" --bodies "$T/body.json" --count 2000 \
    --concurrency "$FLOOR_CONC" >/dev/null 2>&1 # warm-up

# floor_run LABEL: one floor run; sets FLOOR (posts/s, empty when it failed)
# and prints its lines.
floor_run() {
    curl -s "http://127.0.0.1:$RPORT/reset" >/dev/null
    FLOOR=""
    thread_cpu "$RPID" >"$T/rcpu.floor.before"
    children_cpu_s >"$T/floor.cpu.before"
    if "$POSTER" --urls "$T/floor.urls" --bodies "$T/body.json" --count "$FLOOR_COUNT" \
        --concurrency "$FLOOR_CONC" >"$T/floor.sum" 2>&1; then
        children_cpu_s >"$T/floor.cpu.after"
        thread_cpu "$RPID" >"$T/rcpu.floor.after"
        read -r _ fposts _ fok _ fsecs _ FLOOR <"$T/floor.sum"
        got=$(rstat messages)
        note=""
        [ "$fok" != "$fposts" ] && note="; $((fposts - fok)) answers not 2xx"
        [ "${got:-0}" != "$fposts" ] && note="$note; the receiver counted ${got:-?}"
        echo "floor$1 (bare libcurl multi, $FLOOR_CONC concurrent, keep-alive, $BODY_BYTES B body): $FLOOR posts/s ($fposts posts in $fsecs s$note)"
        echo "  CPU per post (µs): the client $(awk -v n="$fposts" 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", ($1 - a) * 1e6 / n }' "$T/floor.cpu.before" "$T/floor.cpu.after"); the receiver $(cpu_split "$T/rcpu.floor.before" "$T/rcpu.floor.after" "$fposts")"
    else
        cannot "floor$1" "$(cat "$T/floor.sum")"
    fi
}

# ---- certcontacts, per dispatcher thread count -----------------------------------
NEVENTS=$((NCONTACTS / PER_EVENT))
NNOTIF=$((NEVENTS * PER_EVENT * HOOKS))
event_bodies "$T/events.jsonl" 0 0 "$PER_EVENT" "$NEVENTS"
NIDLE=$IDLE_EVENTS
[ "$NIDLE" -gt "$NCONTACTS" ] && NIDLE=$NCONTACTS
IDLE_ON=1 # the idle latency is measured (not with BENCH_DELIVERY_IDLE_EVENTS=0)
[ "$NIDLE" -gt 0 ] || IDLE_ON=0
event_bodies "$T/idle.jsonl" 50000 0 1 "$NIDLE"

# delivery_run THREADS LABEL_SUFFIX IDLE: one certcontacts run on a fresh copy
# of the seed, against FLOOR; sets RUN_RATE (notifications/s) and RUN_P99 (event
# -> first delivery under load, ms), both empty when the run failed; measures
# the idle latency too when IDLE is 1.
delivery_run() {
    n=$1
    RUN_RATE="" RUN_P99=""
    R=$T/run-$n
    rm -rf "$R"
    mkdir -p "$R"
    cp -a "$SEED/data" "$R/data"
    label="certcontacts delivery, $n dispatcher threads$2"
    if ! start_server "$R" "$n"; then
        cannot "$label" "the server did not start"
        return
    fi
    echo "http://127.0.0.1:$PORT/v1/events" >"$T/events.url"
    curl -s "http://127.0.0.1:$RPORT/reset" >/dev/null
    thread_cpu "$SRV_PID" >"$R/cpu.before"
    thread_cpu "$RPID" >"$R/rcpu.before"
    "$POSTER" --urls "$T/events.url" --bodies "$T/events.jsonl" --concurrency 1 \
        --auth "$AUTH" --out "$R/events.out" >"$R/events.sum" 2>&1
    posted=$(awk '$4 == 201 || $4 == 200' "$R/events.out" | wc -l)
    t_first=$(awk 'NR == 1 || $2 < m { m = $2 } END { print m }' "$R/events.out")
    t_posted=$(awk '$3 > m { m = $3 } END { print m }' "$R/events.out")
    if [ "$posted" -ne "$NEVENTS" ]; then
        cannot "$label" "$((NEVENTS - posted)) of $NEVENTS events refused; first: $(awk '$4 != 201 && $4 != 200' "$R/events.out" | head -n 1 | cut -c 1-300)"
        stop_pid "$SRV_PID"
        return
    fi
    complete=1
    wait_messages "$NNOTIF" "$RUN_TIMEOUT" || complete=0
    thread_cpu "$SRV_PID" >"$R/cpu.after"
    thread_cpu "$RPID" >"$R/rcpu.after"
    got=$(rstat messages)
    t_last=$(rstat last_us)
    merged=$(rstat merged)
    rate=$(awk -v m="$got" -v a="$t_first" -v b="$t_last" 'BEGIN { if (b > a) printf "%.0f", m / ((b - a) / 1e6); else print 0 }')
    secs=$(awk -v a="$t_first" -v b="$t_last" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
    psecs=$(awk -v a="$t_first" -v b="$t_posted" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
    extra="$got messages in $secs s; the $NEVENTS POSTs took $psecs s"
    [ "$complete" = 1 ] || extra="$extra; only $got of $NNOTIF arrived within $RUN_TIMEOUT s"
    [ "${merged:-0}" != 0 ] && extra="$extra; $merged merged messages"
    # the server records delivered after the answer: let it catch up
    i=0
    while [ $i -lt 50 ]; do
        dl=$(delivered_total)
        [ "${dl:-0}" -ge "$((got + HOOKS))" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    dl=$((${dl:-0} - HOOKS)) # less the warm-up event's
    [ "$dl" != "$got" ] && extra="$extra; certcontacts counts $dl delivered"
    if [ -n "$FLOOR" ]; then
        echo "$label: $rate notifications/s = $(ratio "$rate" "$FLOOR")x floor ($extra)"
    else
        echo "$label: $rate notifications/s (no floor) ($extra)"
    fi
    echo "  CPU per notification, by thread (µs): certcontacts $(cpu_split "$R/cpu.before" "$R/cpu.after" "$NNOTIF"); the receiver $(cpu_split "$R/rcpu.before" "$R/rcpu.after" "$NNOTIF")"
    latencies "$R/events.out" 0 "$R/lat-load"
    echo "  latency POST /v1/events -> first delivery, under load ($NEVENTS events of $PER_EVENT contacts posted back to back): $(pctl "$R/lat-load")"
    if [ "$complete" = 1 ]; then
        RUN_RATE=$rate
        RUN_P99=$(sort -n "$R/lat-load" | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int(NR * 0.99 + 0.999999)] / 1000 }')
    fi
    if [ "$3" = 1 ]; then
        # idle: events of one contact, one every 100 ms
        curl -s "http://127.0.0.1:$RPORT/reset" >/dev/null
        "$POSTER" --urls "$T/events.url" --bodies "$T/idle.jsonl" --concurrency 1 --gap-ms 100 \
            --auth "$AUTH" --out "$R/idle.out" >/dev/null 2>&1
        wait_messages "$((NIDLE * HOOKS))" 10 >/dev/null
        latencies "$R/idle.out" 50000 "$R/lat-idle"
        echo "  latency POST /v1/events -> first delivery, idle (events of 1 contact x $HOOKS robots, one every 100 ms): $(pctl "$R/lat-idle")"
    fi
    echo "  RSS after the run: $(rss_mb "$SRV_PID") MB"
    stop_pid "$SRV_PID"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$R/data"
}

# The first thread count (the default, 4) runs PAIRS times, each run right
# after a floor run of its own: its figures are the medians of the pairs'
# ratios and latencies, so that a machine that slows down or speeds up
# between two runs moves both sides of a ratio alike. Other thread counts run
# once, against the median floor.
echo "delivery: $NNOTIF notifications ($NEVENTS events x $PER_EVENT contacts x $HOOKS robots, every robot distinct: no merging, no rate limit), each run on a fresh copy of the seeded database; rate = notifications / (last arrival - first POST /v1/events)"
first=1
for n in $DTHREADS; do
    if [ "$first" = 1 ]; then
        first=0
        : >"$T/pairs"
        k=1
        while [ "$k" -le "$PAIRS" ]; do
            floor_run " (pair $k of $PAIRS)"
            [ -n "$FLOOR" ] && echo "$FLOOR" >>"$T/floors"
            idle=0
            [ "$k" = "$PAIRS" ] && idle=$IDLE_ON
            delivery_run "$n" " (pair $k of $PAIRS)" "$idle"
            [ -n "$FLOOR" ] && [ -n "$RUN_RATE" ] &&
                echo "$(ratio "$RUN_RATE" "$FLOOR") $RUN_P99 $RUN_RATE $FLOOR" >>"$T/pairs"
            k=$((k + 1))
        done
        FLOOR=$(median "$T/floors")
        np=$(wc -l <"$T/pairs")
        if [ "$np" -gt 0 ]; then
            r=$(median "$T/pairs")
            p99=$(median "$T/pairs" 2)
            all=$(awk '{ printf "%s%s (%s/%s)", (NR > 1 ? ", " : ""), $1, $3, $4 }' "$T/pairs")
            allp=$(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }' "$T/pairs")
            echo "certcontacts delivery, $n dispatcher threads, median of $np pairs: ${r}x floor (target >= 0.7x: $(verdict "$r >= 0.7")) (pairs: $all)"
            fig "delivery, $n dispatcher threads / floor" "$r" 0.7 x min
            echo "event -> first delivery under load, p99, $n dispatcher threads, median of $np runs: $p99 ms (target < 100 ms: $(verdict "$p99 < 100")) (runs: $allp ms)"
            fig "event → first delivery under load, p99, $n threads" "$p99" 100 ms max
        fi
        continue
    fi
    delivery_run "$n" "" "$IDLE_ON"
    if [ -n "$FLOOR" ] && [ -n "$RUN_RATE" ]; then
        r=$(ratio "$RUN_RATE" "$FLOOR")
        echo "  against the median floor ($FLOOR posts/s): ${r}x (target >= 0.7x at the default thread count only)"
        fig "delivery, $n dispatcher threads / floor" "$r" "" x ""
    fi
done

# cg_sum FILES...: the instructions of callgrind's per-thread files, by what
# the thread runs (its loop's function): "dispatchers writer recorder rest".
cg_sum() {
    for f in "$@"; do
        n=$(sed -n 's/^summary: *//p' "$f" | head -n 1)
        kind=rest
        if grep -q ') dispatcher_main' "$f"; then kind=dispatchers
        elif grep -q ') writer_main' "$f"; then kind=writer
        elif grep -q ') recorder_main' "$f"; then kind=recorder
        fi
        echo "$kind ${n:-0}"
    done | awk '{ s[$1] += $2 } END { printf "%.0f %.0f %.0f %.0f", s["dispatchers"], s["writer"], s["recorder"], s["rest"] }'
}

if [ "$INSTRUCTIONS" = 1 ]; then
    n=${DTHREADS%% *}
    CG=$T/callgrind
    mkdir -p "$CG"
    curl -s "http://127.0.0.1:$RPORT/reset" >/dev/null
    if valgrind --tool=callgrind -q --callgrind-out-file="$CG/floor.%p" "$POSTER" \
        --urls "$T/floor.urls" --bodies "$T/body.json" --count "$FLOOR_COUNT" \
        --concurrency "$FLOOR_CONC" >"$CG/floor.sum" 2>&1; then
        floor_i=$(cat "$CG"/floor.* 2>/dev/null | sed -n 's/^summary: *//p' | awk -v n="$FLOOR_COUNT" '{ s += $1 } END { printf "%.0f", s / n }')
    else
        floor_i=""
    fi
    SRV_UNDER="valgrind --tool=callgrind -q --separate-threads=yes --callgrind-out-file=$CG/srv.%p"
    saved_timeout=$RUN_TIMEOUT
    RUN_TIMEOUT=$((RUN_TIMEOUT * 20))
    delivery_run "$n" " (under callgrind)" 0 >"$CG/run.log" 2>&1
    RUN_TIMEOUT=$saved_timeout
    SRV_UNDER=""
    # one file a thread of the one server that ran under callgrind
    if ls "$CG"/srv.*-* >/dev/null 2>&1 && [ -n "$RUN_RATE" ] && [ -n "$floor_i" ]; then
        set -- $(cg_sum "$CG"/srv.*-*)
        echo "instructions a notification (callgrind, $n dispatcher threads, $NNOTIF notifications): $(awk -v d="$1" -v w="$2" -v r="$3" -v o="$4" -v m="$NNOTIF" -v f="$floor_i" 'BEGIN { a = (d + w + r + o) / m; printf "dispatchers %.0f, writer %.0f, recorder %.0f, the rest %.0f; in all %.0f; the floor'"'"'s client %.0f a post (%.2fx of it)", d / m, w / m, r / m, o / m, a, f, a / f }')"
    else
        cannot "instructions (callgrind)" "the run under callgrind did not complete: $(tail -n 3 "$CG/run.log" | tr '\n' ' ')"
    fi
fi

echo "bench-delivery took $(($(date +%s) - T0)) s"
exit $FAILED
