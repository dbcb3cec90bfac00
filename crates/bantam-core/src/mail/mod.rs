//! Mail in: a message parsed into what triage needs (sender, subject, thread ids, the body
//! as text, attachment names, bulk-mail signals), from a Maildir folder, an mbox file or
//! `.eml` files. mail-parser does the MIME and charset work; an HTML-only body becomes
//! text through the same path as web pages. A malformed message is one error, never the
//! end of a run.

mod local;
mod mailbox;
mod quotes;

use std::path::PathBuf;

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};

pub use local::{read_source, LocalMailbox, MailSource, ReadResult};
pub use mailbox::{Fetched, Mailbox, RawMessage, SyncPoint};
pub use quotes::{is_forward, new_text, QUOTE_MARKER};

/// Longest body kept per message; triage reads the start of a mail, not all of it.
const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not an email: {location}: {reason}")]
    Malformed { location: String, reason: String },
    #[error("{location}: Bantam does not move or rewrite local mail files")]
    ReadOnly { location: String },
}

impl MailError {
    /// Where the message came from (a file, or an account's folder and UID).
    pub fn location(&self) -> String {
        match self {
            MailError::Read { path, .. } => path.display().to_string(),
            MailError::Malformed { location, .. } | MailError::ReadOnly { location } => location.clone(),
        }
    }
}

/// One message, as triage sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailMessage {
    /// Stable identity for "triaged exactly once": the Message-ID, else a hash of the bytes.
    pub key: String,
    /// Where it came from (a path, or `mbox:FILE#N`).
    pub source: String,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    /// RFC 3339, when the Date header parses.
    pub date: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub bulk: BulkSignals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
}

/// Headers that say "sent to many" or "sent by a machine".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkSignals {
    pub list_unsubscribe: bool,
    pub list_id: Option<String>,
    /// `Precedence: bulk|list|junk`.
    pub precedence_bulk: bool,
    /// `Auto-Submitted` other than `no`.
    pub auto_submitted: bool,
}

impl MailMessage {
    /// What the message itself says: a reply without the history it quotes and its
    /// signature, a forward whole (see `new_text`).
    pub fn own_text(&self) -> std::borrow::Cow<'_, str> {
        new_text(&self.text, is_forward(&self.subject))
    }

    /// The sender's domain, lowercased.
    pub fn sender_domain(&self) -> Option<String> {
        self.from_address
            .as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
    }
}

fn texts(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// `Description <id>` → `id`; a bare id as it is.
fn list_id_of(raw: &str) -> String {
    let raw = raw.trim();
    match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => raw[open + 1..close].trim().to_string(),
        _ => raw.to_string(),
    }
}

/// Parses one message. `source` says where it came from, for errors and the record.
pub fn parse(bytes: &[u8], source: &str) -> Result<MailMessage, MailError> {
    // A file saved out of an mbox keeps the envelope line (`From sender date`) above the
    // headers; it is not part of the message.
    let bytes = match bytes.strip_prefix(b"From ") {
        Some(rest) => rest.iter().position(|b| *b == b'\n').map_or(bytes, |i| &rest[i + 1..]),
        None => bytes,
    };
    let head = &bytes[..bytes.len().min(8192)];
    // mail-parser accepts almost anything; a message needs at least one header line.
    let has_header = head.split(|b| *b == b'\n').next().is_some_and(|line| {
        line.iter().take_while(|b| **b != b':').all(|b| b.is_ascii_graphic()) && line.contains(&b':')
    });
    let message = MessageParser::default()
        .parse(bytes)
        .filter(|_| has_header)
        .ok_or_else(|| MailError::Malformed {
            location: source.to_string(),
            reason: "no message headers could be read".into(),
        })?;
    if message.from().is_none() && message.subject().is_none() && message.message_id().is_none() {
        return Err(MailError::Malformed {
            location: source.to_string(),
            reason: "no From, Subject or Message-ID header".into(),
        });
    }
    let (from_name, from_address) = message
        .from()
        .and_then(|a| a.first())
        .map(|a| {
            (
                a.name().map(str::to_string),
                a.address().map(|s| s.to_ascii_lowercase()),
            )
        })
        .unwrap_or((None, None));
    let to = message
        .to()
        .map(|a| a.iter().filter_map(|a| a.address().map(str::to_string)).collect())
        .unwrap_or_default();
    let html_only = !message.html_body.is_empty() && message.text_body.first() == message.html_body.first();
    let body = if html_only {
        message
            .body_html(0)
            .and_then(|h| crate::ingest::html_to_text(&h).ok())
            .unwrap_or_default()
    } else {
        message.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    };
    let text: String = body.trim().chars().take(MAX_BODY_CHARS).collect();
    let attachments = message
        .attachments()
        .map(|a| Attachment {
            name: a.attachment_name().unwrap_or("(unnamed)").to_string(),
            content_type: a
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
        })
        .collect();
    let precedence = message
        .header_raw("Precedence")
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let auto = message
        .header_raw("Auto-Submitted")
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_default();
    // Raw: mail-parser reads `Name <list.example.org>` as an address, and the id is the
    // part in angle brackets (RFC 2919).
    let list_id = message.header_raw("List-Id").map(list_id_of).filter(|l| !l.is_empty());
    let message_id = message.message_id().map(str::to_string);
    let subject = message.subject().unwrap_or("").trim().to_string();
    let date = message.date().map(|d| d.to_rfc3339());
    // Without a Message-ID: what the message says, not its bytes, so the same mail read
    // from a Maildir, an mbox or a file is one message.
    let key = match &message_id {
        Some(id) => format!("mid:{id}"),
        None => format!(
            "sha256:{}",
            crate::ingest::sha256_hex(
                format!(
                    "{}\n{}\n{}\n{}",
                    from_address.as_deref().unwrap_or(""),
                    date.as_deref().unwrap_or(""),
                    subject,
                    text
                )
                .as_bytes()
            )
        ),
    };
    Ok(MailMessage {
        key,
        source: source.to_string(),
        in_reply_to: texts(message.in_reply_to()),
        references: texts(message.references()),
        message_id,
        from_name,
        from_address,
        to,
        subject,
        date,
        text,
        attachments,
        bulk: BulkSignals {
            list_unsubscribe: message.header_raw("List-Unsubscribe").is_some(),
            list_id,
            precedence_bulk: matches!(precedence.as_str(), "bulk" | "list" | "junk"),
            auto_submitted: !auto.is_empty() && auto != "no",
        },
    })
}
