-- 0012_certificates: the certificates an account keeps, the names each
-- covers and the contacts subscribed to it. A certificate comes from a PEM
-- bundle (its parsed fields, the PEM, and optionally its private key sealed
-- with the master key, AAD "certificate.private_key") or from metadata only
-- (fingerprint NULL). state is what is stored: expired is derived from
-- not_after when read. IF NOT EXISTS: a database from before the stamp is
-- migrated again from its recorded version.
CREATE TABLE IF NOT EXISTS certificates (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name             TEXT NOT NULL DEFAULT '',
    common_name      TEXT NOT NULL DEFAULT '',
    domains          TEXT NOT NULL,              -- JSON array of the names
    issuer           TEXT NOT NULL DEFAULT '',
    serial           TEXT NOT NULL DEFAULT '',
    key_type         TEXT NOT NULL DEFAULT '',
    key_bits         INTEGER NOT NULL DEFAULT 0,
    fingerprint      TEXT,                       -- hex SHA-256 of the leaf; NULL: metadata only
    product          TEXT NOT NULL DEFAULT '',
    not_before       INTEGER NOT NULL DEFAULT 0,
    not_after        INTEGER NOT NULL,
    chain_len        INTEGER NOT NULL DEFAULT 0,
    pem              TEXT,
    private_key_enc  BLOB,
    state            TEXT NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'revoked', 'superseded')),
    revoked_at       INTEGER NOT NULL DEFAULT 0,
    superseded_by    INTEGER REFERENCES certificates(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS certificates_fingerprint
    ON certificates(account_id, fingerprint) WHERE fingerprint IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificates_not_after ON certificates(account_id, not_after);
-- What falls due next, across accounts (the reminder scheduler's index).
CREATE INDEX IF NOT EXISTS certificates_due ON certificates(not_after) WHERE state = 'active';

CREATE TABLE IF NOT EXISTS certificate_domains (
    certificate_id  INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    domain          TEXT NOT NULL,
    PRIMARY KEY (certificate_id, domain)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS certificate_domains_domain ON certificate_domains(account_id, domain);

-- Deleting a contact unsubscribes it (ON DELETE CASCADE).
CREATE TABLE IF NOT EXISTS certificate_subscribers (
    certificate_id  INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (certificate_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS certificate_subscribers_contact ON certificate_subscribers(contact_id);
