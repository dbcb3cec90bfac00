//! What the ask command sends.

use bantam_core::ask::{Outcome, Source};
use bantam_core::store::SourceKind;
use serde::Serialize;
use ts_rs::TS;

/// One passage the answer was given: what it is and where it opens.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AskSource {
    pub n: usize,
    /// "message", "chunk", "memory" or "mail".
    #[ts(type = r#""message" | "chunk" | "memory" | "mail""#)]
    pub kind: SourceKind,
    /// The conversation (a message's, or the one a memory came from: 0 when none), the
    /// document or the mail message it opens.
    pub parent_id: i64,
    pub title: String,
    pub page: Option<i64>,
    /// "fhs-3.0.pdf · p. 38", "chat · Title", "memory".
    pub place: String,
    /// The passage's start.
    pub snippet: String,
    /// Whether the answer cites it.
    pub cited: bool,
}

impl AskSource {
    pub fn new(s: &Source, cited: bool) -> Self {
        Self {
            n: s.n,
            kind: s.hit.kind,
            parent_id: s.hit.parent_id,
            title: s.hit.title.clone(),
            page: s.hit.page,
            place: bantam_core::ask::place(&s.hit),
            snippet: s.passage.split_whitespace().take(40).collect::<Vec<_>>().join(" "),
            cited,
        }
    }
}

/// The document a whole-document question read, every part of it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WholeRead {
    pub document_id: i64,
    pub document: String,
    pub parts: usize,
    pub items: usize,
}

/// What the page receives for one ask, in order: `indexing` while new text is embedded,
/// `reading` (a whole-document question) or `token`s, then `done` or `failed`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AskEvent {
    Indexing {
        done: usize,
        total: usize,
    },
    Reading {
        done: usize,
        total: usize,
    },
    Token {
        text: String,
    },
    Done {
        /// "answered", "nothing_close", "not_in_sources" or "uncited".
        #[ts(type = r#""answered" | "nothing_close" | "not_in_sources" | "uncited""#)]
        outcome: Outcome,
        /// The message as kept in the conversation.
        text: String,
        /// Every passage given to the model, the cited ones marked.
        sources: Vec<AskSource>,
        /// Whether the vectors took part (else words only: no embedding model).
        by_meaning: bool,
        /// Set when the question was about a whole document, which was read instead.
        whole: Option<WholeRead>,
    },
    /// The user stopped it: the question is kept, what was written of the answer is not.
    Stopped,
    Failed {
        message: String,
    },
}
