-- 0027_search_grams: an index for search keywords of one and two characters.
--
-- Keywords of three characters and more are found through the trigram index
-- contacts_fts; shorter ones scanned every contact of the account with
-- instr(), so a rare one ("王") read all of them (a quarter of a second at a
-- million contacts). contacts_grams holds, for each contact (rowid = its
-- id), every distinct character and pair of adjacent characters of each
-- line of its search_text (never across a newline), each written as the
-- lower-case hex of its UTF-8 bytes ("王" -> e78e8b, "ab" -> 6162), a token
-- the ascii tokenizer keeps whole. A keyword of one or two characters is then
-- exactly one token: its matches are exactly the contacts whose search_text
-- contains it (no keyword holds a newline).
--
-- Contentless and without positions (detail=none) or column sizes: only
-- which contact has which token is kept. The writer keeps it together with
-- contacts_fts from contacts_fts_queue just before each COMMIT
-- (sqlite_writer.c, sqlite_grams.c makes the tokens); a row is removed with
-- the 'delete' command and the tokens made again from the old search_text.
-- The tokens are made in C, so this file cannot fill the table from the
-- contacts already there: the mark below asks the migration step
-- (sqlite_migrate.c) to rebuild contacts_grams from contacts in the same
-- transaction and remove the mark. Run again, it rebuilds again.
CREATE VIRTUAL TABLE IF NOT EXISTS contacts_grams USING fts5(
    grams, content='', detail=none, columnsize=0, tokenize='ascii'
);
INSERT OR REPLACE INTO meta(name, value) VALUES ('search_grams_fill', 'pending');
