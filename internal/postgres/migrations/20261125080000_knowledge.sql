-- Knowledge base: articles with their versions, chunks with full text, term statistics for
-- ranking, the registry of embedding models (their vector tables are created at runtime from
-- the constants in knowledge.go, one table and HNSW index per model), import jobs, knowledge
-- gaps and answer feedback.

CREATE TABLE kb_articles (
    id           bigserial PRIMARY KEY,
    external_key text NOT NULL UNIQUE,   -- stable id in the source system; idempotent re-import
    kind         text NOT NULL DEFAULT 'article' CHECK (kind IN ('article', 'faq')),
    title        text NOT NULL CHECK (title <> ''),
    body         text NOT NULL,          -- Markdown
    tags         text[] NOT NULL DEFAULT '{}',
    language     text NOT NULL DEFAULT 'en',
    ts_config    regconfig NOT NULL DEFAULT 'english', -- full-text configuration of language
    source_url   text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    version      int NOT NULL DEFAULT 1,
    content_hash bytea NOT NULL,          -- of everything a version holds: unchanged re-imports are no-ops
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- the admin search box (websearch_to_tsquery, AND semantics)
    search       tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector(ts_config, title), 'A') || to_tsvector(ts_config, body)) STORED
);
CREATE INDEX kb_articles_status ON kb_articles (status, id);
CREATE INDEX kb_articles_tags ON kb_articles USING gin (tags);
CREATE INDEX kb_articles_search ON kb_articles USING gin (search);

-- Every saved state of an article; the newest equals the article row.
CREATE TABLE kb_article_versions (
    article_id   bigint NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    version      int NOT NULL,
    external_key text NOT NULL,
    kind         text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL,
    tags         text[] NOT NULL,
    language     text NOT NULL,
    source_url   text NOT NULL,
    status       text NOT NULL,
    note         text NOT NULL DEFAULT '', -- e.g. "restored from version 2", "import"
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Retrieval units. A chunk keeps its id (and so its embeddings and feedback) while its text is
-- unchanged; text_hash covers everything that is embedded.
CREATE TABLE kb_chunks (
    id           bigserial PRIMARY KEY,
    article_id   bigint NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    position     int NOT NULL,
    heading_path text[] NOT NULL DEFAULT '{}',
    heading      text NOT NULL DEFAULT '',  -- heading_path joined, for the tsvector
    title        text NOT NULL,             -- the article's title when the chunk was written
    text         text NOT NULL,
    ts_config    regconfig NOT NULL,
    text_hash    bytea NOT NULL,
    doc_len      int NOT NULL DEFAULT 0,    -- words, for length normalisation
    tsv          tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector(ts_config, title), 'A') ||
                     setweight(to_tsvector(ts_config, heading), 'B') ||
                     to_tsvector(ts_config, text)) STORED
);
CREATE INDEX kb_chunks_article ON kb_chunks (article_id, position);
CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (tsv);

-- Document frequencies per lexeme, kept by triggers, so full-text ranking can weigh rare words
-- above common ones (IDF), which ts_rank alone cannot.
CREATE TABLE kb_terms (
    ts_config regconfig NOT NULL,
    lexeme    text NOT NULL,
    df        int NOT NULL,
    PRIMARY KEY (ts_config, lexeme)
);
CREATE TABLE kb_term_totals (
    ts_config regconfig PRIMARY KEY,
    docs      int NOT NULL,
    words     bigint NOT NULL
);

CREATE FUNCTION kb_terms_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- sorted, so concurrent writers lock rows in one order and cannot deadlock
    INSERT INTO kb_terms (ts_config, lexeme, df)
    SELECT n.ts_config, l.lexeme, count(*) FROM kb_new n, unnest(n.tsv) l
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (ts_config, lexeme) DO UPDATE SET df = kb_terms.df + excluded.df;
    INSERT INTO kb_term_totals (ts_config, docs, words)
    SELECT ts_config, count(*), sum(doc_len) FROM kb_new GROUP BY 1 ORDER BY 1
    ON CONFLICT (ts_config) DO UPDATE SET docs = kb_term_totals.docs + excluded.docs,
        words = kb_term_totals.words + excluded.words;
    RETURN NULL;
