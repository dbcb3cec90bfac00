//! Reading a document into the store: extraction, the deterministic facts, and chunks
//! counted with the model's own tokenizer (once per content and chunk size).

use std::path::{Path, PathBuf};

use super::{DocumentService, IngestedDocument};
use crate::error::{Error, Result};
use crate::ingest::{self, Chunker};
use crate::store::NewDocument;

impl DocumentService {
    /// Reads, extracts and chunks a file, and stores it (once per content).
    pub async fn ingest(&self, path: &Path) -> Result<IngestedDocument> {
        let owned = path.to_path_buf();
        let max_bytes = self.options.max_bytes;
        let ingested = tokio::task::spawn_blocking(move || ingest::ingest_file(&owned, max_bytes))
            .await
            .map_err(Error::panicked("reading the document"))??;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.store_ingested(ingested, &path.display().to_string(), &name).await
    }

    /// Stores text that has no file (the clipboard) as a plain-text document.
    pub async fn ingest_text(&self, name: &str, text: &str) -> Result<IngestedDocument> {
        let extracted = ingest::extract(text.as_bytes(), Some("txt")).map_err(|source| Error::Document {
            path: PathBuf::from(name),
            source,
        })?;
        let ingested = ingest::Ingested {
            sha256: ingest::sha256_hex(text.as_bytes()),
            size_bytes: text.len() as u64,
            words: extracted.text.split_whitespace().count(),
            extracted,
        };
        self.store_ingested(ingested, name, name).await
    }

    async fn store_ingested(&self, ingested: ingest::Ingested, path: &str, name: &str) -> Result<IngestedDocument> {
        let doc = &ingested.extracted;
        let (document, created) = self
            .store
            .upsert_document(&NewDocument {
                sha256: &ingested.sha256,
                path,
                name,
                format: doc.format.as_str(),
                size_bytes: ingested.size_bytes,
                pages: doc.pages(),
                words: ingested.words,
                text: &doc.text,
                hints: &doc.hints,
            })
            .await?;
        let chunk_model = format!("{}:{}", self.model(), self.chunk_tokens());
        if document.chunk_model.as_deref() != Some(chunk_model.as_str()) {
            let chunker = Chunker {
                max_tokens: self.chunk_tokens(),
                overlap_tokens: self.options.overlap_tokens,
            };
            let tokenizer = self.tokenizer.clone();
            let extracted = ingested.extracted.clone();
            let chunks = tokio::task::spawn_blocking(move || chunker.chunk(&extracted, tokenizer.as_ref()))
                .await
                .map_err(Error::panicked("chunking"))?;
            self.store.replace_chunks(document.id, &chunks, &chunk_model).await?;
        }
        Ok(IngestedDocument {
            document: self.store.document(document.id).await?,
            chunks: self.store.chunks(document.id).await?,
            created,
        })
    }

    pub(super) async fn load(&self, id: i64) -> Result<IngestedDocument> {
        Ok(IngestedDocument {
            document: self.store.document(id).await?,
            chunks: self.store.chunks(id).await?,
            created: false,
        })
    }
}
