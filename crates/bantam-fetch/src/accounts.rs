//! IMAP accounts as the CLI and the app use them: the account in the store, its password
//! in the OS keyring (Secret Service on Linux, Keychain, Credential Manager) — never in
//! SQLite or logs — and one sync-and-triage step shared by both.

use bantam_core::mail::parse;
use bantam_core::tasks::triage::{Outcome, TriageService};
use bantam_core::Store;
use serde::Serialize;

use crate::imap::{fetch_new, move_to_routes, test_connection, ImapAccount, ImapError, SyncPoint};

/// For headless machines without a keyring: the password, from the environment.
pub const PASSWORD_ENV: &str = "BANTAM_IMAP_PASSWORD";
const KEYRING_SERVICE: &str = "bantam";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error("the OS keyring: {0} (or set {PASSWORD_ENV})")]
    Keyring(String),
    #[error(transparent)]
    Core(#[from] bantam_core::Error),
}

impl AccountError {
    pub fn kind(&self) -> &'static str {
        match self {
            AccountError::Imap(e) => e.kind(),
            AccountError::Keyring(_) => "keyring",
            AccountError::Core(_) => "internal",
        }
    }
}

fn entry(account: &ImapAccount) -> Result<keyring::Entry, AccountError> {
    keyring::Entry::new(
        KEYRING_SERVICE,
        &format!(
            "imap:{}@{}:{}/{}",
            account.user, account.host, account.port, account.name
        ),
    )
    .map_err(|e| AccountError::Keyring(e.to_string()))
}

/// The account's password: the keyring, else `BANTAM_IMAP_PASSWORD`.
pub fn password(account: &ImapAccount) -> Result<String, AccountError> {
    match entry(account).and_then(|e| e.get_password().map_err(|e| AccountError::Keyring(e.to_string()))) {
        Ok(p) => Ok(p),
        Err(e) => std::env::var(PASSWORD_ENV).map_err(|_| match e {
            AccountError::Keyring(reason) => AccountError::Keyring(format!(
                "no password for {} ({reason}); add the account again",
                account.name
            )),
            other => other,
        }),
    }
}

/// Checks the account against its server, then keeps the password in the keyring and
/// the account in the store. Returns the number of messages in its folder.
pub async fn add(store: &Store, account: &ImapAccount, secret: &str) -> Result<u32, AccountError> {
    let count = test_connection(account, secret).await?;
    entry(account)?
        .set_password(secret)
        .map_err(|e| AccountError::Keyring(e.to_string()))?;
    store.save_mail_account(&account.name, account).await?;
    Ok(count)
}

pub async fn remove(store: &Store, name: &str) -> Result<bool, AccountError> {
    if let Ok(account) = store.mail_account::<ImapAccount>(name).await {
        if let Ok(e) = entry(&account) {
            let _ = e.delete_credential();
        }
    }
    Ok(store.delete_mail_account(name).await?)
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub account: String,
    pub fetched: usize,
    /// Moved into their route folders (only when the account has that turned on).
    pub moved: usize,
    /// The server renumbered the folder; everything was read again.
    pub reset: bool,
    pub malformed: Vec<String>,
}

/// What a sync reports while it runs.
pub enum SyncEvent {
    /// The new messages are fetched: this many will be triaged.
    Fetched(usize),
    /// One message's record (or error), in finishing order.
    Outcome(Box<Outcome>),
}

/// Fetches what is new in the account's folder (read-only), triages it, then moves the
/// sync point. A run killed before the end fetches the same mail again next time and gets
/// the stored records for what was already triaged.
pub async fn sync_and_triage(
    store: &Store,
    service: &TriageService,
    name: &str,
    sequential: bool,
    mut on_event: impl FnMut(SyncEvent),
) -> Result<SyncReport, AccountError> {
    let account: ImapAccount = store.mail_account(name).await?;
    let secret = password(&account)?;
    let since = store
        .imap_sync_point(name, &account.folder)
        .await?
        .map(|(uid_validity, last_uid)| SyncPoint { uid_validity, last_uid });
    let fetched = fetch_new(&account, &secret, since).await?;
    let mut messages = Vec::new();
    let mut malformed = Vec::new();
    for (uid, bytes) in &fetched.messages {
        let key = format!("imap:{name}/{}/{}/{uid}", account.folder, fetched.uid_validity);
        match parse(bytes, &key) {
            Ok(mut m) => {
                m.key = key;
                messages.push(m);
            }
            Err(e) => malformed.push(e.to_string()),
        }
    }
    let mut report = SyncReport {
        account: name.to_string(),
        fetched: fetched.messages.len(),
        moved: 0,
        reset: fetched.reset,
        malformed,
    };
    let uid_of: std::collections::HashMap<String, u32> = fetched
        .messages
        .iter()
        .map(|(uid, _)| {
            (
                format!("imap:{name}/{}/{}/{uid}", account.folder, fetched.uid_validity),
                *uid,
            )
        })
        .collect();
    let mut moves = Vec::new();
    on_event(SyncEvent::Fetched(messages.len()));
    service
        .triage(messages, sequential, |o| {
            if let Ok(t) = &o {
                if let Some(uid) = uid_of.get(&t.key) {
                    moves.push((*uid, t.record.route.clone()));
                }
            }
            on_event(SyncEvent::Outcome(Box::new(o)))
        })
        .await?;
    if account.move_to_route {
        report.moved = move_to_routes(&account, &secret, fetched.uid_validity, &moves).await?;
    }
    let last = fetched.messages.iter().map(|(uid, _)| *uid).max();
    if let Some(last) = last.or(since.filter(|_| !fetched.reset).map(|s| s.last_uid)) {
        store
            .set_imap_sync_point(name, &account.folder, fetched.uid_validity, last)
            .await?;
    }
    Ok(report)
}
