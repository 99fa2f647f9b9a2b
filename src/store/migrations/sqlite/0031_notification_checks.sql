-- 0031_notification_checks: the CHECK constraints of notifications and the
-- WHERE of the partial index notifications_finished say "x = 'a' OR x = 'b'
-- OR ..." instead of "x IN ('a', 'b', ...)". Meaning the same, they cost
-- less: SQLite evaluates an IN list of three values or more by building a
-- temporary b-tree of the list, afresh at each execution of the statement,
-- so every notification an event wrote built three, and every outcome
-- written two (about 1 µs each: a third of the cost of the row). A
-- comparison chain builds nothing. sqlite_stats.c asks for the index's WHERE
-- in the same words (a partial index serves a query whose WHERE implies its
-- own, which SQLite decides by comparing the two expressions).
--
-- SQLite cannot change a CHECK constraint in place: both tables are copied
-- as in 0024 (delivery_attempts first points at the new table, so that
-- dropping the old one cascades to nothing), the old ones dropped, the new
-- ones renamed (which carries the reference along) and the indexes made
-- again. Ids and the AUTOINCREMENT counters are kept. PostgreSQL evaluates
-- IN lists without such cost: its schema is unchanged.
DROP TABLE IF EXISTS delivery_attempts_v31;
DROP TABLE IF EXISTS notifications_v31;
CREATE TABLE notifications_v31 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO notifications_v31 (id, account_id, event_id, contact_id, channel, webhook_id, target,
    status, attempts, next_attempt_at, lease_until, last_error, idempotency_key, created_at,
    updated_at, lease_owner)
SELECT id, account_id, event_id, contact_id, channel, webhook_id, target, status, attempts,
    next_attempt_at, lease_until, last_error, idempotency_key, created_at, updated_at, lease_owner
FROM notifications;
CREATE TABLE delivery_attempts_v31 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  INTEGER NOT NULL REFERENCES notifications_v31(id) ON DELETE CASCADE,
    started_at       INTEGER NOT NULL,
    latency_ms       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    http_status      INTEGER NOT NULL DEFAULT 0,
    platform_code    TEXT NOT NULL DEFAULT '',
    platform_message TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT ''
);
INSERT INTO delivery_attempts_v31 SELECT id, notification_id, started_at, latency_ms, outcome,
    http_status, platform_code, platform_message, reason FROM delivery_attempts;
DELETE FROM sqlite_sequence WHERE name IN ('notifications_v31', 'delivery_attempts_v31');
INSERT INTO sqlite_sequence(name, seq) SELECT name || '_v31', seq FROM sqlite_sequence
    WHERE name IN ('notifications', 'delivery_attempts');
DROP TABLE delivery_attempts;
DROP TABLE notifications;
ALTER TABLE notifications_v31 RENAME TO notifications;
ALTER TABLE delivery_attempts_v31 RENAME TO delivery_attempts;
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_contact ON notifications(account_id, contact_id, id);
CREATE INDEX notifications_event ON notifications(event_id, id);
CREATE INDEX notifications_account ON notifications(account_id, id);
CREATE INDEX notifications_pending_webhook ON notifications(webhook_id) WHERE status = 'pending';
CREATE INDEX notifications_finished ON notifications(account_id, updated_at)
    WHERE status = 'delivered' OR status = 'failed' OR status = 'dead';
CREATE INDEX delivery_attempts_notification ON delivery_attempts(notification_id, id);
