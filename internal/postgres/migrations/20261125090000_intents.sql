-- Intents that admins own; the classifier is trained from their examples.
CREATE TABLE intents (
    name             text PRIMARY KEY,
    description      text NOT NULL DEFAULT '',
    examples         jsonb NOT NULL DEFAULT '[]',
    required_details jsonb NOT NULL DEFAULT '[]',
    action           text NOT NULL DEFAULT 'answer',
    team             text NOT NULL DEFAULT '',
    reply            text NOT NULL DEFAULT '',
    order_pattern    text NOT NULL DEFAULT '',
    revision         bigint NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL
);

-- Bumped by every change, deletes included, so workers know when to retrain.
CREATE SEQUENCE intents_version;
