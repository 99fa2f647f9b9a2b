-- 0021_verification_target_tag: a verification's address is kept in full
-- only while its code can still be used; once the code is confirmed, fails,
-- is used up, superseded or expired, `target` holds the masked form. The
-- sending limits per address and the 30-minute "confirmed before saving"
-- carry-over match on target_tag instead: a keyed hash of the channel and
-- the address ("h1:" and HMAC-SHA256 under the master key, hex). Rows from
-- before have no tag and are matched on their full address until masked.
ALTER TABLE verifications ADD COLUMN target_tag TEXT;
CREATE INDEX IF NOT EXISTS verifications_target_tag ON verifications(channel, target_tag, sent_at);
