-- 0005_templates: an account's own notification texts. A row overrides the
-- built-in title and body of one event type on one channel in one language;
-- deleting the row goes back to the built-in text.
CREATE TABLE templates (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'robot')),
    language    TEXT NOT NULL CHECK (language IN ('en', 'zh-CN')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, event_type, channel, language)
) WITHOUT ROWID;
