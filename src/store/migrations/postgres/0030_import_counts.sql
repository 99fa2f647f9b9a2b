-- 0030_import_counts: a large import costs in proportion to its rows.
--
-- A lookup by address (account_id = $1 AND email_norm = $2) could take any
-- index that begins with account_id: its own unique index, the other
-- address's, or the covering list index, the last two walking every contact
-- of the account. Without statistics for the account (a new database, a new
-- account, rows written in the same transaction) each costs the planner one
-- row, and a cached plan kept the walk while an import added thousands of
-- contacts. So the address leads its unique index, and the list index is
-- partial (id > 0, true of every row): only a query that states it, the list
-- and the keyword searches, can take it. A lookup by address then has one
-- index it can use.
DROP INDEX IF EXISTS contacts_account_email;
CREATE UNIQUE INDEX contacts_account_email ON contacts(email_norm, account_id);
DROP INDEX IF EXISTS contacts_account_mobile;
CREATE UNIQUE INDEX contacts_account_mobile ON contacts(mobile, account_id);
DROP INDEX IF EXISTS contacts_account_search;
CREATE INDEX contacts_account_search ON contacts(account_id, id, search_text) WHERE id > 0;

-- Each insert's count update adds a version of the account's row, and every
-- later update in the same transaction walks them: an import of n contacts in
-- one transaction cost n^2. While the transaction-local setting
-- certcontacts.count_deferred is on, the insert trigger leaves the count to
-- the transaction, which adds its inserts once (the store's
-- contact_count_settle).
CREATE OR REPLACE FUNCTION contacts_ai() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('certcontacts.count_deferred', true) IS DISTINCT FROM 'on' THEN
        UPDATE accounts SET contact_count = contact_count + 1 WHERE id = NEW.account_id;
    END IF;
    RETURN NULL;
END;
$$;
