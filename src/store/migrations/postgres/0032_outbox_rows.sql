-- 0032_outbox_rows (PostgreSQL): on SQLite this migration takes from
-- notifications what cost its one writer most at each insert (AUTOINCREMENT,
-- the index by event and its foreign key, the idempotency key's UNIQUE
-- index), and each event keeps the range of its notifications' ids, which
-- follow one another there. Here ids come from a sequence, which costs no
-- extra write, and many writers interleave an event's notifications with
-- others': the index by event stays, and so do its foreign key and the
-- UNIQUE index. The range is kept alike, so that both stores have the same
-- columns (certcontacts db copy moves rows between them as they are): the
-- lowest and highest id of each event's notifications, every one of which
-- lies between them.
ALTER TABLE events ADD COLUMN IF NOT EXISTS first_notification_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS last_notification_id BIGINT NOT NULL DEFAULT 0;
UPDATE events e SET first_notification_id = r.lo, last_notification_id = r.hi
  FROM (SELECT event_id, min(id) AS lo, max(id) AS hi FROM notifications GROUP BY event_id) r
 WHERE r.event_id = e.id;
