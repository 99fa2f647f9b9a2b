-- 0014_application_idempotency: the Idempotency-Key of each application
-- submission, and the application it made, so that a retried POST
-- /v1/applications answers the first application (and creates no second
-- inline contact). Kept apart from the contacts' keys (idempotency_keys):
-- the same key text may be used for one contact and one application.
-- IF NOT EXISTS: a database from before the stamp is migrated again from its
-- recorded version.
CREATE TABLE IF NOT EXISTS application_idempotency_keys (
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
