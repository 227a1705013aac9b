-- The conversation's explicit state (stage, awaited detail, attempts, open intent, …), written
-- by the fenced turn commit; and the handoffs a turn records when it passes the conversation on.
ALTER TABLE conversations ADD COLUMN state jsonb NOT NULL DEFAULT '{}';

CREATE TABLE handoffs (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    episode         int NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('customer_request', 'negative_sentiment', 'missing_knowledge',
                        'unsupported_request', 'failed_gathering', 'policy', 'error')),
    created_at      timestamptz NOT NULL
);
CREATE INDEX handoffs_conversation ON handoffs (conversation_id, id);
