-- A reply's delivery schedule lives in PostgreSQL, so retries survive Redis losing its tasks:
-- delivery_next_at is when an undelivered reply needs a worker next (pending or unknown: its
-- next attempt; sending: the end of the send lease its claim holds). NULL once it is sent,
-- failed, or given up.
ALTER TABLE messages ADD COLUMN delivery_next_at timestamptz;

-- The redelivery sweep reads due replies; a reply waits for an earlier one of its conversation
-- still in play. Both indexes hold only replies in play, so they stay small.
CREATE INDEX messages_delivery_due ON messages (delivery_next_at) WHERE delivery_next_at IS NOT NULL;
CREATE INDEX messages_delivery_in_play ON messages (conversation_id, id) WHERE delivery_next_at IS NOT NULL;

-- Replies left undelivered by the previous release (their retries lived only in Redis) are due
-- now if recent; older ones stay as they are.
UPDATE messages SET delivery_next_at = received_at
WHERE delivery_state IN ('pending', 'sending', 'unknown') AND received_at > now() - interval '1 day';