END $$;

CREATE FUNCTION kb_terms_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kb_terms t SET df = t.df - d.n
    FROM (SELECT o.ts_config, l.lexeme, count(*) AS n FROM kb_old o, unnest(o.tsv) l
          GROUP BY 1, 2 ORDER BY 1, 2) d
    WHERE t.ts_config = d.ts_config AND t.lexeme = d.lexeme;
    UPDATE kb_term_totals t SET docs = t.docs - d.n, words = t.words - d.w
    FROM (SELECT ts_config, count(*) AS n, sum(doc_len) AS w FROM kb_old GROUP BY 1) d
    WHERE t.ts_config = d.ts_config;
    RETURN NULL;
END $$;

CREATE TRIGGER kb_chunks_terms_insert AFTER INSERT ON kb_chunks
    REFERENCING NEW TABLE AS kb_new FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_add();
CREATE TRIGGER kb_chunks_terms_delete AFTER DELETE ON kb_chunks
    REFERENCING OLD TABLE AS kb_old FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_remove();
-- An update can only change ts_config of a kept chunk (a language change); count it as a move.
CREATE TRIGGER kb_chunks_terms_update_old AFTER UPDATE ON kb_chunks
    REFERENCING OLD TABLE AS kb_old FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_remove();
CREATE TRIGGER kb_chunks_terms_update_new AFTER UPDATE ON kb_chunks
    REFERENCING NEW TABLE AS kb_new FOR EACH STATEMENT EXECUTE FUNCTION kb_terms_add();

-- Embedding models. Each has its own vector table kb_emb_<id> and HNSW index, created at runtime
-- (the dimension is only known then). One model is active: search uses only its table. A model
-- being built fills its table beside the active one and replaces it atomically when complete.
CREATE TABLE kb_embedding_models (
    id           bigserial PRIMARY KEY,
    model        text NOT NULL,
    dim          int NOT NULL CHECK (dim BETWEEN 1 AND 2000),
    status       text NOT NULL CHECK (status IN ('building', 'active', 'retired')),
    created_at   timestamptz NOT NULL,
    activated_at timestamptz,
    retired_at   timestamptz
);
CREATE UNIQUE INDEX kb_embedding_models_one_active ON kb_embedding_models ((true)) WHERE status = 'active';
CREATE UNIQUE INDEX kb_embedding_models_live ON kb_embedding_models (model, dim) WHERE status <> 'retired';

CREATE TABLE kb_import_jobs (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,                -- URL or a name for uploaded content
    format      text NOT NULL DEFAULT '',
    options     jsonb NOT NULL DEFAULT '{}',
    content     text,                         -- uploaded content, dropped when the job ends
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total       int NOT NULL DEFAULT 0,
    done        int NOT NULL DEFAULT 0,
    added       int NOT NULL DEFAULT 0,
    updated     int NOT NULL DEFAULT 0,
    unchanged   int NOT NULL DEFAULT 0,
    failed      int NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]',
    error       text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    started_at  timestamptz,
    finished_at timestamptz
);

-- Questions the bot could not answer.
CREATE TABLE kb_gaps (
    id              bigserial PRIMARY KEY,
    question        text NOT NULL,
    conversation_id bigint NOT NULL DEFAULT 0,
    message_id      bigint NOT NULL DEFAULT 0,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX kb_gaps_message ON kb_gaps (message_id) WHERE message_id > 0;
CREATE INDEX kb_gaps_created ON kb_gaps (created_at);

-- Thumbs up/down on an answer, per chunk it used. article_id outlives the chunk's rewrite.
CREATE TABLE kb_feedback (
    id         bigserial PRIMARY KEY,
    message_id bigint NOT NULL,
    chunk_id   bigint NOT NULL,
    article_id bigint NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    up         boolean NOT NULL,
    by         text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (message_id, chunk_id, by)
);
CREATE INDEX kb_feedback_article ON kb_feedback (article_id);
