-- 0025_shared_limits (PostgreSQL): limits that must hold for a whole deployment when
-- several instances share one PostgreSQL database (the per-robot rate
-- limits, the Alibaba API's per-key rate and its nonce replay cache). The
-- statements that use them run in READ COMMITTED, each under a row lock or
-- as one INSERT ... ON CONFLICT, so instances never wait on a retry.
--
-- shared_states: one small state per name (a robot's recent sends, an access
-- key's token bucket), read and written under a row lock; the row is
-- forgotten once forget_at has passed.
CREATE TABLE IF NOT EXISTS shared_states (
    name      TEXT PRIMARY KEY,
    state     TEXT NOT NULL DEFAULT '',
    forget_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS shared_states_forget ON shared_states(forget_at);
-- acs_nonces: each signature nonce an access key used, until its timestamp
-- leaves the clock window (after which the clock check refuses a replay);
-- a key may hold so many live ones at once (acs_nonces_per_key).
CREATE TABLE IF NOT EXISTS acs_nonces (
    key_id     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX IF NOT EXISTS acs_nonces_expiry ON acs_nonces(expires_at);
CREATE INDEX IF NOT EXISTS acs_nonces_live ON acs_nonces(key_id, expires_at);
