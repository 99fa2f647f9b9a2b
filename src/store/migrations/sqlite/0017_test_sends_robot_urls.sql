-- 0017_test_sends: one row per test message sent ("Send test" of a contact's
-- channel, or of a robot before it is saved), so that test sends are limited
-- per contact (or robot) and per account over a sliding hour, across
-- restarts. subject is "contact:<id>" or "robot:<keyed hash of the URL>":
-- no address or robot token is kept here. Rows older than a day are pruned
-- as new ones are written.
-- IF NOT EXISTS: a database from before the stamp is migrated again from its
-- recorded version.
CREATE TABLE IF NOT EXISTS test_sends (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    sent_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS test_sends_account ON test_sends(account_id, sent_at);
CREATE INDEX IF NOT EXISTS test_sends_subject ON test_sends(account_id, subject, sent_at);

-- Robots' webhook URLs hold their access token (access_token=, key=, hook
-- id): sealed like secrets. contact_webhooks.url then holds a keyed hash of
-- the URL (for uniqueness per contact and for finding every notification to
-- one robot) and this table the sealed URL and its masked form. A row of
-- contact_webhooks without one here is from before: the service seals it
-- as it starts.
CREATE TABLE IF NOT EXISTS contact_webhook_urls (
    webhook_id INTEGER PRIMARY KEY REFERENCES contact_webhooks(id) ON DELETE CASCADE,
    url_masked TEXT NOT NULL,
    url_enc    BLOB NOT NULL
);
