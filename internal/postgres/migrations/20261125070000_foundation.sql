-- Foundation: people, access, settings, audit, and the conversation spine.
-- All business timestamps are written by Baton from its clock; defaults here only fill gaps.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE teams (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL DEFAULT '',
    role       text NOT NULL CHECK (role IN ('admin', 'agent')),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    capacity   int NOT NULL DEFAULT 5 CHECK (capacity >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE team_members (
    team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

-- API tokens are random; only their SHA-256 is stored.
CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- Browser sessions, exchanged for a token; the cookie value is stored hashed.
CREATE TABLE sessions (
    id_hash    bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Typed settings; team_id NULL is the global value, a team's row overrides it.
CREATE TABLE settings (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    team_id    bigint REFERENCES teams (id) ON DELETE CASCADE,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX settings_key_team ON settings (key, coalesce(team_id, 0));

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    actor_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    action     text NOT NULL,
    entity     text NOT NULL,
    entity_id  text NOT NULL,
    before     jsonb,
    after      jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);

CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL,
    external_id text NOT NULL,
    name        text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    timezone    text NOT NULL DEFAULT 'UTC',
    locale      text NOT NULL DEFAULT 'en',
    attributes  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (channel, external_id)
);

-- One conversation per customer: a returning customer continues it. Episodes count the
-- resolve/reopen cycles. The lease columns serialise turns: lease_token is a fencing token
-- that grows with every claim, and the final write of a turn checks it.
CREATE TABLE conversations (
    id                 bigserial PRIMARY KEY,
    customer_id        bigint NOT NULL UNIQUE REFERENCES customers (id) ON DELETE CASCADE,
    channel            text NOT NULL,
    status             text NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'queued', 'agent', 'resolved')),
    team_id            bigint REFERENCES teams (id) ON DELETE SET NULL,
    assigned_user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    priority           int NOT NULL DEFAULT 0,
    sentiment_trend    real NOT NULL DEFAULT 0,
    details            jsonb NOT NULL DEFAULT '{}',
    summary            text NOT NULL DEFAULT '',
    episode            int NOT NULL DEFAULT 1,
    lease_owner        text,
    lease_token        bigint NOT NULL DEFAULT 0,
    lease_expires_at   timestamptz,
    last_customer_at   timestamptz,
    last_reply_at      timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX conversations_status ON conversations (status, id);
CREATE INDEX conversations_team ON conversations (team_id, id);

CREATE TABLE episodes (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    number          int NOT NULL,
    opened_at       timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolution      text CHECK (resolution IN ('explicit', 'idle')),
    UNIQUE (conversation_id, number)
);

CREATE TABLE messages (
    id                bigserial PRIMARY KEY,
    conversation_id   bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    episode           int NOT NULL,
    channel           text NOT NULL,
    external_id       text,
    author            text NOT NULL CHECK (author IN ('customer', 'bot', 'agent', 'system')),
    author_user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    visibility        text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    body              text NOT NULL,
    sent_at           timestamptz,           -- the provider's timestamp, when given
    received_at       timestamptz NOT NULL,  -- when Baton stored it
    sort_at           timestamptz NOT NULL,  -- order within the conversation
    processed_at      timestamptz,           -- inbound: answered by a turn
    turn_id           bigint,
    delivery_state    text CHECK (delivery_state IN ('pending', 'sending', 'sent', 'delivered', 'read', 'unknown', 'failed', 'undelivered')),
    delivery_attempts int NOT NULL DEFAULT 0,
    delivery_error    text NOT NULL DEFAULT '',
    citations         jsonb NOT NULL DEFAULT '[]',
    meta              jsonb NOT NULL DEFAULT '{}',
    -- an internal note can never be put on the delivery path
    CHECK (visibility = 'public' OR delivery_state IS NULL)
);
CREATE UNIQUE INDEX messages_channel_external ON messages (channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, sort_at, id);
CREATE INDEX messages_unprocessed ON messages (conversation_id, received_at) WHERE processed_at IS NULL AND author = 'customer';

-- Transactional outbox: written with the change it announces, relayed to the task queue.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    task_id       text NOT NULL,
    run_at        timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    dispatched_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE dispatched_at IS NULL;

-- What the bot decided and why, per turn.
CREATE TABLE turn_traces (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_ids     bigint[] NOT NULL,
    lease_token     bigint NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX turn_traces_conversation ON turn_traces (conversation_id, id);
