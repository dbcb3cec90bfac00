//! IMAP in: log in over TLS (port 993) or STARTTLS (143), open a folder read-only
//! (EXAMINE: nothing is marked read), and fetch the messages whose UID is above the last
//! one seen — all of them when the folder's UIDVALIDITY changed. Bodies are fetched with
//! `BODY.PEEK[]`, so the server's flags are untouched.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bantam_core::mail::{Fetched, RawMessage, SyncPoint};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Security {
    /// TLS from the first byte (IMAPS, port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 143).
    StartTls,
}

/// An IMAP account as stored (the password is in the OS keyring, never here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImapAccount {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub folder: String,
    /// A CA certificate (PEM) to trust besides the public roots: a self-hosted server.
    pub ca_file: Option<PathBuf>,
    /// Move triaged mail into its route's folder (`Triage/<Category>`) on the server.
    /// Off unless the user turns it on; the folder is never taken from the mail.
    #[serde(default)]
    pub move_to_route: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("could not connect to {0}")]
    Connect(String),
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("the server refused the user name or password for {0}")]
    Auth(String),
    #[error("folder {folder:?}: {reason}")]
    Folder { folder: String, reason: String },
    #[error("the server stopped answering: {0}")]
    Protocol(String),
}

impl ImapError {
    pub fn kind(&self) -> &'static str {
        match self {
            ImapError::Connect(_) => "connect",
            ImapError::Tls { .. } => "tls",
            ImapError::Auth(_) => "auth",
            ImapError::Folder { .. } => "folder",
            ImapError::Protocol(_) => "protocol",
        }
    }
}

type Session = async_imap::Session<TlsStream<TcpStream>>;

fn tls_config(account: &ImapAccount) -> Result<Arc<ClientConfig>, ImapError> {
    let tls_err = |reason: String| ImapError::Tls {
        host: account.host.clone(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &account.ca_file {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(ca).map_err(|e| tls_err(format!("{}: {e}", ca.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| tls_err(format!("{}: {e}", ca.display())))?;
            roots.add(cert).map_err(|e| tls_err(e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ImapError::Protocol(format!("{what}: {e}"))),
        Err(_) => Err(ImapError::Protocol(format!(
            "{what}: no answer in {} s",
            TIMEOUT.as_secs()
        ))),
    }
}

async fn connect(account: &ImapAccount, password: &str) -> Result<Session, ImapError> {
    let address = format!("{}:{}", account.host, account.port);
    let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect(&address))
        .await
        .map_err(|_| ImapError::Connect(format!("{address}: no answer")))?
        .map_err(|e| ImapError::Connect(format!("{address}: {e}")))?;
    let connector = TlsConnector::from(tls_config(account)?);
    let name = ServerName::try_from(account.host.clone()).map_err(|e| ImapError::Tls {
        host: account.host.clone(),
        reason: e.to_string(),
    })?;
    let tls_err = |e: std::io::Error| ImapError::Tls {
        host: account.host.clone(),
        reason: e.to_string(),
    };
    let tls = match account.security {
        Security::Tls => connector.connect(name, tcp).await.map_err(tls_err)?,
        Security::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            timed("greeting", plain.read_response()).await?;
            timed("STARTTLS", plain.run_command_and_check_ok("STARTTLS", None)).await?;
            connector.connect(name, plain.into_inner()).await.map_err(tls_err)?
        }
    };
    let mut client = async_imap::Client::new(tls);
    if account.security == Security::Tls {
        timed("greeting", client.read_response()).await?;
    }
    match tokio::time::timeout(TIMEOUT, client.login(&account.user, password)).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(_), _))) => Err(ImapError::Auth(account.user.clone())),
        Ok(Err((e, _))) => Err(ImapError::Protocol(format!("login: {e}"))),
        Err(_) => Err(ImapError::Protocol("login: no answer".into())),
    }
}

