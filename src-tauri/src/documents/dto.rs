//! What the document commands send and take.

use bantam_core::store::{StoredDocument, StoredSummary};
use bantam_core::tasks::documents::{DocumentEvent, DocumentMetadata};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// For one file, in order: `ingested`, `mapped` (long documents), `token`s of the
/// summary, `metadata`, then `done` — or `failed`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocEvent {
    Ingested {
        document_id: i64,
        name: String,
        format: String,
        pages: Option<i64>,
        words: i64,
        chunks: usize,
    },
    Mapped {
        done: usize,
        total: usize,
    },
    Token {
        text: String,
    },
    Metadata {
        metadata: Box<DocumentMetadata>,
    },
    Done {
        document_id: i64,
        text: String,
        cached: bool,
        chunks: usize,
        mapped: usize,
    },
    Failed {
        message: String,
    },
}

impl From<DocumentEvent> for DocEvent {
    fn from(e: DocumentEvent) -> Self {
        match e {
            DocumentEvent::Ingested(d) => DocEvent::Ingested {
                document_id: d.document.id,
                name: d.document.name.clone(),
                format: d.document.format.clone(),
                pages: d.document.pages,
                words: d.document.words,
                chunks: d.chunks.len(),
            },
            DocumentEvent::Mapped { done, total } => DocEvent::Mapped { done, total },
            DocumentEvent::Token(text) => DocEvent::Token { text },
            DocumentEvent::Metadata(metadata) => DocEvent::Metadata { metadata },
            DocumentEvent::Done(r) => DocEvent::Done {
                document_id: r.document_id,
                text: r.text,
                cached: r.cached,
                chunks: r.chunks,
                mapped: r.mapped,
            },
            DocumentEvent::Failed(e) => DocEvent::Failed { message: e.to_string() },
        }
    }
}

/// What to summarize: a path (dropped), a stored document (re-summarize), or the clipboard.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(optional_fields)]
pub struct SummarizeTarget {
    pub path: Option<String>,
    pub document_id: Option<i64>,
    pub clipboard: Option<bool>,
}

#[derive(Debug, Serialize, TS)]
pub struct DocumentRow {
    #[serde(flatten)]
    pub document: StoredDocument,
    pub title: Option<String>,
}

#[derive(Debug, Serialize, TS)]
pub struct DocumentDetail {
    pub document: StoredDocument,
    pub metadata: Option<DocumentMetadata>,
    pub summaries: Vec<StoredSummary>,
}
