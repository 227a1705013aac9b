-- A conversation the bot stays out of (muted by an agent or admin) until unmuted. The global
-- "pause the bot" switch is the setting bot_paused.
ALTER TABLE conversations ADD COLUMN bot_muted_at timestamptz;
