-- Documents: one row per distinct file content (sha256), its text and metadata; the
-- chunks it was split into, each with its map summary once done (NULL until then, so a
-- resumed job only maps what is missing); and the final summaries, one per length.

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE,
    path         TEXT NOT NULL,          -- where it was last read from
    name         TEXT NOT NULL,
    format       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    pages        INTEGER,
    words        INTEGER NOT NULL,
    text         TEXT NOT NULL,
    hints        TEXT NOT NULL,          -- JSON: what the file's own metadata says
    metadata     TEXT,                   -- JSON: extracted metadata, NULL until done
    chunk_model  TEXT,                   -- the tokenizer the chunks were counted with
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE document_chunks (
    document_id   INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    text          TEXT NOT NULL,
    tokens        INTEGER NOT NULL,
    start_byte    INTEGER NOT NULL,
    end_byte      INTEGER NOT NULL,
    page_start    INTEGER,
    page_end      INTEGER,
    heading_path  TEXT NOT NULL,         -- JSON array
    summary       TEXT,
    summary_model TEXT,
    summarized_at INTEGER,
    PRIMARY KEY (document_id, idx)
);

CREATE TABLE document_summaries (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    length      TEXT NOT NULL CHECK (length IN ('tldr', 'short', 'bullets')),
    text        TEXT NOT NULL,
    model       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (document_id, length)
);

-- Search by name, title and text; kept by the store (the title lives inside JSON).
CREATE VIRTUAL TABLE documents_fts USING fts5(
    name,
    title,
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);
