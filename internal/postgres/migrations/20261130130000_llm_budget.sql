-- Tokens the LLM path spent, for the per-conversation and per-day budgets. Kept apart from
-- conversations so a budget write never contends with a turn's fenced commit of that row.
CREATE TABLE llm_conversation_tokens (
    conversation_id bigint PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    tokens          bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL
);

-- One row per UTC day (of the injected clock).
CREATE TABLE llm_daily_tokens (
    day        date PRIMARY KEY,
    tokens     bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
