-- 0023_acme: what certcontacts' own ACME client (RFC 8555) keeps so that an
-- order survives a restart without a second one. Re-runnable (IF NOT EXISTS):
-- tests undo later migrations to make old databases.
--
-- acme_accounts: one ACME account per directory URL; key_enc is the
-- account's ECDSA P-256 key (PKCS#8 PEM) sealed with the master key
-- (store/sealed.h), kid the account URL the CA gave (empty until registered).
CREATE TABLE IF NOT EXISTS acme_accounts (
    id              INTEGER PRIMARY KEY,
    directory_url   TEXT NOT NULL UNIQUE,
    key_enc         BLOB NOT NULL,
    kid             TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);

-- acme_orders: one per application fulfilled through ACME (cascading with
-- it): the order's URLs as the CA named them, its last status, the key made
-- for it when the application has no CSR (sealed; NULL otherwise), when the
-- worker looks at it next (ms) and how many errors in a row it has had.
-- Renewal: the certificate it issued, when that one is to be renewed (ms; 0:
-- not, or a renewal is under way), the renewals that failed in a row, and for
-- a renewal's own order the application it renews.
CREATE TABLE IF NOT EXISTS acme_orders (
    application_id  INTEGER PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    order_url       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT '',
    finalize_url    TEXT NOT NULL DEFAULT '',
    certificate_url TEXT NOT NULL DEFAULT '',
    key_enc         BLOB,
    next_at         INTEGER NOT NULL,
    errors          INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL,
    certificate_id  INTEGER,
    renew_at        INTEGER NOT NULL DEFAULT 0,
    renew_failures  INTEGER NOT NULL DEFAULT 0,
    renewal_of      INTEGER
);
CREATE INDEX IF NOT EXISTS acme_orders_due ON acme_orders(next_at);
CREATE INDEX IF NOT EXISTS acme_orders_renew ON acme_orders(renew_at) WHERE renew_at > 0;

-- acme_challenges: the challenge chosen for each authorization of an order,
-- with what the CA checks: the HTTP-01 token and key authorization (served
-- at /.well-known/acme-challenge/TOKEN) or the DNS-01 record. status is ours:
-- pending (not answered), published (the DNS-01 record was added at
-- published_at, ms, and is awaited), processing (the CA was told), valid,
-- removed (the DNS-01 record was taken away again). dns_record_id: the
-- record's id at Alibaba Cloud DNS, for its removal.
CREATE TABLE IF NOT EXISTS acme_challenges (
    application_id  INTEGER NOT NULL REFERENCES acme_orders(application_id) ON DELETE CASCADE,
    authz_url       TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    type            TEXT NOT NULL,
    url             TEXT NOT NULL,
    token           TEXT NOT NULL,
    key_authorization TEXT NOT NULL,
    status          TEXT NOT NULL,
    published_at    INTEGER NOT NULL DEFAULT 0,
    dns_record_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, authz_url)
);
CREATE INDEX IF NOT EXISTS acme_challenges_token ON acme_challenges(token);
