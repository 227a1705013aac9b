-- Detail types that admins define (account ids, zip codes, membership levels, ...) next to the
-- built-in ones. A change bumps intents_version, so every process reloads them with the intents.
CREATE TABLE detail_types (
    name       text PRIMARY KEY,
    definition jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
