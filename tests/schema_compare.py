#!/usr/bin/env python3
"""schema_compare.py — compares a SQLite database's schema with a PostgreSQL
database's: the same tables and views, each with the same columns in the same
order (types mapped INTEGER -> bigint, TEXT -> text, BLOB -> bytea; NOT NULL
alike), the same indexes by name (with their table, columns, uniqueness and
whether partial) and the same foreign keys (columns, referenced table and
columns, ON DELETE). SQLite's internal sqlite_* tables and the FTS5 tables
contacts_fts* and contacts_grams* are left out, and PostgreSQL's
contacts_search_trgm (their replacement) and the indexes PostgreSQL makes for PRIMARY KEY and UNIQUE
constraints (SQLite's sqlite_autoindex_*). Three indexes PostgreSQL shapes
otherwise (PG_SHAPED) are compared as SQLite's; the index by event of
notifications and its foreign key are PostgreSQL's only (PG_ONLY_*).

    python3 tests/schema_compare.py SQLITE_FILE POSTGRES_URL

Prints TAP: "ok N - ..." or "not ok N - ..." with the differences as "#"
lines, then the plan; exits 1 on a difference, 2 when a database cannot be
read. Uses python3's sqlite3 module and `psql -At` (no other packages).
"""
import sqlite3
import subprocess
import sys

SEP = "\x1f"

# SQLite's declared type -> PostgreSQL's format_type().
TYPES = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}
# PostgreSQL's pg_constraint.confdeltype -> SQLite's foreign_key_list on_delete.
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
             "d": "SET DEFAULT"}


def sqlite_ignored(name):
    return name.startswith(("sqlite_", "contacts_fts", "contacts_grams"))


def read_sqlite(path):
    """{relation: {"kind", "columns", "indexes", "fks"}} of a SQLite file."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    rels = {}
    for name, kind in db.execute("SELECT name, type FROM sqlite_master "
                                 "WHERE type IN ('table', 'view') ORDER BY name"):
        if sqlite_ignored(name):
            continue
        cols = []
        for _, cname, ctype, notnull, _, pk in db.execute(
                "SELECT * FROM pragma_table_info(?)", (name,)):
            cols.append((cname, TYPES.get(ctype.upper(), ctype.lower() or "?"),
                         bool(notnull or pk)))
        idx = {}
        for iname, unique, partial in db.execute(
                "SELECT l.name, l.\"unique\", l.partial FROM pragma_index_list(?) AS l "
                "JOIN sqlite_master m ON m.name = l.name AND m.type = 'index' "
                "WHERE m.sql IS NOT NULL", (name,)):
            icols = [r[0] for r in db.execute(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (iname,))]
            idx[iname] = (tuple(icols), bool(unique), bool(partial))
        fks = {}
        for fid, _, ref, frm, to, _, on_delete, _ in db.execute(
                "SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq", (name,)):
            f = fks.setdefault(fid, [ref, [], [], on_delete.upper()])
            f[1].append(frm)
            f[2].append(to)
        rels[name] = {"kind": kind, "columns": cols, "indexes": idx,
                      "fks": sorted(fk_text(*f) for f in fks.values())}
    db.close()
    return rels


def fk_text(ref, frm, to, on_delete):
    return "(%s) -> %s(%s) ON DELETE %s" % (", ".join(frm), ref, ", ".join(to), on_delete)


def psql(url, sql):
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-F", SEP, "-d", url,
                        "-c", sql], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("psql: " + r.stderr.strip())
    return [line.split(SEP) for line in r.stdout.splitlines() if line]


PG_RELATIONS = """
SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')"""

PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum"""

# Indexes but those of PRIMARY KEY and UNIQUE constraints; their columns.
PG_INDEXES = """
SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
       string_agg(coalesce(a.attname, '?'), ',' ORDER BY k.ord)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
 WHERE n.nspname = current_schema()
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid
                      AND c.conrelid = t.oid AND c.contype IN ('p', 'u'))
 GROUP BY t.relname, i.relname, x.indisunique, x.indpred"""

PG_FKS = """
SELECT c.relname, k.oid, f.relname, k.confdeltype,
       string_agg(a.attname, ',' ORDER BY u.ord), string_agg(fa.attname, ',' ORDER BY u.ord)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_class f ON f.oid = k.confrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS u(ck, fk, ord)
  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.ck
  JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = u.fk
 WHERE n.nspname = current_schema() AND k.contype = 'f'
 GROUP BY c.relname, k.oid, f.relname, k.confdeltype"""


# Indexes shaped otherwise on PostgreSQL (its migration 0030: a lookup by
# address must have one index it can use, whatever the planner's statistics),
# compared as SQLite's. SQLite's planner takes a unique index an equality
# covers without help.
PG_SHAPED = {
    "contacts_account_email": (("account_id", "email_norm"), True, False),
    "contacts_account_mobile": (("account_id", "mobile"), True, False),
    "contacts_account_search": (("account_id", "id", "search_text"), False, False),
}


# Kept on PostgreSQL only (SQLite's migration 0032): there many writers
# interleave an event's notifications, so they are found by this index, and
# its foreign key stays with it; on SQLite one writer gives an event's
# notifications ids that follow one another, which the event keeps as a range.
PG_ONLY_INDEXES = {"notifications_event"}
PG_ONLY_FKS = {"notifications": {"(event_id) -> events(id) ON DELETE CASCADE"}}


def read_postgres(url):
    """The same shape as read_sqlite, of the PostgreSQL database at url."""
    rels = {}
    for name, kind in psql(url, PG_RELATIONS):
        rels[name] = {"kind": kind, "columns": [], "indexes": {}, "fks": []}
    for rel, name, ctype, notnull in psql(url, PG_COLUMNS):
        rels[rel]["columns"].append((name, ctype, notnull == "t"))
    for rel, name, unique, partial, cols in psql(url, PG_INDEXES):
        if name != "contacts_search_trgm" and name not in PG_ONLY_INDEXES:
            rels[rel]["indexes"][name] = PG_SHAPED.get(
                name, (tuple(cols.split(",")), unique == "t", partial == "t"))
    for rel, _, ref, deltype, frm, to in psql(url, PG_FKS):
        fk = fk_text(ref, frm.split(","), to.split(","), ON_DELETE[deltype])
        if fk not in PG_ONLY_FKS.get(rel, ()):
            rels[rel]["fks"].append(fk)
    for r in rels.values():
        r["fks"].sort()
    return rels


def col_text(c):
    return "%s %s%s" % (c[0], c[1], " NOT NULL" if c[2] else "")


def idx_text(name, i):
    return "%s%s (%s)%s" % ("UNIQUE " if i[1] else "", name, ", ".join(i[0]),
                            " WHERE ..." if i[2] else "")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, what, diffs):
        self.n += 1
        if diffs:
            self.failed += 1
            print("not ok %d - %s" % (self.n, what))
            for d in diffs:
                print("#   " + d)
        else:
            print("ok %d - %s" % (self.n, what))


def compare_columns(a, b):
    diffs = []
    for i in range(max(len(a), len(b))):
        ca = col_text(a[i]) if i < len(a) else "(none)"
        cb = col_text(b[i]) if i < len(b) else "(none)"
        if ca != cb:
            diffs.append("column %d: sqlite %s, postgres %s" % (i + 1, ca, cb))
    return diffs


def compare_sets(a, b, what):
    return (["only in sqlite: %s %s" % (what, x) for x in sorted(set(a) - set(b))] +
            ["only in postgres: %s %s" % (what, x) for x in sorted(set(b) - set(a))])


def main(argv):
    if len(argv) != 3:
        print("usage: schema_compare.py SQLITE_FILE POSTGRES_URL", file=sys.stderr)
        return 2
    try:
        lite = read_sqlite(argv[1])
        pg = read_postgres(argv[2])
    except (sqlite3.Error, RuntimeError, OSError) as e:
        print("Bail out! %s" % e)
        return 2
    tap = Tap()
    tap.check("the same tables and views",
              compare_sets(lite, pg, "relation") +
              ["%s: sqlite %s, postgres %s" % (n, lite[n]["kind"], pg[n]["kind"])
               for n in sorted(set(lite) & set(pg)) if lite[n]["kind"] != pg[n]["kind"]])
    for name in sorted(set(lite) & set(pg)):
        a, b = lite[name], pg[name]
        tap.check("%s: columns" % name, compare_columns(a["columns"], b["columns"]))
        ia = {idx_text(k, v) for k, v in a["indexes"].items()}
        ib = {idx_text(k, v) for k, v in b["indexes"].items()}
        tap.check("%s: indexes" % name, compare_sets(ia, ib, "index"))
        tap.check("%s: foreign keys" % name, compare_sets(a["fks"], b["fks"], "foreign key"))
    print("1..%d" % tap.n)
    print("# %d passed, %d failed" % (tap.n - tap.failed, tap.failed))
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
