-- 0030_import_counts: nothing on SQLite. PostgreSQL's migration of the same
-- number makes its list index partial and lets a transaction defer the
-- contact count; SQLite's planner takes the unique index for a lookup by
-- address, and its triggers update the account's row in place.
SELECT 1;
