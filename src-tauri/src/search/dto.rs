//! What the search box sends and receives.

use bantam_core::search::Hit;
use bantam_core::store::SourceKind;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The search box's filter: one kind of source, or (none) everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Chat,
    Doc,
    Mail,
    Memory,
}

impl SearchKind {
    pub fn kinds(kind: Option<SearchKind>) -> Vec<SourceKind> {
        match kind {
            None => bantam_core::search::SearchOptions::default().kinds,
            Some(SearchKind::Chat) => vec![SourceKind::Message],
            Some(SearchKind::Doc) => vec![SourceKind::Chunk],
            Some(SearchKind::Mail) => vec![SourceKind::Mail],
            Some(SearchKind::Memory) => vec![SourceKind::Memory],
        }
    }
}

/// One hit, best first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FoundHit {
    #[ts(type = r#""message" | "chunk" | "memory" | "mail""#)]
    pub kind: SourceKind,
    /// What it opens: the conversation, the document, the mail message (for a memory, the
    /// conversation it came from, 0 when none).
    pub parent_id: i64,
    /// Where it is, next to its kind: "fhs-3.0.pdf · p. 38", the conversation's title,
    /// the mail's subject, "Memory".
    pub place: String,
    /// The matched words in `[brackets]`, or the passage's start for a match by meaning.
    pub snippet: String,
    /// Found by its words, by its meaning, or both.
    pub by_words: bool,
    pub by_meaning: bool,
}

impl From<&Hit> for FoundHit {
    fn from(h: &Hit) -> Self {
        Self {
            kind: h.kind,
            parent_id: h.parent_id,
            place: match (h.kind, h.page) {
                (SourceKind::Chunk, Some(p)) => format!("{} · p. {p}", h.title),
                (SourceKind::Chunk, None) => format!("{} · part {}", h.title, h.part + 1),
                _ => h.title.clone(),
            },
            snippet: h.snippet.clone(),
            by_words: h.word_rank.is_some(),
            by_meaning: h.meaning_rank.is_some(),
        }
    }
}