/// Logs in and opens the folder: the number of messages in it.
pub async fn test_connection(account: &ImapAccount, password: &str) -> Result<u32, ImapError> {
    let mut session = connect(account, password).await?;
    let mailbox = session.examine(&account.folder).await.map_err(|e| ImapError::Folder {
        folder: account.folder.clone(),
        reason: e.to_string(),
    })?;
    let _ = session.logout().await;
    Ok(mailbox.exists)
}

/// Fetches the messages after `since` (everything when `since` is `None` or its
/// UIDVALIDITY is stale), read-only.
pub async fn fetch_new(account: &ImapAccount, password: &str, since: Option<SyncPoint>) -> Result<Fetched, ImapError> {
    let mut session = connect(account, password).await?;
    let mailbox = session.examine(&account.folder).await.map_err(|e| ImapError::Folder {
        folder: account.folder.clone(),
        reason: e.to_string(),
    })?;
    let uid_validity = mailbox.uid_validity.unwrap_or(0);
    let reset = since.is_some_and(|s| s.uid_validity != uid_validity);
    let after = since
        .filter(|s| s.uid_validity == uid_validity)
        .map_or(0, |s| s.last_uid);
    let mut messages = Vec::new();
    if mailbox.exists > 0 {
        // "n:*" always matches the newest message, even below n: filter.
        let uids = timed("UID SEARCH", session.uid_search(format!("UID {}:*", after + 1))).await?;
        let mut uids: Vec<u32> = uids.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        if !uids.is_empty() {
            let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let stream = timed("UID FETCH", session.uid_fetch(&set, "(UID BODY.PEEK[])")).await?;
            let fetches: Vec<_> = timed("UID FETCH", stream.try_collect::<Vec<_>>()).await?;
            for f in fetches {
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    messages.push(RawMessage {
                        uid,
                        source: format!("imap:{}/{}/{uid_validity}/{uid}", account.name, account.folder),
                        bytes: body.to_vec(),
                    });
                }
            }
            messages.sort_by_key(|m| m.uid);
        }
    }
    let _ = session.logout().await;
    Ok(Fetched {
        uid_validity,
        reset,
        messages,
        unreadable: Vec::new(),
    })
}

/// Moves messages (by UID) into folders (given as path parts, joined with the server's
/// hierarchy delimiter), creating those as needed, if the folder still has
/// `uid_validity` (else the UIDs mean other messages: nothing is moved). Which folders
/// are allowed is the caller's rule (core's `route_folder`). Returns how many moved.
pub async fn move_to_folders(
    account: &ImapAccount,
    password: &str,
    uid_validity: u32,
    moves: &[(u32, Vec<String>)],
) -> Result<usize, ImapError> {
    if moves.is_empty() {
        return Ok(0);
    }
    let mut session = connect(account, password).await?;
    let folder_err = |reason: String| ImapError::Folder {
        folder: account.folder.clone(),
        reason,
    };
    let mailbox = session
        .select(&account.folder)
        .await
        .map_err(|e| folder_err(e.to_string()))?;
    if mailbox.uid_validity != Some(uid_validity) {
        let _ = session.logout().await;
        return Err(folder_err(
            "the server renumbered the folder since it was read; nothing was moved".into(),
        ));
    }
    let delimiter = {
        let names = timed("LIST", session.list(Some(""), Some("%"))).await?;
        let names: Vec<_> = timed("LIST", names.try_collect::<Vec<_>>()).await?;
        names
            .iter()
            .find_map(|n| n.delimiter().map(str::to_string))
            .unwrap_or_else(|| "/".into())
    };
    let mut by_folder: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for (uid, parts) in moves {
        by_folder.entry(parts.join(&delimiter)).or_default().push(*uid);
    }
    let mut moved = 0;
    for (folder, uids) in by_folder {
        // CREATE fails when the folder exists; the MOVE below says whether it is usable.
        let _ = session.create(&folder).await;
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        timed("UID MOVE", session.uid_mv(&set, &folder)).await?;
        moved += uids.len();
    }
    let _ = session.logout().await;
    Ok(moved)
}
