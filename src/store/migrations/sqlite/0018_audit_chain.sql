-- 0018_audit_chain: the audit log becomes audit_entries, an append-only
-- hash chain. Each entry has who (actor), from where (source address,
-- request id), the enumerated action, its target and the changed fields
-- with personal values masked, and hash: SHA-256 over its content and the
-- hash of the entry before it (core/audit.c). Right after the migrations
-- the store (sqlite_audit.c, cc_sq_audit_seal) moves the rows of the old
-- audit_log table in, chains them, and leaves audit_log as a read-only view
-- of audit_entries for queries written against the old table: SQL alone
-- cannot tell a table from a view, which a migration that may run again
-- would have to.
--
-- Nothing updates an entry, and only the retention job deletes entries:
-- the oldest ones, up to audit_anchor.last_id, which it moves forward (with
-- the hash of the last entry removed, so the chain stays verifiable) in the
-- same transaction. The triggers refuse anything else.
--
-- access_key_life: an access key's optional expiry and when it was last
-- used (written at most once a minute). A table of its own, not columns of
-- access_keys: writing last use must not move the key generation (0008),
-- which would empty every server's key cache each minute.
--
-- Every statement may run again (IF NOT EXISTS) for a database from before
-- the stamp.
CREATE TABLE IF NOT EXISTS audit_entries (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    account_id  INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    changes     TEXT,
    hash        TEXT
);
CREATE INDEX IF NOT EXISTS audit_entries_account ON audit_entries(account_id, id);
CREATE INDEX IF NOT EXISTS audit_entries_target ON audit_entries(account_id, target_type, target_id, id);
CREATE INDEX IF NOT EXISTS audit_entries_created ON audit_entries(created_at);

CREATE TABLE IF NOT EXISTS audit_anchor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_id    INTEGER NOT NULL,      -- the last entry removed by retention
    hash       TEXT NOT NULL,         -- its hash: the predecessor of the first entry kept
    removed    INTEGER NOT NULL,      -- entries removed so far
    updated_at INTEGER NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries
    WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries
    WHEN OLD.id > coalesce((SELECT last_id FROM audit_anchor WHERE id = 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit entries are removed only by retention');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_forward BEFORE UPDATE ON audit_anchor
    WHEN NEW.last_id < OLD.last_id
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor only moves forward');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor cannot be removed');
END;

CREATE TABLE IF NOT EXISTS access_key_life (
    key_id       TEXT PRIMARY KEY REFERENCES access_keys(id) ON DELETE CASCADE,
    expires_at   INTEGER,             -- ms; NULL: never
    last_used_at INTEGER              -- ms; NULL: never used
) WITHOUT ROWID;
