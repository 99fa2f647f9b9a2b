-- 0026_search_index_queue (PostgreSQL): on SQLite this migration makes the
-- contacts' FTS5 index written once per group commit (a queue table the
-- writer applies before COMMIT; PostgreSQL's trigram index
-- contacts_search_trgm is an ordinary GIN index, kept by the database in
-- every transaction, so there is no queue here), and adds the index through
-- which each search match is checked against the caller's account, kept
-- here too so that both databases have the same indexes.
CREATE INDEX IF NOT EXISTS contacts_id_account ON contacts(id, account_id);
