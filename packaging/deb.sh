#!/bin/sh
# deb.sh BUILD VERSION MAINTAINER — BUILD/certcontacts_VERSION_ARCH.deb with dpkg-deb,
# from an install tree (`make install DESTDIR=BUILD/deb-root PREFIX=/usr`)
# and DEBIAN/ made here: control (Depends: the packages of the libraries the
# binary links, found with dpkg -S), conffiles, md5sums and the maintainer
# scripts of packaging/debian/. Prints the package's path.
set -eu
build=$1
version=$2
maintainer=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
root=$build/deb-root
deb=$build/certcontacts_${version}_${arch}.deb

rm -rf "$root"
make -s --no-print-directory -C "$here/.." BUILD="$build" install DESTDIR="$(cd "$build" && pwd)/deb-root" PREFIX=/usr >/dev/null
# Debian ships binaries stripped (the build keeps its debugging symbols).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/certcontacts"

# What Debian asks of every package besides its files: the copyright, a
# changelog (a native package's), lintian's word on the config's mode. The
# changelog's date is the last commit's, so that a rebuild is the same.
doc=$root/usr/share/doc/certcontacts
install -d -m 0755 "$doc" "$root/usr/share/lintian/overrides"
install -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/certcontacts"
when=$(git -C "$here" log -1 --format=%aD 2>/dev/null || date -R)
printf 'certcontacts (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$version" "$version" "$maintainer" "$when" | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# The runtime packages: the one that owns each shared library the binary
# names (DT_NEEDED; what those need is their packages' business), plus what
# the server reads at run time besides libraries.
bin="$root/usr/bin/certcontacts"
libs=$(ldd "$bin")
candidates=""
for soname in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
    lib=$(printf '%s\n' "$libs" | awk -v so="$soname" '$1 == so && $3 ~ /^\// { print $3 }')
    if [ -z "$lib" ]; then
        echo "deb.sh: ldd does not find $soname" >&2
        exit 1
    fi
    # dpkg knows a library by the path its package ships, /lib/... or /usr/lib/...
    real=$(readlink -f "$lib")
    candidates="$candidates ${real#/usr} /usr${real#/usr}"
done
# one dpkg -S for all (it reads its whole database each time); a library
# that no package owns fails the build
owned=$(dpkg -S $candidates 2>/dev/null || true)
for c in $candidates; do
    case "$c" in /usr/*) continue ;; esac
    printf '%s\n' "$owned" | grep -q -e ": $c\$" -e ": /usr$c\$" || {
        echo "deb.sh: no package owns $c" >&2
        exit 1
    }
done
libpkgs=$(printf '%s\n' "$owned" | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:.*//')
# libsystemd0: loaded by the server at start under systemd (dlopen, not linked)
depends=$(printf '%s\n' $libpkgs libsystemd0 ca-certificates tzdata cracklib-runtime | sort -u | paste -sd, - | sed 's/,/, /g')
size=$(du -sk "$root" | cut -f1)

mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: certcontacts
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Homepage: https://github.com/certcontacts/certcontacts
Description: certificate contacts, expiry reminders and notifications server
 certcontacts keeps an organisation's contacts for its TLS certificates,
 verifies their email addresses and mobile numbers, and notifies them by
 email, SMS, DingTalk, Feishu, Lark and WeCom of certificate events and
 expiry. It serves a REST API, the Alibaba Cloud CAS API and a web console.
 .
 The package runs it as a hardened systemd service (certcontacts.service)
 with its data in /var/lib/certcontacts and its configuration in
 /etc/certcontacts/certcontacts.conf.
CONTROL
echo /etc/certcontacts/certcontacts.conf > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >/dev/null
echo "$deb"
