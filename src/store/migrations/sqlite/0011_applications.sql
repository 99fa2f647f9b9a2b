-- 0011_applications: certificate applications and the history of their
-- state changes. An application names one contact of its account (kept as
-- a number: deleting a contact is the service's decision, not a cascade),
-- its product's code, its domains as JSON [{"name","ascii"}], the CSR when
-- one was given, and the certificate PEM it was issued with.
CREATE TABLE applications (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,
    product         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('submitted', 'pending_validation',
                        'approved', 'issued', 'rejected', 'cancelled')),
    domains         TEXT NOT NULL,
    csr             TEXT,
    certificate_pem TEXT,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX applications_account ON applications(account_id, id);
CREATE INDEX applications_account_state ON applications(account_id, state, id);
CREATE INDEX applications_account_contact ON applications(account_id, contact_id, id);

-- The names of each application, one row per A-label, for the domain filter.
CREATE TABLE application_domains (
    application_id  INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    ascii           TEXT NOT NULL,
    PRIMARY KEY (application_id, ascii)
) WITHOUT ROWID;
CREATE INDEX application_domains_name ON application_domains(account_id, ascii);

CREATE TABLE application_transitions (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    from_state      TEXT NOT NULL,
    to_state        TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX application_transitions_app ON application_transitions(application_id, id);
