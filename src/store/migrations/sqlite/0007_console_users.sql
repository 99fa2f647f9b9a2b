-- 0007_console_users: people who sign in to the web console. A user belongs
-- to one account and has one role there, like an access key; the email
-- signs in, so it is unique across the whole server. The password is kept
-- only as an argon2id encoded hash.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    email_norm      TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    password_hash   TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh-CN')),
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER
);
CREATE INDEX users_account ON users(account_id);

-- A signed-in browser: the cookie holds a random token, this table only its
-- SHA-256. The session ends at expires_at, or earlier when idle too long.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

-- Wrong passwords per email address (known or not): counted within a
-- window; too many lock the address for a while.
CREATE TABLE sign_in_failures (
    email_norm       TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    first_failure_at INTEGER NOT NULL,
    locked_until     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
