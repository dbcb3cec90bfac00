-- Bantam's first schema: settings, conversations with their messages, imported models,
-- and a generic queue of resumable background jobs.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,           -- JSON
    updated_at INTEGER NOT NULL         -- unix ms
);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    model         TEXT,
    system_prompt TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content          TEXT NOT NULL,
    model            TEXT,
    prompt_tokens    INTEGER,
    cached_tokens    INTEGER,
    generated_tokens INTEGER,
    ttft_ms          REAL,
    tokens_per_s     REAL,
    finish_reason    TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

CREATE TABLE models (
    id                INTEGER PRIMARY KEY,
    path              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    architecture      TEXT NOT NULL,
    parameters        INTEGER NOT NULL,
    quantization      TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL,
    context_length    INTEGER,
    has_chat_template INTEGER NOT NULL,
    added_at          INTEGER NOT NULL
);

-- A job is a row: a crash or kill leaves it 'running', and the next start puts it back
-- to 'queued', so work resumes without being lost; (kind, dedupe_key) keeps it from
-- being queued twice.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    dedupe_key  TEXT,
    payload     TEXT NOT NULL,          -- JSON
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    result      TEXT,                   -- JSON
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (kind, dedupe_key)
);
CREATE INDEX jobs_by_state ON jobs(kind, state, id);
