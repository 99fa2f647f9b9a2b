-- 0001_init: accounts, access keys, contacts with their webhooks, search,
-- idempotency records and the audit log.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    -- kept by the triggers below: the per-account cap and the unfiltered
    -- list total read it instead of counting rows
    contact_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE access_keys (
    id          TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    secret_enc  BLOB NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    created_at  INTEGER NOT NULL,
    disabled_at INTEGER
) WITHOUT ROWID;
CREATE INDEX access_keys_account ON access_keys(account_id);

CREATE TABLE contacts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    email              TEXT,
    email_norm         TEXT,
    email_verified_at  INTEGER,
    mobile             TEXT NOT NULL,
    mobile_verified_at INTEGER,
    id_card_enc        BLOB,
    id_card_masked     TEXT,
    language           TEXT NOT NULL DEFAULT 'en',
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    -- lower-cased name, email and mobile: what keyword search looks in
    search_text        TEXT NOT NULL
);
CREATE UNIQUE INDEX contacts_account_email ON contacts(account_id, email_norm);
CREATE UNIQUE INDEX contacts_account_mobile ON contacts(account_id, mobile);
-- covering index for short keywords (1-2 characters), scanned newest first
CREATE INDEX contacts_account_search ON contacts(account_id, id, search_text);

-- trigram index for keywords of 3 characters and more
CREATE VIRTUAL TABLE contacts_fts USING fts5(
    search_text, content='contacts', content_rowid='id', tokenize='trigram');
CREATE TRIGGER contacts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text);
    UPDATE accounts SET contact_count = contact_count + 1 WHERE id = new.account_id;
END;
CREATE TRIGGER contacts_ad AFTER DELETE ON contacts BEGIN
    UPDATE accounts SET contact_count = contact_count - 1 WHERE id = old.account_id;
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER contacts_au AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TABLE contact_webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    url         TEXT NOT NULL,
    secret_enc  BLOB,
    created_at  INTEGER NOT NULL,
    UNIQUE (contact_id, url)
);

CREATE TABLE idempotency_keys (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    contact_id   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    detail      TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_account ON audit_log(account_id, id);
