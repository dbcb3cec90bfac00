-- A counter that every change to `embeddings` moves. A process that keeps the vectors in
-- memory between searches (the app, the API) reads it to know when to read them again;
-- another process (the CLI beside the app) may have written them.
CREATE TABLE embeddings_version (n INTEGER NOT NULL);
INSERT INTO embeddings_version (n) VALUES (0);

CREATE TRIGGER embeddings_version_added AFTER INSERT ON embeddings BEGIN
    UPDATE embeddings_version SET n = n + 1;
END;
CREATE TRIGGER embeddings_version_removed AFTER DELETE ON embeddings BEGIN
    UPDATE embeddings_version SET n = n + 1;
END;
CREATE TRIGGER embeddings_version_changed AFTER UPDATE ON embeddings BEGIN
    UPDATE embeddings_version SET n = n + 1;
END;
