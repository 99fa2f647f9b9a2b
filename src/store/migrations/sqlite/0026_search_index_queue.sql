-- 0026_search_index_queue: the contacts' trigram index (contacts_fts) is
-- written once per group commit instead of once per write.
--
-- The writer runs each write of a batch in its own SAVEPOINT; an FTS5 table
-- written in a transaction flushes its pending terms to a new index segment
-- at every SAVEPOINT, so a batch of N contact writes made N segments (and
-- the merges that follow). The triggers now queue what the index must
-- learn in a plain table, which a savepoint rolls back like any other; the
-- writer applies the queue to contacts_fts in seq order and empties it just
-- before each COMMIT, in the same transaction (sqlite_writer.c). Readers
-- only ever see committed transactions, so the index is never behind them.
-- op: 1 adds (rid, search_text) to the index, 0 removes it.
CREATE TABLE IF NOT EXISTS contacts_fts_queue (
    seq         INTEGER PRIMARY KEY,
    op          INTEGER NOT NULL CHECK (op IN (0, 1)),
    rid         INTEGER NOT NULL,
    search_text TEXT NOT NULL
);

DROP TRIGGER IF EXISTS contacts_ai;
DROP TRIGGER IF EXISTS contacts_ad;
DROP TRIGGER IF EXISTS contacts_au;
CREATE TRIGGER contacts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts_queue(op, rid, search_text) VALUES (1, new.id, new.search_text);
    UPDATE accounts SET contact_count = contact_count + 1 WHERE id = new.account_id;
END;
CREATE TRIGGER contacts_ad AFTER DELETE ON contacts BEGIN
    UPDATE accounts SET contact_count = contact_count - 1 WHERE id = old.account_id;
    INSERT INTO contacts_fts_queue(op, rid, search_text) VALUES (0, old.id, old.search_text);
END;
CREATE TRIGGER contacts_au AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO contacts_fts_queue(op, rid, search_text) VALUES (0, old.id, old.search_text);
    INSERT INTO contacts_fts_queue(op, rid, search_text) VALUES (1, new.id, new.search_text);
END;

-- Each match of the trigram index is checked against the caller's account:
-- through this index (16 bytes a contact) rather than the contact's whole
-- row, so a search that counts thousands of matches stays in a few pages.
CREATE INDEX IF NOT EXISTS contacts_id_account ON contacts(id, account_id);
