-- Mail in search: its words (subject, sender, body) and its vectors, like chats and
-- documents. Deleting a message takes both with it.

-- The vectors' kinds gain 'mail'. SQLite cannot change a CHECK, so the table is made
-- again; the triggers that name it are dropped first and made again after (a rename
-- checks every trigger that names the table).
DROP TRIGGER embeddings_message_gone;
DROP TRIGGER embeddings_message_changed;
DROP TRIGGER document_chunks_gone;
DROP TRIGGER memories_gone;
DROP TRIGGER memories_changed;

CREATE TABLE embeddings_new (
    kind      TEXT NOT NULL CHECK (kind IN ('message', 'chunk', 'memory', 'mail')),
    source_id INTEGER NOT NULL,   -- messages.id, document_chunks.document_id, memories.id or mail_messages.id
    part      INTEGER NOT NULL,   -- 0, or document_chunks.idx
    window    INTEGER NOT NULL,   -- which window of the text, from 0
    model_id  TEXT NOT NULL,
    vector    BLOB NOT NULL,
    PRIMARY KEY (kind, source_id, part, window)
);
INSERT INTO embeddings_new (kind, source_id, part, window, model_id, vector)
    SELECT kind, source_id, part, window, model_id, vector FROM embeddings;
DROP TABLE embeddings;
ALTER TABLE embeddings_new RENAME TO embeddings;

CREATE TRIGGER embeddings_message_gone AFTER DELETE ON messages BEGIN
    DELETE FROM embeddings WHERE kind = 'message' AND source_id = old.id;
END;
CREATE TRIGGER embeddings_message_changed AFTER UPDATE OF content ON messages BEGIN
    DELETE FROM embeddings WHERE kind = 'message' AND source_id = old.id;
END;
CREATE TRIGGER document_chunks_gone AFTER DELETE ON document_chunks BEGIN
    DELETE FROM chunks_fts WHERE document_id = old.document_id AND idx = old.idx;
    DELETE FROM embeddings WHERE kind = 'chunk' AND source_id = old.document_id AND part = old.idx;
END;
CREATE TRIGGER memories_gone AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.id, old.text);
    DELETE FROM embeddings WHERE kind = 'memory' AND source_id = old.id;
END;
CREATE TRIGGER memories_changed AFTER UPDATE OF text ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO memories_fts(rowid, text) VALUES (new.id, new.text);
    DELETE FROM embeddings WHERE kind = 'memory' AND source_id = old.id;
END;

-- Words in mail. Its own copy of the text, keyed by the message's id (the body lives in
-- the message's JSON, which FTS5 cannot read as external content).
CREATE VIRTUAL TABLE mail_fts USING fts5(
    subject,
    sender,
    body,
    mail_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER mail_indexed AFTER INSERT ON mail_messages BEGIN
    INSERT INTO mail_fts (subject, sender, body, mail_id) VALUES (
        new.subject,
        trim(coalesce(json_extract(new.message, '$.from_name'), '') || ' ' || coalesce(new.from_address, '')),
        coalesce(json_extract(new.message, '$.text'), ''),
        new.id
    );
END;
CREATE TRIGGER mail_gone AFTER DELETE ON mail_messages BEGIN
    DELETE FROM mail_fts WHERE mail_id = old.id;
    DELETE FROM embeddings WHERE kind = 'mail' AND source_id = old.id;
END;

INSERT INTO mail_fts (subject, sender, body, mail_id)
    SELECT subject,
           trim(coalesce(json_extract(message, '$.from_name'), '') || ' ' || coalesce(from_address, '')),
           coalesce(json_extract(message, '$.text'), ''),
           id
    FROM mail_messages;
