-- Failed turn attempts, counted per conversation and its oldest unanswered message (which only
-- changes when a turn succeeds), so that a turn that keeps failing is handed to people after a
-- bounded number of attempts, and operators see it among the dead letters.
CREATE TABLE turn_failures (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    attempts        int NOT NULL,
    last_error      text NOT NULL,
    first_failed_at timestamptz NOT NULL,
    last_failed_at  timestamptz NOT NULL,
    dismissed_at    timestamptz, -- an operator took it off the dead-letter list
    UNIQUE (conversation_id, message_id)
);
CREATE INDEX turn_failures_listed ON turn_failures (id) WHERE dismissed_at IS NULL;

-- Failed deliveries an operator discarded from the dead-letter list (a retry clears it).
CREATE TABLE delivery_dismissals (
    message_id   bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    dismissed_at timestamptz NOT NULL
);
CREATE INDEX messages_delivery_failed ON messages (id) WHERE delivery_state = 'failed';
