-- 0009_meta: the database's own settings, a row each. master_key_id names
-- the master key the sealed values (access key secrets, ID numbers, robot
-- secrets) are written with: a keyed hash of the key, recorded when the key
-- is made and compared at every start (service/service.c), so that a
-- missing or different key file is refused instead of replaced. A database
-- from before this migration that already holds sealed values records
-- 'unknown': its next start with a key file records that key's id, and a
-- start without one is refused.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(name, value)
SELECT 'master_key_id', 'unknown'
 WHERE EXISTS (SELECT 1 FROM access_keys)
    OR EXISTS (SELECT 1 FROM contacts WHERE id_card_enc IS NOT NULL)
    OR EXISTS (SELECT 1 FROM contact_webhooks WHERE secret_enc IS NOT NULL);
