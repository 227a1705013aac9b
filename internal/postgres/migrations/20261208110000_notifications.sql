-- Signed notifications of new handoffs and SLA breaches: a durable outbox row per event, sent
-- and retried by the notifier (attempts, next_attempt_at), never lost when the receiver is down.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    event           text NOT NULL CHECK (event IN ('handoff.created', 'handoff.sla_breached')),
    handoff_id      bigint NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,             -- due (or the end of a send's lease); NULL once settled
    sent_at         timestamptz,
    failed_at       timestamptz,             -- given up
    last_error      text NOT NULL DEFAULT '',
    UNIQUE (event, handoff_id)               -- once per handoff, once per breach
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- A handoff is announced once; those from before this migration count as announced.
ALTER TABLE handoffs ADD COLUMN notified_at timestamptz DEFAULT 'epoch';
ALTER TABLE handoffs ALTER COLUMN notified_at DROP DEFAULT;
CREATE INDEX handoffs_unannounced ON handoffs (id) WHERE notified_at IS NULL;
-- Open handoffs whose SLA can still be breached, for the sweep.
CREATE INDEX handoffs_sla_open ON handoffs (sla_due_at)
    WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND resolved_at IS NULL;

-- Inactive agent conversations (waiting on the customer, the agent's slot freed), for the
-- sweep that gives back those the customer has answered.
CREATE INDEX conversations_inactive ON conversations (id) WHERE status = 'agent' AND inactive_since IS NOT NULL;
