-- 0032_outbox_rows: what an event's notification costs the one writer, made
-- less by three changes to notifications and delivery_attempts. Each insert
-- of a notification went to the table and seven indexes, and to the table's
-- row in sqlite_sequence; now to the table and five indexes.
--
-- * Rows numbered as SQLite does by default (the largest id plus one)
--   instead of with AUTOINCREMENT, which reads and rewrites the table's row
--   in sqlite_sequence at every insert, of a notification and of an
--   attempt. What AUTOINCREMENT adds is that an id is never given twice
--   even after the newest rows are deleted. Here an id can be given again
--   only once the notification that had it and every later one are gone:
--   the retention purge removed the newest ones (nothing newer was written
--   for the retention period), or their account was deleted. The attempts
--   of a removed notification go with it, the API answers only for rows
--   that exist, and only an audit entry older than the retention period can
--   name an id given again.
-- * No index by event. An event's notifications are written by one
--   transaction of the one writer, so their ids follow one another: the
--   event keeps the first and the last (first_notification_id,
--   last_notification_id, set below for the events already written), and a
--   fresh claim walks the table's own key from the first (sqlite_outbox.c).
--   With the index goes the foreign key to events, whose cascade needed it:
--   no event is deleted but with its account, whose own cascade removes its
--   notifications.
-- * No UNIQUE index on idempotency_key. The key names the event, the contact,
--   the channel and the robot, and an event writes one notification for each
--   (events.c skips a contact named twice): new by construction. The index
--   was only checked, never read.
--
-- SQLite cannot change a table's columns or constraints in place: the three
-- tables are copied. events first, its range taken from the index by event
-- while it is still there; then notifications and delivery_attempts as in
-- 0031 (delivery_attempts first points at the new table, so that dropping the
-- old one cascades to nothing); the old tables dropped (events last, once no
-- foreign key names it), the new ones renamed and the indexes made again.
-- Ids and the events' AUTOINCREMENT counter are kept; the other two counters
-- go with the old tables. Run again (a database that forgot it ran), it
-- copies the tables as they are into the same shape. PostgreSQL numbers rows
-- from a sequence, which costs no such write, and its many writers interleave
-- an event's notifications with others': it keeps its index, its foreign key
-- and its UNIQUE index, and only adds the range (its 0032).
DROP TABLE IF EXISTS events_v32;
CREATE TABLE events_v32 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,               -- JSON object: the certificate's fields
    skipped     TEXT NOT NULL DEFAULT '[]',  -- JSON: who got nothing on which channel, and why
    created_at  INTEGER NOT NULL,
    first_notification_id INTEGER NOT NULL DEFAULT 0,  -- its notifications' ids: 0 none
    last_notification_id  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO events_v32 (id, account_id, type, data, skipped, created_at, first_notification_id,
    last_notification_id)
SELECT e.id, e.account_id, e.type, e.data, e.skipped, e.created_at,
    coalesce((SELECT min(n.id) FROM notifications n WHERE n.event_id = e.id), 0),
    coalesce((SELECT max(n.id) FROM notifications n WHERE n.event_id = e.id), 0)
FROM events e;
DELETE FROM sqlite_sequence WHERE name = 'events_v32';
INSERT INTO sqlite_sequence(name, seq) SELECT 'events_v32', seq FROM sqlite_sequence
    WHERE name = 'events';
DROP TABLE IF EXISTS delivery_attempts_v32;
DROP TABLE IF EXISTS notifications_v32;
CREATE TABLE notifications_v32 (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL,        -- its range on the event: no index, no foreign key
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
    idempotency_key TEXT NOT NULL,           -- new by construction (events.c)
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
CREATE INDEX notifications_account ON notifications(account_id, id);
CREATE INDEX notifications_pending_webhook ON notifications(webhook_id) WHERE status = 'pending';
CREATE INDEX notifications_finished ON notifications(account_id, updated_at)
    WHERE status = 'delivered' OR status = 'failed' OR status = 'dead';
CREATE INDEX delivery_attempts_notification ON delivery_attempts(notification_id, id);
DROP TABLE events;
ALTER TABLE events_v32 RENAME TO events;
CREATE INDEX events_account ON events(account_id, id);
