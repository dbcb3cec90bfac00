//! A mailbox the triage sync reads from and files into: IMAP (in `bantam-fetch`, which has
//! the network code) or a Maildir, an mbox or `.eml` files ([`super::LocalMailbox`]).
//! The sync itself — message keys, sync points, which routes may become folders — is
//! core's (`tasks::triage::sync`); a mailbox only fetches and moves.

use serde::{Deserialize, Serialize};

use super::MailError;

/// Where an earlier sync of a mailbox with stable UIDs stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPoint {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// One message as a mailbox hands it over, before parsing.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub uid: u32,
    /// Where it came from, for the record and errors (a path, `mbox#3`, `imap:…`).
    pub source: String,
    pub bytes: Vec<u8>,
}

/// What a fetch brought: the new messages, oldest first, and those that could not be read.
#[derive(Debug, Default)]
pub struct Fetched {
    pub uid_validity: u32,
    /// The UIDVALIDITY differed from the sync point: every UID is new again.
    pub reset: bool,
    pub messages: Vec<RawMessage>,
    pub unreadable: Vec<MailError>,
}

/// A source of mail that can be synced and filed.
#[allow(async_fn_in_trait)]
pub trait Mailbox {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Names the mailbox for keys, sync points and the job row: `imap:work/INBOX`,
    /// `maildir:/home/me/Maildir`.
    fn name(&self) -> String;

    /// For a mailbox whose UIDs name the same message for as long as the UIDVALIDITY holds
    /// (IMAP): the account and folder its sync point is kept under. Its messages are then
    /// keyed by UID and only what is above the sync point is fetched. `None` for one whose
    /// every fetch returns everything, its messages known by their content.
    fn sync_key(&self) -> Option<(String, String)>;

    /// What is new since `since` (everything when `None`).
    async fn fetch_new(&mut self, since: Option<SyncPoint>) -> Result<Fetched, Self::Error>;

    /// Moves messages (by UID, under `uid_validity`) into folders given as path parts
    /// (`["Triage", "Finance"]`), creating the folders as needed; how many moved.
    async fn file(&mut self, uid_validity: u32, moves: &[(u32, Vec<String>)]) -> Result<usize, Self::Error>;
}
