-- 0031_notification_checks (PostgreSQL): on SQLite this migration writes the
-- CHECK constraints of notifications and the WHERE of the partial index
-- notifications_finished as comparison chains instead of IN lists, which
-- SQLite evaluated by building a temporary b-tree at every insert and
-- outcome. PostgreSQL evaluates an IN list of constants without such cost,
-- so there is nothing to change here; the file keeps the two directories'
-- numbers alike.
SELECT 1;
