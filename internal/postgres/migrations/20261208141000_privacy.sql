-- What is left of an erased customer: anonymous counters, so that statistics over time keep
-- their totals. No name, address, text or external id.
CREATE TABLE erasures (
    id            bigserial PRIMARY KEY,
    channel       text NOT NULL,
    conversations int NOT NULL,
    episodes      int NOT NULL,
    messages      int NOT NULL,
    handoffs      int NOT NULL,
    first_seen_at timestamptz NOT NULL,
    erased_at     timestamptz NOT NULL
);
