-- Channels: the provider's ids of sent replies (a long SMS goes out in parts), so status
-- callbacks map back; and messaging consent per channel identity (SMS/WhatsApp STOP, START).

CREATE TABLE channel_receipts (
    channel     text NOT NULL,
    provider_id text NOT NULL,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, provider_id)
);
CREATE INDEX channel_receipts_message ON channel_receipts (message_id);

-- A row means: never message this identity (opted out by STOP, or blocked by the business);
-- its messages are stored and never answered.
CREATE TABLE channel_opt_outs (
    channel     text NOT NULL,
    external_id text NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('stop', 'blocked')),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, external_id)
);
