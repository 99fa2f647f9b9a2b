-- 0022_endpoints: the TLS servers an account watches (service/endpoints.c),
-- what the last check of each saw, which alerts are raised now (a bit each:
-- 1 outdated, 2 expiring, 4 error) and when the next check falls due, and
-- the contacts told of each one's alerts. IF NOT EXISTS: a database from
-- before the stamp is migrated again from its recorded version.
CREATE TABLE IF NOT EXISTS endpoints (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    host                  TEXT NOT NULL,
    port                  INTEGER NOT NULL,
    sni                   TEXT NOT NULL DEFAULT '',
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    next_check_at         INTEGER NOT NULL DEFAULT 0,
    alerts                INTEGER NOT NULL DEFAULT 0,
    -- the last check (checked_at 0: never)
    checked_at            INTEGER NOT NULL DEFAULT 0,
    handshake_ok          INTEGER NOT NULL DEFAULT 0,
    error                 TEXT NOT NULL DEFAULT '',
    tls_version           TEXT NOT NULL DEFAULT '',
    fingerprint           TEXT NOT NULL DEFAULT '',
    names                 TEXT NOT NULL DEFAULT '[]',
    issuer                TEXT NOT NULL DEFAULT '',
    not_after             INTEGER NOT NULL DEFAULT 0,
    chain_verified        INTEGER NOT NULL DEFAULT 0,
    chain_complete        INTEGER NOT NULL DEFAULT 0,
    names_match           INTEGER NOT NULL DEFAULT 0,
    certificate_id        INTEGER REFERENCES certificates(id) ON DELETE SET NULL,
    newer_certificate_id  INTEGER REFERENCES certificates(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS endpoints_target ON endpoints(account_id, host, port, sni);
-- What falls due next, across accounts: the checker's one indexed query.
CREATE INDEX IF NOT EXISTS endpoints_due ON endpoints(next_check_at);

-- Deleting a contact stops telling it (ON DELETE CASCADE). The key's
-- columns come first (see 0013 on quick_check and WITHOUT ROWID).
CREATE TABLE IF NOT EXISTS endpoint_contacts (
    endpoint_id  INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (endpoint_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS endpoint_contacts_contact ON endpoint_contacts(contact_id);
