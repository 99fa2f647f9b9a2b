-- 0016_user_email_per_account: a console user's email is unique within its
-- account, no longer across the server, so that an admin adding a user
-- cannot learn that the email exists in another account. Sign-in by email
-- alone works while the email belongs to one user of the server; otherwise
-- the sign-in names the account (service/users.c).
--
-- SQLite cannot drop a column's UNIQUE, so the table is rebuilt (ids and
-- AUTOINCREMENT's sequence kept). Dropping the old table ends every console
-- session (sessions reference users ON DELETE CASCADE): users sign in again.
-- Re-runnable: it always starts from the current users table.
CREATE TABLE IF NOT EXISTS users_0016 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    email_norm      TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    password_hash   TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh-CN')),
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER,
    UNIQUE (account_id, email_norm)
);
INSERT INTO users_0016 (id, account_id, email, email_norm, role, password_hash, language,
                        disabled_at, created_at, last_sign_in_at)
    SELECT id, account_id, email, email_norm, role, password_hash, language, disabled_at,
           created_at, last_sign_in_at FROM users;
DROP TABLE users;
ALTER TABLE users_0016 RENAME TO users;
CREATE INDEX IF NOT EXISTS users_account ON users(account_id);
CREATE INDEX IF NOT EXISTS users_email ON users(email_norm);
