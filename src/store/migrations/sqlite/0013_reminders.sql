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

-- SQLite 3.40's quick_check misreads a WITHOUT ROWID table whose NOT NULL
-- column sits between the columns of its primary key ("NULL value in
-- certificate_domains.account_id"), so the start-up check refused the
-- server's own database once it held a certificate or an application. Both
-- name tables are made again with the key's columns first; same rows, same
-- indexes.
CREATE TABLE IF NOT EXISTS certificate_domains_0013 (
    certificate_id  INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
    domain          TEXT NOT NULL,
    account_id      INTEGER NOT NULL,
    PRIMARY KEY (certificate_id, domain)
) WITHOUT ROWID;
INSERT OR IGNORE INTO certificate_domains_0013(certificate_id, domain, account_id)
    SELECT certificate_id, domain, account_id FROM certificate_domains;
DROP TABLE certificate_domains;
ALTER TABLE certificate_domains_0013 RENAME TO certificate_domains;
CREATE INDEX IF NOT EXISTS certificate_domains_domain ON certificate_domains(account_id, domain);

CREATE TABLE IF NOT EXISTS application_domains_0013 (
    application_id  INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    ascii           TEXT NOT NULL,
    account_id      INTEGER NOT NULL,
    PRIMARY KEY (application_id, ascii)
) WITHOUT ROWID;
INSERT OR IGNORE INTO application_domains_0013(application_id, ascii, account_id)
    SELECT application_id, ascii, account_id FROM application_domains;
DROP TABLE application_domains;
ALTER TABLE application_domains_0013 RENAME TO application_domains;
CREATE INDEX IF NOT EXISTS application_domains_name ON application_domains(account_id, ascii);
