#!/bin/sh
# pg-test.sh — a throwaway PostgreSQL server for the tests and benchmarks:
# Debian's own binaries (package postgresql), a cluster in DIR, listening on
# 127.0.0.1 only, run as an unprivileged user (PostgreSQL refuses to run as
# root: as root the cluster belongs to "nobody").
#
#   pg-test.sh start DIR [PORT] [fast]   prints the base URL postgres://cc@127.0.0.1:PORT/
#   pg-test.sh stop DIR                  stops it (DIR is left for the caller to remove)
#   pg-test.sh createdb URL NAME         a new empty database NAME
#
# "fast" turns fsync off (tests that kill processes, not machines); the
# benchmarks start it without, so a commit costs what it costs in production.
set -eu

bindir() {
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  echo "pg-test.sh: PostgreSQL's server binaries are missing (install the Debian package postgresql)" >&2
  return 1
}

# as_owner CMD...: runs CMD as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd=${1:-}
case "$cmd" in
start)
  dir=$2; port=${3:-}; mode=${4:-}
  [ -n "$port" ] && [ "$port" != 0 ] || port=$(free_port)
  bin=$(bindir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir"
  chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U cc --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 200"
    echo "shared_buffers = 64MB"
    echo "log_min_messages = warning"
    if [ "$mode" = fast ]; then
      echo "fsync = off"
      echo "full_page_writes = off"
    fi
  } >>"$dir/data/postgresql.conf"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://cc@127.0.0.1:$port/"
  ;;
stop)
  dir=$2
  [ -d "$dir/data" ] || exit 0
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  ;;
createdb)
  url=$2; name=$3
  psql "${url%/}/postgres" -qAt -c "CREATE DATABASE \"$name\"" >/dev/null
  ;;
*)
  echo "usage: pg-test.sh start DIR [PORT] [fast] | stop DIR | createdb URL NAME" >&2
  exit 2
  ;;
esac
