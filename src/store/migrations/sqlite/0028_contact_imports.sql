-- 0028_contact_imports: contact import jobs and their per-row reports.
--
-- POST /v1/contacts/import parses a CSV file, records a job here and works
-- through it in the background; any instance answers GET .../imports/{id}
-- from these rows, and they outlive a restart. A job still queued or running
-- when its process ended is marked failed at the next start (a mode=all
-- import writes its contacts in one transaction, so none of them stayed).
-- state: queued, running, done, failed. checked: rows matched against the
-- contacts so far (the first pass); processed: rows whose outcome is final. finished_at 0: not finished.
-- owner: the instance running it (its instance.id); heartbeat_at: when it last
-- wrote its progress. At start an instance fails its own unfinished jobs, and
-- those of any instance whose heartbeat is old.
CREATE TABLE IF NOT EXISTS contact_imports (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor           TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    mode            TEXT NOT NULL,
    trust_verified  INTEGER NOT NULL DEFAULT 0,
    encoding        TEXT NOT NULL,
    ignored_columns TEXT NOT NULL DEFAULT '[]',
    total           INTEGER NOT NULL DEFAULT 0,
    checked         INTEGER NOT NULL DEFAULT 0,
    processed       INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    unchanged       INTEGER NOT NULL DEFAULT 0,
    refused         INTEGER NOT NULL DEFAULT 0,
    error_code      TEXT NOT NULL DEFAULT '',
    error_message   TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER NOT NULL DEFAULT 0,
    heartbeat_at    INTEGER NOT NULL DEFAULT 0,
    owner           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS contact_imports_account ON contact_imports(account_id, created_at);
CREATE INDEX IF NOT EXISTS contact_imports_state ON contact_imports(state);

-- One row of a job's report: its line in the file (the header is 1), what
-- the import did or would do with it (create, update, unchanged, refuse),
-- the contact (0: none), its name, email and mobile as the contact list
-- shows them (masked), and why a refused row was refused.
CREATE TABLE IF NOT EXISTS contact_import_rows (
    import_id   INTEGER NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    row_no      INTEGER NOT NULL,
    action      TEXT NOT NULL,
    contact_id  INTEGER NOT NULL DEFAULT 0,
    name        TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    mobile      TEXT NOT NULL DEFAULT '',
    code        TEXT NOT NULL DEFAULT '',
    field       TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL DEFAULT '',
    message_zh  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, row_no)
);
CREATE INDEX IF NOT EXISTS contact_import_rows_action ON contact_import_rows(import_id, action, row_no);
