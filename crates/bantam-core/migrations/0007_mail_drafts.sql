-- Reply drafts the model wrote for mail that needs a reply, when the user turned drafts
-- on. Kept here only: Bantam never sends mail. One per message; a rerun skips it.
CREATE TABLE mail_drafts (
    message_id  INTEGER PRIMARY KEY REFERENCES mail_messages(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    model       TEXT,
    created_at  INTEGER NOT NULL
);
