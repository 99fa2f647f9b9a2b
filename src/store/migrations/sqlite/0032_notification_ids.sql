-- 0032_notification_ids: notifications and delivery_attempts number their rows
-- as SQLite does by default (the largest id in the table plus one) instead of
-- with AUTOINCREMENT. AUTOINCREMENT reads and rewrites the table's row in
-- sqlite_sequence at every insert: two b-tree operations more for each
-- notification an event writes and each attempt recorded, about a tenth of
-- the writer's work a notification. What AUTOINCREMENT adds is that an id is
-- never given twice even after the newest rows are deleted. Here an id can be
-- given again only once the notification that had it and every later one are
-- gone: the retention purge removed the newest ones (nothing newer was
-- written for the retention period), or their account was deleted. The
-- attempts of a removed notification go with it, the API answers only for
-- rows that exist, and only an audit entry older than the retention period
-- can name an id given again.
--
-- SQLite cannot drop AUTOINCREMENT in place: both tables are copied as in
-- 0031 (delivery_attempts first points at the new table, so that dropping
-- the old one cascades to nothing), the old ones dropped, the new ones
-- renamed and the indexes made again. Ids are kept; the counters go with
-- the old tables. PostgreSQL numbers rows from a sequence, which costs no
-- such write: its schema is unchanged.
DROP TABLE IF EXISTS delivery_attempts_v32;
DROP TABLE IF EXISTS notifications_v32;
CREATE TABLE notifications_v32 (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,        -- no foreign key: history outlives the contact
    channel         TEXT NOT NULL CHECK (channel = 'email' OR channel = 'mobile'
                        OR channel = 'webhook'),
    webhook_id      INTEGER NOT NULL DEFAULT 0,
    target          TEXT NOT NULL,           -- masked, for display
    status          TEXT NOT NULL CHECK (status = 'pending' OR status = 'delivered'
                        OR status = 'failed' OR status = 'dead' OR status = 'cancelled'
                        OR status = 'skipped'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,  -- claimed by a dispatcher until then
    last_error      TEXT,                    -- for 'skipped': why
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT ''
);
INSERT INTO notifications_v32 (id, account_id, event_id, contact_id, channel, webhook_id, target,
    status, attempts, next_attempt_at, lease_until, last_error, idempotency_key, created_at,
    updated_at, lease_owner)
SELECT id, account_id, event_id, contact_id, channel, webhook_id, target, status, attempts,
    next_attempt_at, lease_until, last_error, idempotency_key, created_at, updated_at, lease_owner
FROM notifications;
CREATE TABLE delivery_attempts_v32 (
    id               INTEGER PRIMARY KEY,
    notification_id  INTEGER NOT NULL REFERENCES notifications_v32(id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    latency_ms       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    http_status      INTEGER NOT NULL DEFAULT 0,
    platform_code    TEXT NOT NULL DEFAULT '',
    platform_message TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT ''
);
INSERT INTO delivery_attempts_v32 SELECT id, notification_id, started_at, latency_ms, outcome,
    http_status, platform_code, platform_message, reason FROM delivery_attempts;
DROP TABLE delivery_attempts;
DROP TABLE notifications;
ALTER TABLE notifications_v32 RENAME TO notifications;
ALTER TABLE delivery_attempts_v32 RENAME TO delivery_attempts;
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_contact ON notifications(account_id, contact_id, id);
CREATE INDEX notifications_event ON notifications(event_id, id);
CREATE INDEX notifications_account ON notifications(account_id, id);
CREATE INDEX notifications_pending_webhook ON notifications(webhook_id) WHERE status = 'pending';
CREATE INDEX notifications_finished ON notifications(account_id, updated_at)
    WHERE status = 'delivered' OR status = 'failed' OR status = 'dead';
CREATE INDEX delivery_attempts_notification ON delivery_attempts(notification_id, id);
