-- Mail triage: each message once (by its key: Message-ID, or a hash of the bytes), its
-- triage record (at most one: a resumed run skips what is here), and the user's
-- corrections, which later triage of the same sender learns from.

CREATE TABLE mail_messages (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL,
    from_address  TEXT,
    sender_domain TEXT,
    subject       TEXT NOT NULL,
    date          TEXT,
    message       TEXT NOT NULL,          -- JSON: the parsed message
    created_at    INTEGER NOT NULL
);

CREATE TABLE triage (
    message_id  INTEGER PRIMARY KEY REFERENCES mail_messages(id) ON DELETE CASCADE,
    record      TEXT NOT NULL,            -- JSON: the triage record
    decided_by  TEXT NOT NULL,            -- rule | learned | headers | model
    model       TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE triage_corrections (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES mail_messages(id) ON DELETE CASCADE,
    from_address  TEXT,
    sender_domain TEXT,
    category      TEXT,
    priority      TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX triage_corrections_sender ON triage_corrections(from_address);
CREATE INDEX triage_corrections_domain ON triage_corrections(sender_domain);
