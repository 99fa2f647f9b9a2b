-- 0026_search_index_queue (PostgreSQL): nothing to do. On SQLite this
-- migration makes the contacts' FTS5 index written once per group commit
-- (a queue table the writer applies before COMMIT); PostgreSQL's trigram
-- index (contacts_search_trgm) is an ordinary GIN index, kept by the
-- database itself in every transaction.
SELECT 1;
