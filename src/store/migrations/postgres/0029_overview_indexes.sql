-- 0029_overview_indexes: what the console's Overview (GET /v1/stats) reads,
-- each by an index of its own so that a large account's page stays a few
-- index ranges. Partial indexes: only the rows the Overview looks for are in
-- them, so the dispatcher's hot path pays only when a notification finishes.
-- An account's finished notifications by the time of their outcome.
CREATE INDEX IF NOT EXISTS notifications_finished ON notifications(account_id, updated_at)
    WHERE status IN ('delivered', 'failed', 'dead');
-- Robots and addresses a platform refused for good (few, across accounts).
CREATE INDEX IF NOT EXISTS contact_webhooks_broken ON contact_webhooks(broken_at)
    WHERE broken_reason IS NOT NULL;
CREATE INDEX IF NOT EXISTS contacts_broken ON contacts(account_id, id)
    WHERE email_broken IS NOT NULL OR mobile_broken IS NOT NULL;
-- Contacts with an address not verified yet.
CREATE INDEX IF NOT EXISTS contacts_unverified ON contacts(account_id, id)
    WHERE (email IS NOT NULL AND email_verified_at IS NULL)
       OR (mobile <> '' AND mobile_verified_at IS NULL);
