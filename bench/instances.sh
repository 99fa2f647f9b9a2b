# instances.sh — sourced by bench/run.sh with BENCH_DB=postgres (it uses
# run.sh's start_server, start_instance, readonly_key, run_wrk, wrk_rate,
# pg_db, ratio):
# the throughput of 1 against 3 certcontacts instances on one PostgreSQL
# database.
#
# Three servers, each with its own data directory (lock, logs) and port,
# share one database and the master key of the first, which created the
# account, the admin key POST uses and the readonly key GET uses (a readonly
# detail view writes no audit entry, as in run.sh's GET). GET /v1/contacts/{id} and
# POST /v1/contacts run first against instance 1 alone with CONNS
# connections, then against all three at once: three wrk processes, CONNS/3
# connections each, their rates summed. There is no target: on a machine of
# few cores the three servers, PostgreSQL and wrk share the same CPUs, so a
# third instance adds processes, not CPU.

# wrk3 OUT_PREFIX SECONDS PATH SCRIPT: one wrk per instance at once, each
# with CONNS/3 connections; POST scripts get their own CC_POST_TID0 so the
# bodies stay distinct. Sets RATE (the sum) and NOTE (the notes of all three).
wrk3() {
    pre=$1 s=$2 path=$3 script=$4
    c=$((CONNS / 3))
    k=0
    wpids=""
    for p in $IPORTS; do
        k=$((k + 1))
        CC_POST_TID0=$((WT * k)) CC_AUTH=${WRK_AUTH:-$AUTH} wrk -t"$WT" -c"$c" -d"${s}s" --timeout 10s \
            -s "$script" "http://127.0.0.1:$p$path" >"$pre-$k.txt" 2>&1 &
        wpids="$wpids $!"
    done
    for p in $wpids; do
        wait "$p"
    done
    sum=0 bad=0 serr=""
    for k in 1 2 3; do
        # wrk_rate leaves non2xx and sockerr of the file it read
        wrk_rate "$pre-$k.txt" || {
            RATE=""
            NOTE=": $(tail -n 3 "$pre-$k.txt")"
            return 1
        }
        sum=$((sum + RATE))
        bad=$((bad + ${non2xx:-0}))
        [ -n "$sockerr" ] && serr="$serr; instance $k socket errors: $sockerr"
    done
    RATE=$sum NOTE=""
    [ "$bad" -gt 0 ] && NOTE="; $bad answers not 2xx"
    NOTE="$NOTE$serr"
    return 0
}

instances() {
    if [ $((WT * 4)) -gt 10 ]; then
        cannot "1 vs 3 instances" "BENCH_THREADS=$WT: post.lua keeps bodies distinct for 10 wrk threads at the most (4 x $WT here)"
        return
    fi
    DB_INST=$(pg_db instances) || {
        cannot "1 vs 3 instances" "createdb: $(tail -n 3 "$T/pg-start.txt")"
        return
    }
    IPIDS="" IPORTS=""
    for k in 1 2 3; do
        d=$T/instance$k
        if [ $k = 1 ]; then
            start_server "$d" "$DB_INST" || break
            "$BB/seed" --db "$DB_INST" --count 1000 --seed 7 >"$T/seed-instances.txt" 2>&1 || {
                cannot "1 vs 3 instances" "seeding: $(tail -n 1 "$T/seed-instances.txt")"
                break
            }
            readonly_key || {
                cannot "1 vs 3 instances" "creating a readonly key: $(head -c 300 "$T/rokey.json")"
                break
            }
        else
            mkdir -p "$d/data"
            cp "$T/instance1/data/master.key" "$d/data/master.key"
            start_instance "$d" "$DB_INST" || break
        fi
        IPIDS="$IPIDS $SRV_PID" IPORTS="$IPORTS $PORT"
    done
    # shellcheck disable=SC2086 # the ports, split on purpose
    set -- $IPORTS
    if [ $# -eq 3 ]; then
        P1=$1
        echo "instances: 3 certcontacts on one PostgreSQL database (own data directory and port each, the same master key, --db-pool-size 10 each), 1 000 contacts; 1 instance gets all $CONNS connections, 3 instances $((CONNS / 3)) each from three wrk processes at once (rates summed); no target: on $(nproc) cores the instances, PostgreSQL and wrk share the CPUs"
        CC_POST_BASE=$(od -An -N4 -tu4 /dev/urandom | awk '{ print $1 % 100000000 }')
        export CC_POST_BASE
        WRK_AUTH=$RAUTH
        run_wrk "$T/wrk-inst-warm.txt" "$CONNS" 1 "http://127.0.0.1:$P1/v1/contacts/500" bench/get.lua >/dev/null
        g1="" w1=""
        if run_wrk "$T/wrk-inst-get1.txt" "$CONNS" "$DUR" "http://127.0.0.1:$P1/v1/contacts/500" bench/get.lua; then
            g1=$RATE
            echo "GET 1 instance: $g1 req/s$NOTE"
        else
            cannot "GET 1 instance" "wrk: $(tail -n 3 "$T/wrk-inst-get1.txt")"
        fi
        if wrk3 "$T/wrk-inst-get3" "$DUR" /v1/contacts/500 bench/get.lua; then
            echo "GET 3 instances: $RATE req/s ($(ratio "$RATE" "${g1:-0}") x 1 instance)$NOTE"
        else
            cannot "GET 3 instances" "wrk$NOTE"
        fi
        WRK_AUTH=""
        export CC_POST_TID0=0
        if run_wrk "$T/wrk-inst-post1.txt" "$CONNS" "$DUR" "http://127.0.0.1:$P1/v1/contacts" bench/post.lua; then
            w1=$RATE
            echo "POST 1 instance: $w1 req/s$NOTE"
        else
            cannot "POST 1 instance" "wrk: $(tail -n 3 "$T/wrk-inst-post1.txt")"
        fi
        unset CC_POST_TID0
        if wrk3 "$T/wrk-inst-post3" "$DUR" /v1/contacts bench/post.lua; then
            echo "POST 3 instances: $RATE req/s ($(ratio "$RATE" "${w1:-0}") x 1 instance)$NOTE"
        else
            cannot "POST 3 instances" "wrk$NOTE"
        fi
        unset CC_POST_BASE
    else
        cannot "1 vs 3 instances" "an instance did not start"
    fi
    for p in $IPIDS; do
        stop_pid "$p"
    done
}

instances
