# common.sh — what bench/run.sh and bench/delivery.sh share: a temporary
# directory removed on exit, every started process (and the PostgreSQL
# cluster of pg_start) stopped on exit, the build of bench helpers with the
# Makefile's warnings, the checks for missing tools, and the CPU of a
# process's threads. Sourced (not run) after the caller has cd'd to the repo
# root and set NAME (for messages), BIN and LIBCC.

T=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || exit 1
PIDS=""
FAILED=0
PGDIR=""

# Stops a process this script started: TERM, then KILL after 10 s.
stop_pid() {
    kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
    return 0
}

# Stops every process this script started and removes the temporary directory.
cleanup() {
    report
    for p in $PIDS; do
        stop_pid "$p"
    done
    PIDS=""
    if [ -n "$PGDIR" ]; then
        sh scripts/pg-test.sh stop "$PGDIR"
        PGDIR=""
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A step that could not run: say so, go on, exit 1 at the end.
cannot() {
    echo "$1: could not run: $2"
    FAILED=1
}

need() { # tool, Debian package
    command -v "$1" >/dev/null 2>&1 || {
        echo "$NAME: $1 is not installed (apt-get install $2)" >&2
        exit 1
    }
}

[ -x "$BIN" ] && [ -f "$LIBCC" ] || {
    echo "$NAME: build/certcontacts or build/libcc.a is missing: run make first" >&2
    exit 1
}

# ---- building bench helpers (the Makefile's warnings, no -Werror) ----------------
BB=$T/bin
mkdir -p "$BB"
CFLAGS="-std=c11 -D_GNU_SOURCE -pthread -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
LIBS=$(env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory print-libs 2>/dev/null)
[ -n "$LIBS" ] || LIBS="-lmicrohttpd -ljansson -lsqlite3 -lcurl -lssl -lcrypto -lm"

build() { # name, libraries...
    name=$1
    shift
    # shellcheck disable=SC2086
    gcc $CFLAGS -Isrc -o "$BB/$name" "bench/$name.c" "$@" 2>"$T/build-$name.log" || {
        echo "$NAME: building bench/$name.c failed:" >&2
        cat "$T/build-$name.log" >&2
        exit 1
    }
}

# pg_start: a durable PostgreSQL cluster of its own in $T/pg (fsync on,
# synchronous_commit on: scripts/pg-test.sh without "fast"), stopped by
# cleanup; sets PG_URL (postgres://cc@127.0.0.1:PORT/). As root the cluster
# runs as nobody, who must be able to pass through $T. Returns 1 when it
# did not start (its output in $T/pg-start.txt).
pg_start() {
    chmod 711 "$T"
    PGDIR=$T/pg
    PG_URL=$(sh scripts/pg-test.sh start "$PGDIR" 0 2>"$T/pg-start.txt") && [ -n "$PG_URL" ]
}

# pg_db NAME: creates database NAME in the cluster of pg_start and prints its URL.
pg_db() {
    sh scripts/pg-test.sh createdb "$PG_URL" "$1" 2>>"$T/pg-start.txt" && printf '%s%s\n' "$PG_URL" "$1"
}

# start_receiver ARGS...: starts bench/receiver with ARGS, its output in
# $T/receiver.out; sets RPID and RPORT (the port it printed). Exits when it
# does not start within 5 s.
start_receiver() {
    "$BB/receiver" "$@" >"$T/receiver.out" 2>&1 &
    RPID=$!
    PIDS="$PIDS $RPID"
    RPORT=""
    i=0
    while [ -z "$RPORT" ] && [ $i -lt 50 ]; do
        RPORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$T/receiver.out")
        [ -n "$RPORT" ] || sleep 0.1
        i=$((i + 1))
    done
    [ -n "$RPORT" ] || {
        echo "$NAME: the receiver did not start: $(cat "$T/receiver.out")" >&2
        exit 1
    }
}

# await_server DIR: after "$BIN serve" was started in the background with its
# stdout and stderr in DIR (and its pid in SRV_PID), waits (15 s at most) for
# its "listening" log line; sets PORT, and kid/ksecret from the admin key it
# printed on first start. Returns 1 when it did not start.
await_server() {
    PORT=""
    i=0
    while [ -z "$PORT" ] && [ $i -lt 150 ]; do
        kill -0 "$SRV_PID" 2>/dev/null || break
        PORT=$(sed -n 's/.*"msg":"listening".*"listen":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$1/stderr" | head -n 1)
        [ -n "$PORT" ] || sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$PORT" ]; then
        echo "$NAME: certcontacts did not start; its log:" >&2
        tail -n 20 "$1/stderr" >&2
        return 1
    fi
    kid=$(sed -n 's/^access key id: *\([^ ]*\).*/\1/p' "$1/stdout")
    ksecret=$(sed -n 's/^access key secret: *\([^ ]*\).*/\1/p' "$1/stdout")
}

# ---- CPU by thread ------------------------------------------------------------------
# thread_cpu PID: "name ticks" for each thread of PID (user + system CPU, in
# clock ticks), one line a thread name, summed over the threads of that name.
thread_cpu() {
    for f in /proc/"$1"/task/*/stat; do
        # the name is in parentheses and may hold spaces: read past the last ')'
        sed -n 's/^[0-9]* (\(.*\)) [A-Za-z] \(.*\)$/\1|\2/p' "$f" 2>/dev/null
    done | awk -F'|' '{ split($2, v, " "); t[$1] += v[11] + v[12] } END { for (k in t) print k, t[k] }'
}

# cpu_split BEFORE AFTER COUNT: the CPU each kind of thread spent between the
# two thread_cpu samples, in µs per one of COUNT (notifications, requests).
cpu_split() {
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v n="$3" 'NR == FNR { b[$1] = $2; next }
        { d = $2 - b[$1]; if (d > 0) { s = s sprintf("%s%s %.0f", s ? ", " : "", $1, d * 1e6 / hz / n); tot += d } }
        END { printf "%s; in all %.0f µs", s, tot * 1e6 / hz / n }' "$1" "$2"
}

# ---- figures for bench/report.html ------------------------------------------------
# fig NAME VALUE TARGET UNIT DIRECTION: records one figure as the script prints
# it (TARGET empty: none; DIRECTION "min" when the value must reach the target,
# "max" when it must stay below it). At exit, bench/report.py renders every
# recorded figure into bench/report.html (run.sh), bench/report-delivery.html
# or bench/report-soak.html; BENCH_REPORT overrides the path.
FIGS=$T/figures
REPORT_NAME=$NAME
: >"$FIGS"
# median FILE [COLUMN]: the median (the lower middle one of an even count) of
# the numbers in COLUMN (1) of FILE; nothing when FILE is missing or empty.
median() {
    sort -n -k"${2:-1},${2:-1}" "$1" 2>/dev/null | awk -v c="${2:-1}" '{ v[NR] = $c } END { if (NR) print v[int((NR + 1) / 2)] }'
}
fig() {
    [ -n "$2" ] && printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" >>"$FIGS"
    return 0
}
report() {
    [ -s "$FIGS" ] || return 0
    case $REPORT_NAME in
    bench) def=report.html ;;
    *) def=report-${REPORT_NAME#bench-}.html ;;
    esac
    out=${BENCH_REPORT:-$ROOT/bench/$def}
    if python3 "$ROOT/bench/report.py" "$REPORT_NAME" <"$FIGS" >"$out.tmp" 2>"$T/report.err"; then
        mv "$out.tmp" "$out" && echo "report: $out"
    else
        rm -f "$out.tmp"
        echo "report: not written: $(tail -n 1 "$T/report.err")"
    fi
}
