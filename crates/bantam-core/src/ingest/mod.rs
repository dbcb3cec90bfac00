//! Plain text out of documents. Each format has its own module; all of them produce an
//! [`Extracted`] whose text is Markdown-flavoured (headings as `#` lines) so the chunker
//! can split at structure, plus what the file itself says about its title and authors.
//! The format is decided from the bytes, and the extension has to agree: a `.pdf` that is
//! HTML is an error, not a guess.

mod chunk;
mod docx;
mod email;
mod html;
pub mod outline;
mod pdf;
mod sniff;
mod text;

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use chunk::{Chunk, Chunker, TokenCounter};
pub use sniff::Format;

use crate::error::{Error, Result};

/// Files over this size are refused before they are read (configurable per call).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file gave no text. Each says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IngestError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("{what} files are not supported (PDF, DOCX, HTML, Markdown, text and .eml are)")]
    Unsupported { what: String },
    #[error("the name says {claimed} but the content is {actual}")]
    ExtensionMismatch { claimed: String, actual: String },
    #[error("the PDF is password-protected; remove the password and try again")]
    Encrypted,
    #[error("no text found — it looks like a scan (the PDF has {pages} page(s) of images only)")]
    NoTextLayer { pages: usize },
    #[error("no text found in the document")]
    NoText,
    #[error("the {format} file is damaged or not what it claims: {reason}")]
    Corrupt { format: String, reason: String },
}

/// What a file's own metadata says (PDF Info, DOCX core properties, HTML meta, mail
/// headers). The model fills what is missing; these win where present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hints {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Extracted {
    pub format: Format,
    /// Markdown-flavoured text: headings as `#` lines, paragraphs separated by blank lines.
    pub text: String,
    /// For paged formats, the byte offset in `text` where each page starts.
    pub page_starts: Vec<usize>,
    pub hints: Hints,
}

impl Extracted {
    pub fn pages(&self) -> Option<usize> {
        (!self.page_starts.is_empty()).then_some(self.page_starts.len())
    }

    /// The 1-based page holding a byte offset of `text`.
    pub fn page_at(&self, offset: usize) -> Option<usize> {
        if self.page_starts.is_empty() {
            return None;
        }
        Some(self.page_starts.partition_point(|&start| start <= offset).max(1))
    }
}

/// A file read and extracted, with the facts that need no model.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub extracted: Extracted,
    pub sha256: String,
    pub size_bytes: u64,
    pub words: usize,
}

/// Reads and extracts one file. Blocking: call from `spawn_blocking`.
pub fn ingest_file(path: &Path, max_bytes: u64) -> Result<Ingested> {
    let document_error = |source: IngestError| Error::Document {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(document_error(IngestError::Unsupported { what: "folder".into() }));
    }
    if meta.len() > max_bytes {
        return Err(document_error(IngestError::TooLarge {
            size: meta.len(),
            limit: max_bytes,
        }));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let extracted = extract(&bytes, extension.as_deref()).map_err(document_error)?;
    let words = extracted.text.split_whitespace().count();
    Ok(Ingested {
        sha256: sha256_hex(&bytes),
        size_bytes: bytes.len() as u64,
        words,
        extracted,
    })
}

/// Extracts text from bytes; `extension` (lower case, no dot) is what the name claims.
pub fn extract(bytes: &[u8], extension: Option<&str>) -> Result<Extracted, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    let format = sniff::decide(bytes, extension)?;
    // Parsers of hostile files can panic deep inside; a panic is a damaged file, not a crash.
    let extracted = std::panic::catch_unwind(|| match format {
        Format::Pdf => pdf::extract(bytes),
        Format::Docx => docx::extract(bytes),
        Format::Html => html::extract(&text::decode(bytes)),
        Format::Markdown => Ok(text::markdown(bytes)),
        Format::Text => Ok(text::plain(bytes)),
        Format::Email => email::extract(bytes),
    })
    .unwrap_or_else(|_| {
        Err(IngestError::Corrupt {
            format: format.name().into(),
            reason: "the parser gave up on it".into(),
        })
    })?;
    if extracted.text.trim().is_empty() {
        return Err(match extracted.pages() {
            Some(pages) => IngestError::NoTextLayer { pages },
            None => IngestError::NoText,
        });
    }
    Ok(extracted)
}

/// An HTML body as readable text (the main content when Readability finds it).
pub fn html_to_text(html: &str) -> Result<String, IngestError> {
    html::extract(html).map(|e| e.text)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Trims and drops empty metadata strings.
fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty())
}
