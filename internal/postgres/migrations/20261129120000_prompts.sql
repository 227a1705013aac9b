-- Prompt templates that admins edit. Every save is a new row of prompt_versions (never
-- changed afterwards); prompts says which version of a template is active (NULL: the embedded
-- default). An activation bumps prompts_version, which every process polls to reload.
CREATE TABLE prompts (
    name           text PRIMARY KEY,
    latest_version integer NOT NULL DEFAULT 0, -- hands out version numbers under the row lock
    active_version integer,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE prompt_versions (
    name       text NOT NULL REFERENCES prompts (name),
    version    integer NOT NULL CHECK (version > 0),
    body       text NOT NULL,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);

-- Only a stored version can be active (a NULL active_version is not checked: the default).
ALTER TABLE prompts ADD FOREIGN KEY (name, active_version) REFERENCES prompt_versions (name, version);

CREATE SEQUENCE prompts_version;
