-- The memory of the user: short facts about the user (their name, people, preferences,
-- projects) that the user added or accepted, recalled into chat prompts. Each keeps the
-- message it came from (if any: a fact added by hand has none), how often and when it
-- was last put in a prompt. A proposed fact waits for the user to keep it.
CREATE TABLE memories (
    id                INTEGER PRIMARY KEY,
    text              TEXT NOT NULL CHECK (length(trim(text)) > 0),
    status            TEXT NOT NULL DEFAULT 'kept' CHECK (status IN ('proposed', 'kept')),
    source_message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    uses              INTEGER NOT NULL DEFAULT 0,
    last_used_at      INTEGER
);

-- Words (external content, as messages_fts); a deleted or edited fact loses its words
-- and its vectors with it.
CREATE VIRTUAL TABLE memories_fts USING fts5(
    text,
    content = 'memories',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, text) VALUES (new.id, new.text);
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
