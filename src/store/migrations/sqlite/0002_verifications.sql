-- 0002_verifications: one-time codes sent to an email address or mobile
-- number, either for a saved contact (contact_id set) or before saving one.
CREATE TABLE verifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id    INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'mobile')),
    target        TEXT NOT NULL,           -- normalised: lower-cased email, E.164 mobile
    code_hash     TEXT NOT NULL,           -- keyed hash, never the code
    status        TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'superseded')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    sent_at       INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    failure       TEXT
);
-- limits per address, and the newest code of a contact's channel
CREATE INDEX verifications_target ON verifications(channel, target, sent_at);
CREATE INDEX verifications_account ON verifications(account_id, sent_at);
CREATE INDEX verifications_contact ON verifications(contact_id, channel, id);
