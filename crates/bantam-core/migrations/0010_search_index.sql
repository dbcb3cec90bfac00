-- Search by meaning: vectors of messages and document chunks — one per window of about a
-- hundred words (an embedding model reads a few hundred tokens well; a chunk holds more)
-- — with the embedding model that made them (a vector from another model is not comparable, and is made again
-- when the model changes). Little-endian f32, unit length. Deleting the source deletes
-- its vector (triggers; a document's chunks go by cascade, which fires them too).
CREATE TABLE embeddings (
    kind      TEXT NOT NULL CHECK (kind IN ('message', 'chunk', 'memory')),
    source_id INTEGER NOT NULL,   -- messages.id, document_chunks.document_id or memories.id
    part      INTEGER NOT NULL,   -- 0, or document_chunks.idx
    window    INTEGER NOT NULL,   -- which window of the text, from 0
    model_id  TEXT NOT NULL,
    vector    BLOB NOT NULL,
    PRIMARY KEY (kind, source_id, part, window)
);

CREATE TRIGGER embeddings_message_gone AFTER DELETE ON messages BEGIN
    DELETE FROM embeddings WHERE kind = 'message' AND source_id = old.id;
END;
CREATE TRIGGER embeddings_message_changed AFTER UPDATE OF content ON messages BEGIN
    DELETE FROM embeddings WHERE kind = 'message' AND source_id = old.id;
END;

-- Words in chunks (the documents' own index is per document: a hit must name its part).
-- It keeps its own copy of the text: keyed by (document_id, idx), not by a rowid that
-- VACUUM may renumber.
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text,
    document_id UNINDEXED,
    idx UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER document_chunks_indexed AFTER INSERT ON document_chunks BEGIN
    INSERT INTO chunks_fts (text, document_id, idx) VALUES (new.text, new.document_id, new.idx);
END;
CREATE TRIGGER document_chunks_gone AFTER DELETE ON document_chunks BEGIN
    DELETE FROM chunks_fts WHERE document_id = old.document_id AND idx = old.idx;
    DELETE FROM embeddings WHERE kind = 'chunk' AND source_id = old.document_id AND part = old.idx;
END;

INSERT INTO chunks_fts (text, document_id, idx) SELECT text, document_id, idx FROM document_chunks;
