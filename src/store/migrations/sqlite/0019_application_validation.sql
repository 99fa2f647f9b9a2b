-- 0019_application_validation: how an application's domains are to be
-- validated, as the Alibaba API's Create actions name it (ValidateType: DNS
-- or FILE). A row only for an application that named one; a table of its
-- own beside applications, where the validation data ACME supplies can
-- join it later. IF NOT EXISTS: re-runnable for a database from before the
-- stamp.
CREATE TABLE IF NOT EXISTS application_validation (
    application_id  INTEGER PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
    validate_type   TEXT NOT NULL CHECK (validate_type IN ('DNS', 'FILE'))
);
