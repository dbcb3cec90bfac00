-- Model downloads: one row per file being fetched into the models directory. The partial
-- file (`<file_name>.part`) is the truth for how much is here; `downloaded_bytes` is what
-- the list shows. The validators let a resumed request ask for "the same file or all of it".

CREATE TABLE downloads (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL,
    file_name        TEXT NOT NULL UNIQUE,
    catalog_id       TEXT,
    sha256           TEXT,                 -- expected (lowercase hex), or what was computed
    total_bytes      INTEGER,
    downloaded_bytes INTEGER NOT NULL DEFAULT 0,
    etag             TEXT,
    last_modified    TEXT,
    status           TEXT NOT NULL,        -- queued | downloading | paused | failed | done
    error            TEXT,
    error_kind       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
