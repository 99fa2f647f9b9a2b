-- 0004_channel_health: a channel that the platform refused for good is
-- marked broken with the reason until a message gets through again; robots
-- may @mention the contact's verified mobile.
ALTER TABLE contact_webhooks ADD COLUMN mention_mobile INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contact_webhooks ADD COLUMN broken_reason TEXT;
ALTER TABLE contact_webhooks ADD COLUMN broken_at INTEGER;
ALTER TABLE contacts ADD COLUMN email_broken TEXT;
ALTER TABLE contacts ADD COLUMN mobile_broken TEXT;
