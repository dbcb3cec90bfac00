-- IMAP accounts (the password lives in the OS keyring) and where each folder's sync
-- stopped: a UID is new when it is above last_uid under the same UIDVALIDITY.

CREATE TABLE mail_accounts (
    name        TEXT PRIMARY KEY,
    account     TEXT NOT NULL,            -- JSON: host, port, security, user, folder, ca_file
    created_at  INTEGER NOT NULL
);

CREATE TABLE imap_sync (
    account       TEXT NOT NULL REFERENCES mail_accounts(name) ON DELETE CASCADE,
    folder        TEXT NOT NULL,
    uid_validity  INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (account, folder)
);
