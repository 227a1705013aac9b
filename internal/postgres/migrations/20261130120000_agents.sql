-- Handing off to people: the default team, agent presence, the handoff package and its SLA,
-- assignment, CSAT, canned replies, business hours, and the one switch that keeps the bot quiet.

-- One team is the default: routing falls back to it, and it sees conversations without a team.
-- `baton migrate` moves the flag when BATON_DEFAULT_TEAM names another team.
ALTER TABLE teams ADD COLUMN is_default boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX teams_one_default ON teams (is_default) WHERE is_default;
-- The weekly schedule, timezone and holidays (handoff.Calendar's JSON); NULL = always open.
ALTER TABLE teams ADD COLUMN hours jsonb;
INSERT INTO teams (name, created_at, is_default) VALUES ('support', now(), true)
    ON CONFLICT (name) DO UPDATE SET is_default = true;

-- Presence: online agents take conversations; a heartbeat older than the timeout counts as
-- offline (swept to 'offline' too, so lists say so).
ALTER TABLE users ADD COLUMN presence text NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline'));
ALTER TABLE users ADD COLUMN presence_at timestamptz;
-- How many active conversations the agent holds. Kept by every path that gives or takes one,
-- under the agent's row lock, so one conditional statement can assign under capacity.
ALTER TABLE users ADD COLUMN load int NOT NULL DEFAULT 0 CHECK (load >= 0);
CREATE INDEX users_online ON users (id) WHERE presence = 'online';

-- Why the bot stays quiet (agent, mute, opt-out, …) and until when; the policy reads only this.
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS bot_paused_until timestamptz;
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS pause_reason text;
-- An agent conversation waiting on the customer this long stops counting against capacity.
ALTER TABLE conversations ADD COLUMN inactive_since timestamptz;
-- Each agent's conversations, to count their load.
CREATE INDEX conversations_assigned ON conversations (assigned_user_id) WHERE status = 'agent';

-- The handoff package and where the handoff stands. created_at is when the wait began; it
-- survives a return to the queue, so the customer keeps their place.
ALTER TABLE handoffs ADD COLUMN priority int NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100);
ALTER TABLE handoffs ADD COLUMN team_id bigint REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE handoffs ADD COLUMN summary jsonb NOT NULL DEFAULT '{}';
ALTER TABLE handoffs ADD COLUMN sla_due_at timestamptz;
ALTER TABLE handoffs ADD COLUMN sla_breached_at timestamptz;
ALTER TABLE handoffs ADD COLUMN assigned_user_id bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE handoffs ADD COLUMN assigned_at timestamptz;
ALTER TABLE handoffs ADD COLUMN first_response_at timestamptz;
ALTER TABLE handoffs ADD COLUMN resolved_at timestamptz;
CREATE INDEX handoffs_open ON handoffs (conversation_id, id) WHERE resolved_at IS NULL;

-- Every assignment, claim and transfer, for metrics and for checking capacity afterwards.
CREATE TABLE assignments (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    handoff_id      bigint REFERENCES handoffs (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('assign', 'claim', 'transfer')),
    created_at      timestamptz NOT NULL,
    ended_at        timestamptz
);
CREATE INDEX assignments_conversation ON assignments (conversation_id, id);
CREATE INDEX assignments_user_open ON assignments (user_id) WHERE ended_at IS NULL;

-- Satisfaction: asked when an agent resolves, answered by a score 1–5 within 24 h.
ALTER TABLE episodes ADD COLUMN csat_asked_at timestamptz;
ALTER TABLE episodes ADD COLUMN csat_score int CHECK (csat_score BETWEEN 1 AND 5);
ALTER TABLE episodes ADD COLUMN csat_at timestamptz;

-- Replies agents insert with a shortcut; admins manage them. team_id NULL = every team.
CREATE TABLE canned_replies (
    id         bigserial PRIMARY KEY,
    shortcut   text NOT NULL UNIQUE CHECK (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
    title      text NOT NULL DEFAULT '',
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    team_id    bigint REFERENCES teams (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A customer who opted out gets no further messages from people either.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS opted_out_at timestamptz;

-- The waiting queue: open, unassigned handoffs per team, highest priority, then longest wait.
CREATE INDEX handoffs_queue ON handoffs (team_id, priority DESC, created_at, id)
    WHERE resolved_at IS NULL AND assigned_user_id IS NULL;

-- Periodic jobs claim their period here, so a job runs once per period however many worker
-- processes run it.
CREATE TABLE periodic_jobs (
    name   text PRIMARY KEY,
    ran_at timestamptz NOT NULL
);
