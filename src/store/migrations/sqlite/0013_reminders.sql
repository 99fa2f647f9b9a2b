-- 0013_reminders: expiry reminders. reminder_settings holds an account's
-- thresholds, delivery window and time zone (no row: the defaults, see
-- service/reminders.c). certificate_reminders holds each certificate's
-- reminder state beside it: its own thresholds (NULL: the account's), when
-- its next reminder falls due (NULL: none left) and the due time of the
-- last point already raised, so a restart never raises it again. A table of
-- its own rather than new columns of certificates: IF NOT EXISTS keeps the
-- migration re-runnable for a database from before the stamp.
CREATE TABLE IF NOT EXISTS reminder_settings (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    days_before    TEXT NOT NULL,              -- JSON array of whole days, descending
    on_expiry_day  INTEGER NOT NULL,
    day_after      INTEGER NOT NULL,
    window_start   INTEGER,                    -- minutes after local midnight; NULL: any time
    window_end     INTEGER,
    time_zone      TEXT NOT NULL,              -- IANA name
    updated_at     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS certificate_reminders (
    certificate_id    INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
    account_id        INTEGER NOT NULL,
    reminder_days     TEXT,                    -- JSON array; NULL: the account's days_before
    next_reminder_at  INTEGER,                 -- ms; NULL: nothing left to remind
    raised_at         INTEGER NOT NULL DEFAULT 0 -- ms: due time of the last point raised
);
-- What falls due next, across accounts: the scheduler's one indexed query.
CREATE INDEX IF NOT EXISTS certificate_reminders_due
    ON certificate_reminders(next_reminder_at) WHERE next_reminder_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificate_reminders_account
    ON certificate_reminders(account_id, certificate_id);
-- The next reminder time replaces the expiry time as the scheduler's index.
DROP INDEX IF EXISTS certificates_due;
-- Certificates from before reminders are looked at once when the server
-- starts (due now): the scheduler computes their points.
INSERT OR IGNORE INTO certificate_reminders(certificate_id, account_id, next_reminder_at)
    SELECT id, account_id, 0 FROM certificates WHERE state = 'active';
