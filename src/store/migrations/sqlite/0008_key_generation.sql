-- 0008_key_generation: a counter that moves, in the same transaction, with
-- every change to access_keys, whichever process makes it. A server caches
-- the keys it has verified and asks this counter whether its cache is still
-- current, so a key the CLI disables is refused by a running server at once.
-- It starts at a random value, so that two databases never share a
-- generation and a cache filled from one is never current for another.
CREATE TABLE key_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO key_generation(id, generation) VALUES (1, abs(random() % 1000000000000));

CREATE TRIGGER access_keys_inserted AFTER INSERT ON access_keys BEGIN
    UPDATE key_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER access_keys_updated AFTER UPDATE ON access_keys BEGIN
    UPDATE key_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER access_keys_deleted AFTER DELETE ON access_keys BEGIN
    UPDATE key_generation SET generation = generation + 1 WHERE id = 1;
END;
