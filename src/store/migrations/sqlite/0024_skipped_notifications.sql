-- 0024_skipped_notifications: a channel an event could not use (an address not
-- verified, a contact without robots) is kept as a notification with status
-- 'skipped' and the reason in last_error, so the delivery log shows it beside
-- what was sent. The dispatcher claims only 'pending' rows, so a skipped one
-- is never sent. SQLite cannot change a CHECK constraint in place: both
-- tables are copied (delivery_attempts first points at the new table, so that
-- dropping the old one cascades to nothing), the old ones dropped, the new
-- ones renamed (which carries the reference along) and the indexes made again.
-- Ids and the AUTOINCREMENT counters are kept.
DROP TABLE IF EXISTS delivery_attempts_v24;
DROP TABLE IF EXISTS notifications_v24;
CREATE TABLE notifications_v24 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,        -- no foreign key: history outlives the contact
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'mobile', 'webhook')),
    webhook_id      INTEGER NOT NULL DEFAULT 0,
    target          TEXT NOT NULL,           -- masked, for display
    status          TEXT NOT NULL CHECK (status IN
                        ('pending', 'delivered', 'failed', 'dead', 'cancelled', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,  -- claimed by a dispatcher until then
    last_error      TEXT,                    -- for 'skipped': why
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT ''
);
INSERT INTO notifications_v24 (id, account_id, event_id, contact_id, channel, webhook_id, target,
    status, attempts, next_attempt_at, lease_until, last_error, idempotency_key, created_at,
    updated_at, lease_owner)
SELECT id, account_id, event_id, contact_id, channel, webhook_id, target, status, attempts,
    next_attempt_at, lease_until, last_error, idempotency_key, created_at, updated_at, lease_owner
FROM notifications;
CREATE TABLE delivery_attempts_v24 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  INTEGER NOT NULL REFERENCES notifications_v24(id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    latency_ms       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    http_status      INTEGER NOT NULL DEFAULT 0,
    platform_code    TEXT NOT NULL DEFAULT '',
    platform_message TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT ''
);
INSERT INTO delivery_attempts_v24 SELECT id, notification_id, started_at, latency_ms, outcome,
    http_status, platform_code, platform_message, reason FROM delivery_attempts;
DELETE FROM sqlite_sequence WHERE name IN ('notifications_v24', 'delivery_attempts_v24');
INSERT INTO sqlite_sequence(name, seq) SELECT name || '_v24', seq FROM sqlite_sequence
    WHERE name IN ('notifications', 'delivery_attempts');
DROP TABLE delivery_attempts;
DROP TABLE notifications;
ALTER TABLE notifications_v24 RENAME TO notifications;
ALTER TABLE delivery_attempts_v24 RENAME TO delivery_attempts;
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_contact ON notifications(account_id, contact_id, id);
CREATE INDEX notifications_event ON notifications(event_id, id);
CREATE INDEX notifications_account ON notifications(account_id, id);
CREATE INDEX notifications_pending_webhook ON notifications(webhook_id) WHERE status = 'pending';
CREATE INDEX delivery_attempts_notification ON delivery_attempts(notification_id, id);
