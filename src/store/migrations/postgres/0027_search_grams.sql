-- 0027_search_grams (PostgreSQL): on SQLite this migration adds
-- contacts_grams, an FTS5 index of each contact's characters and pairs of
-- characters for keywords of one and two characters. PostgreSQL keeps its
-- search as it is (the pg_trgm index contacts_search_trgm and the same
-- substring test), so there is nothing to change here; the file keeps the
-- two directories' numbers alike.
SELECT 1;
