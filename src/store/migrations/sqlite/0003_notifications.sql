-- 0003_notifications: certificate events, the outbox of notifications they
-- cause (one per contact, channel and target), and every delivery attempt.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,               -- JSON object: the certificate's fields
    skipped     TEXT NOT NULL DEFAULT '[]',  -- JSON: who got nothing on which channel, and why
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_account ON events(account_id, id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,        -- no foreign key: history outlives the contact
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'mobile', 'webhook')),
    webhook_id      INTEGER NOT NULL DEFAULT 0,
    target          TEXT NOT NULL,           -- masked, for display
    status          TEXT NOT NULL CHECK (status IN
                        ('pending', 'delivered', 'failed', 'dead', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,  -- claimed by a dispatcher until then
    last_error      TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_contact ON notifications(account_id, contact_id, id);
CREATE INDEX notifications_event ON notifications(event_id, id);
CREATE INDEX notifications_account ON notifications(account_id, id);

CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    latency_ms       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    http_status      INTEGER NOT NULL DEFAULT 0,
    platform_code    TEXT NOT NULL DEFAULT '',
    platform_message TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_notification ON delivery_attempts(notification_id, id);
