//! What the document task takes and gives: lengths, metadata, options, results, events.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ingest;
use crate::store::{StoredChunk, StoredDocument};

pub const JOB_KIND: &str = "summarize";

/// How long a summary should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SummaryLength {
    /// One sentence.
    Tldr,
    /// One paragraph.
    #[default]
    Short,
    /// 3–7 bullet points.
    Bullets,
}

impl SummaryLength {
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryLength::Tldr => "tldr",
            SummaryLength::Short => "short",
            SummaryLength::Bullets => "bullets",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tldr" => Some(Self::Tldr),
            "short" => Some(Self::Short),
            "bullets" => Some(Self::Bullets),
            _ => None,
        }
    }

    pub(super) fn instruction(self) -> &'static str {
        match self {
            SummaryLength::Tldr => "Write a one-sentence TL;DR of the whole document.",
            SummaryLength::Short => "Write one short paragraph (3 to 5 sentences) that summarizes the whole document.",
            SummaryLength::Bullets => {
                "Summarize the whole document as 3 to 7 bullet points, one per line, each starting with \"- \"."
            }
        }
    }

    pub(super) fn max_tokens(self) -> usize {
        match self {
            SummaryLength::Tldr => 80,
            SummaryLength::Short => 220,
            SummaryLength::Bullets => 320,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DocumentType {
    Invoice,
    Contract,
    Paper,
    Letter,
    Report,
    Manual,
    Article,
    Email,
    Notes,
    Other,
}

/// What the model extracts, under [`metadata_schema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExtractedMetadata {
    pub title: String,
    pub authors: Vec<String>,
    pub dates: Vec<String>,
    pub document_type: DocumentType,
    pub language: String,
    pub people: Vec<String>,
    pub organizations: Vec<String>,
    pub places: Vec<String>,
    pub key_numbers: Vec<String>,
    pub key_points: Vec<String>,
}

/// Extracted metadata with the file's own (title, authors, date, language win over the
/// model's guesses) and the facts that are computed, not asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DocumentMetadata {
    #[serde(flatten)]
    pub extracted: ExtractedMetadata,
    pub file_name: String,
    pub format: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub words: usize,
    pub pages: Option<usize>,
    pub chunks: usize,
    pub model: String,
}

/// The JSON schema the metadata is decoded under. Lengths are bounded so a small model

#[derive(Debug, Clone)]
pub struct DocumentOptions {
    /// Files over this size are refused.
    pub max_bytes: u64,
    /// Token budget of a chunk; `None` derives it from the context size.
    pub chunk_tokens: Option<usize>,
    pub overlap_tokens: usize,
    /// Chunk summaries in flight at once; `None` submits them all and lets the engine's
    /// batch take as many as it has slots. `Some(1)` is one chunk at a time.
    pub map_concurrency: Option<usize>,
}

impl Default for DocumentOptions {
    fn default() -> Self {
        Self {
            max_bytes: ingest::DEFAULT_MAX_BYTES,
            chunk_tokens: None,
            overlap_tokens: 64,
            map_concurrency: None,
        }
    }
}

/// A document read and chunked, before any model work.
#[derive(Debug, Clone, Serialize)]
pub struct IngestedDocument {
    pub document: StoredDocument,
    pub chunks: Vec<StoredChunk>,
    /// False when the same content was already stored.
    pub created: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryResult {
    pub document_id: i64,
    pub length: SummaryLength,
    pub text: String,
    /// True when the stored summary was returned without running the model.
    pub cached: bool,
    pub metadata: Option<DocumentMetadata>,
    /// Why there is no metadata, when extracting it failed.
    pub metadata_error: Option<String>,
    pub chunks: usize,
    /// Chunk summaries made by this run (the rest were already stored).
    pub mapped: usize,
    pub map_reduce: bool,
}

/// Streamed while a summary is made, in order: `Ingested`, `Mapped` (map-reduce only),
/// `Token`s of the final pass, `Metadata`, then `Done` — or `Failed`.
#[derive(Debug)]
pub enum DocumentEvent {
    Ingested(Box<IngestedDocument>),
    Mapped { done: usize, total: usize },
    Token(String),
    Metadata(Box<DocumentMetadata>),
    Done(Box<SummaryResult>),
    Failed(Error),
}

/// What to summarize.
#[derive(Debug, Clone)]
pub enum Target {
    Path(PathBuf),
    /// Text with a name (the clipboard), stored like a file.
    Text {
        name: String,
        text: String,
    },
    Document(i64),
}
