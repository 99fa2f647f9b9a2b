#!/usr/bin/env python3
"""layers.py — checks the layer rules of src/ (DESIGN.md §2) twice: over the
#include lines of every source and header, and over which object file calls
which (the undefined symbols of each object, from nm, against the layer that
defines them). A layer may use only itself and the layers it names below.

    python3 tests/layers.py [BUILD_DIR]     (default: build)

Prints one line per check, "ok N - ..." or "not ok N - ..." with every
offending include or call, then "N passed, N failed"; exits 1 on a failure.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

# Who may use whom. app/ (and main.c) assembles the program: it may use every
# layer, and no layer may use it.
ALLOWED = {
    "util": {"util"},
    "core": {"core", "util"},
    "store": {"store", "core", "util"},
    "delivery": {"delivery", "store", "core", "util"},
    "service": {"service", "delivery", "store", "core", "util"},
    "http": {"http", "service", "core", "util"},
    "app": {"app", "http", "service", "delivery", "store", "core", "util"},
}
# Headers that are one layer's business alone.
SYSTEM_HEADERS = {
    "sqlite3.h": {"store"},
    "libpq-fe.h": {"store"},
    "microhttpd.h": {"http"},
    "gnutls/gnutls.h": {"http"},
    "gnutls/abstract.h": {"http"},
}
# Public headers that promise more than their layer's rule: the service's API
# shows only core and util to http.
NARROW_HEADERS = {
    "service/service.h": {"service", "core", "util"},
}

# Calls a layer may not make even though the layer it calls is below it:
# delivery only sends, records and retries; who gets what (contacts, verified
# channels, templates) and the master key's secrets are the service's.
FORBIDDEN_CALLS = {
    "delivery": {"cc_aead_open", "cc_aead_seal", "cc_store_contact_get", "cc_store_contact_list",
                 "cc_store_event_get", "cc_store_template_get", "cc_store_template_list"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(path):
    rel = os.path.relpath(path, SRC)
    if os.sep not in rel:
        return "app"  # main.c
    return rel.split(os.sep, 1)[0]


def sources():
    for d, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def check_includes():
    bad = {layer: [] for layer in ALLOWED}
    for path in sources():
        layer = layer_of(path)
        rel = os.path.relpath(path, SRC)
        if layer not in ALLOWED:
            bad.setdefault(layer, []).append(f"{rel}: unknown layer {layer}")
            continue
        narrow = NARROW_HEADERS.get(rel.replace(os.sep, "/"))
        with open(path, encoding="utf-8", errors="replace") as fh:
            for no, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                if kind == "<":
                    owners = SYSTEM_HEADERS.get(os.path.basename(name))
                    if owners and layer not in owners:
                        bad[layer].append(f"{rel}:{no}: <{name}> belongs to {'/'.join(sorted(owners))}")
                    continue
                target = name.split("/", 1)[0] if "/" in name else layer
                allowed = narrow if narrow else ALLOWED[layer]
                if target not in allowed:
                    bad[layer].append(f"{rel}:{no}: includes \"{name}\"")
    return bad


def nm(path, defined):
    args = ["nm", "-P", "--defined-only" if defined else "-u", path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        if defined and (len(parts) < 2 or parts[1] not in "TDBRVWtdbr" or parts[1].islower()):
            continue
        syms.add(parts[0])
    return syms


def check_calls(build):
    objdir = os.path.join(ROOT, build, "obj")
    objects = []
    for d, _, files in os.walk(objdir):
        for f in sorted(files):
            if f.endswith(".o"):
                objects.append(os.path.join(d, f))
    if not objects:
        return None
    owner = {}
    for o in objects:
        layer = layer_of(os.path.join(SRC, os.path.relpath(o, objdir)))
        for s in nm(o, True):
            owner[s] = layer
    bad = {layer: [] for layer in ALLOWED}
    for o in objects:
        rel = os.path.relpath(o, objdir)
        layer = layer_of(os.path.join(SRC, rel))
        for s in sorted(nm(o, False)):
            target = owner.get(s)
            if target and target not in ALLOWED.get(layer, set()):
                bad.setdefault(layer, []).append(f"{rel} calls {s} ({target})")
            elif s in FORBIDDEN_CALLS.get(layer, ()):
                bad.setdefault(layer, []).append(f"{rel} calls {s}, which is the service's to call")
    return bad


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = passed = failed = 0

    def report(ok, title, lines):
        nonlocal n, passed, failed
        n += 1
        print(f"{'ok' if ok else 'not ok'} {n} - {title}")
        for line in lines[:40]:
            print(f"#   {line}")
        if len(lines) > 40:
            print(f"#   ... and {len(lines) - 40} more")
        if ok:
            passed += 1
        else:
            failed += 1

    for layer, lines in check_includes().items():
        uses = ", ".join(sorted(ALLOWED.get(layer, set()) - {layer})) or "nothing"
        report(not lines, f"includes: {layer}/ uses only {uses}", lines)
    calls = check_calls(build)
    if calls is None:
        report(False, f"calls: no objects under {build}/obj (build first)", [])
    else:
        for layer, lines in calls.items():
            uses = ", ".join(sorted(ALLOWED.get(layer, set()) - {layer})) or "nothing"
            report(not lines, f"calls: {layer}/ objects call only {uses}", lines)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
