-- When the bot last stopped answering a conversation that looked like another bot talking to it
-- (too many messages, or the same text again and again). Detection mutes the conversation
-- (bot_muted_at) too; unmuting clears only that, and counting starts again after bot_loop_at.
ALTER TABLE conversations ADD COLUMN bot_loop_at timestamptz;
CREATE INDEX conversations_loop ON conversations (bot_loop_at) WHERE bot_loop_at IS NOT NULL;
