//! Local mail: a Maildir folder, an mbox file or `.eml` files, read in a stable order
//! (Maildir: by file name). Bantam never moves or rewrites these files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::mailbox::{Fetched, Mailbox, RawMessage, SyncPoint};
use super::{parse, MailError, MailMessage};

/// Where messages come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MailSource {
    Maildir { path: PathBuf },
    Mbox { path: PathBuf },
    Files { paths: Vec<PathBuf> },
}

/// One message read from a source, or why it could not be.
pub type ReadResult = Result<MailMessage, MailError>;

/// Reads and parses every message of a source, in a stable order.
pub fn read_source(source: &MailSource) -> Result<Vec<ReadResult>, MailError> {
    Ok(read_raw(source)?
        .into_iter()
        .map(|raw| raw.and_then(|r| parse(&r.bytes, &r.source)))
        .collect())
}

/// Every message's bytes, numbered from 1 in reading order.
fn read_raw(source: &MailSource) -> Result<Vec<Result<RawMessage, MailError>>, MailError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| MailError::Read {
            path: path.clone(),
            source: e,
        })
    };
    let numbered = |(i, (source, bytes)): (usize, (String, Result<Vec<u8>, MailError>))| {
        bytes.map(|bytes| RawMessage {
            uid: i as u32 + 1,
            source,
            bytes,
        })
    };
    match source {
        MailSource::Files { paths } => Ok(paths
            .iter()
            .map(|p| (p.display().to_string(), read(p)))
            .enumerate()
            .map(numbered)
            .collect()),
        MailSource::Maildir { path } => {
            let mut files = Vec::new();
            for sub in ["cur", "new"] {
                let dir = path.join(sub);
                let entries = std::fs::read_dir(&dir).map_err(|e| MailError::Read {
                    path: dir.clone(),
                    source: e,
                })?;
                files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()));
            }
            files.sort();
            read_raw(&MailSource::Files { paths: files })
        }
        MailSource::Mbox { path } => {
            let file = std::fs::File::open(path).map_err(|e| MailError::Read {
                path: path.clone(),
                source: e,
            })?;
            let iter = mail_parser::mailbox::mbox::MessageIterator::new(std::io::BufReader::new(file));
            Ok(iter
                .enumerate()
                .map(|(i, m)| {
                    let source = format!("{}#{}", path.display(), i + 1);
                    let bytes = m.map(|m| m.contents().to_vec()).map_err(|e| MailError::Read {
                        path: path.clone(),
                        source: e,
                    });
                    (source, bytes)
                })
                .enumerate()
                .map(numbered)
                .collect())
        }
    }
}

/// A local source as a [`Mailbox`]: every fetch reads it whole (cheap, and robust to
/// messages being deleted or renamed), and the store's keys make each message triaged
/// once. Filing is refused: local mail files are the user's, not Bantam's to move.
pub struct LocalMailbox {
    source: MailSource,
}

impl LocalMailbox {
    pub fn new(source: MailSource) -> Self {
        Self { source }
    }

    fn location(&self) -> String {
        match &self.source {
            MailSource::Maildir { path } | MailSource::Mbox { path } => path.display().to_string(),
            MailSource::Files { paths } => match paths.as_slice() {
                [one] => one.display().to_string(),
                _ => format!("{} files", paths.len()),
            },
        }
    }
}

impl Mailbox for LocalMailbox {
    type Error = MailError;

    fn name(&self) -> String {
        match &self.source {
            MailSource::Maildir { path } => format!("maildir:{}", path.display()),
            MailSource::Mbox { path } => format!("mbox:{}", path.display()),
            MailSource::Files { paths } => {
                let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!("files:{}", crate::ingest::sha256_hex(list.join("\n").as_bytes()))
            }
        }
    }

    fn sync_key(&self) -> Option<(String, String)> {
        None
    }

    async fn fetch_new(&mut self, _since: Option<SyncPoint>) -> Result<Fetched, MailError> {
        let source = self.source.clone();
        let read = tokio::task::spawn_blocking(move || read_raw(&source))
            .await
            .map_err(|e| MailError::Read {
                path: PathBuf::from(self.location()),
                source: std::io::Error::other(e),
            })??;
        let mut fetched = Fetched::default();
        for r in read {
            match r {
                Ok(m) => fetched.messages.push(m),
                Err(e) => fetched.unreadable.push(e),
            }
        }
        Ok(fetched)
    }

    async fn file(&mut self, _uid_validity: u32, _moves: &[(u32, Vec<String>)]) -> Result<usize, MailError> {
        Err(MailError::ReadOnly {
            location: self.location(),
        })
    }
}
