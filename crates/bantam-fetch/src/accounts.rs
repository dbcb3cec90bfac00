//! IMAP accounts as the CLI and the app use them: the account in the store, its password
//! in the OS keyring (Secret Service on Linux, Keychain, Credential Manager) — never in
//! SQLite or logs — and the account's folder as a mailbox for core's triage sync.

use bantam_core::mail::{Fetched, Mailbox, SyncPoint};
use bantam_core::Store;

use crate::imap::{fetch_new, move_to_folders, test_connection, ImapAccount, ImapError};

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

/// An IMAP account's folder as a [`Mailbox`] for core's triage sync: fetches read-only,
/// files into route folders only when asked (the account's `move_to_route`).
pub struct ImapMailbox {
    account: ImapAccount,
    password: String,
}

impl ImapMailbox {
    /// The stored account with its password from the keyring.
    pub async fn open(store: &Store, name: &str) -> Result<Self, AccountError> {
        let account: ImapAccount = store.mail_account(name).await?;
        let password = password(&account)?;
        Ok(Self { account, password })
    }

    pub fn account(&self) -> &ImapAccount {
        &self.account
    }
}

impl Mailbox for ImapMailbox {
    type Error = ImapError;

    fn name(&self) -> String {
        format!("imap:{}/{}", self.account.name, self.account.folder)
    }

    fn sync_key(&self) -> Option<(String, String)> {
        Some((self.account.name.clone(), self.account.folder.clone()))
    }

    async fn fetch_new(&mut self, since: Option<SyncPoint>) -> Result<Fetched, ImapError> {
        fetch_new(&self.account, &self.password, since).await
    }

    async fn file(&mut self, uid_validity: u32, moves: &[(u32, Vec<String>)]) -> Result<usize, ImapError> {
        move_to_folders(&self.account, &self.password, uid_validity, moves).await
    }
}
