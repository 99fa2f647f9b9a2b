#!/bin/sh
# deps.sh — installs the Debian packages certcontacts needs to build, run and
# test, by name, and only those that are missing. apt-get update runs only
# when something has to be installed.
set -eu
PKGS="build-essential clang libclang-rt-14-dev libmicrohttpd-dev libjansson-dev \
libsqlite3-dev sqlite3 libsystemd-dev libcurl4-openssl-dev libssl-dev libgnutls28-dev libcmocka-dev \
libargon2-dev libpwquality-dev cracklib-runtime libidn2-dev libglib2.0-dev tzdata libpq-dev postgresql wrk nodejs curl ca-certificates openssl python3 python3-aiosmtpd \
chromium fonts-noto-cjk pebble gettext groff-base lintian prometheus \
libcsv-dev libjs-chart.js valgrind"
# npm installs the test tooling (tests/package.json); Debian's package only
# when no npm came with Node.js.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
