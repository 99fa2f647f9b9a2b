-- 0006_claim_by_robot: finding the notifications waiting for one robot must
-- not walk the account's whole history: from the robot's URL to its webhook
-- rows, then to their pending notifications.
CREATE INDEX contact_webhooks_url ON contact_webhooks(url);
CREATE INDEX notifications_pending_webhook ON notifications(webhook_id) WHERE status = 'pending';
