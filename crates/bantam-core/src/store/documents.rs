//! Documents, their chunks with map summaries, and final summaries.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::conversations::fts_query;
use super::{now_ms, Store};
use crate::error::{Error, Result};
use crate::ingest::{Chunk, Hints};

/// A document as listed: everything but its text.
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredDocument {
    pub id: i64,
    pub sha256: String,
    pub path: String,
    pub name: String,
    pub format: String,
    pub size_bytes: i64,
    pub pages: Option<i64>,
    pub words: i64,
    /// JSON of [`Hints`].
    #[serde(skip)]
    pub hints: String,
    /// JSON of the extracted metadata, once done.
    pub metadata: Option<String>,
    pub chunk_model: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StoredDocument {
    pub fn hints(&self) -> Hints {
        serde_json::from_str(&self.hints).unwrap_or_default()
    }
}

pub struct NewDocument<'a> {
    pub sha256: &'a str,
    pub path: &'a str,
    pub name: &'a str,
    pub format: &'a str,
    pub size_bytes: u64,
    pub pages: Option<usize>,
    pub words: usize,
    pub text: &'a str,
    pub hints: &'a Hints,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct StoredChunk {
    pub document_id: i64,
    pub idx: i64,
    pub text: String,
    pub tokens: i64,
    pub start_byte: i64,
    pub end_byte: i64,
    pub page_start: Option<i64>,
    pub page_end: Option<i64>,
    /// JSON array of headings.
    pub heading_path: String,
    pub summary: Option<String>,
    pub summary_model: Option<String>,
    pub summarized_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredSummary {
    pub document_id: i64,
    pub length: String,
    pub text: String,
    pub model: String,
    pub created_at: i64,
}

const DOCUMENT_COLUMNS: &str = "id, sha256, path, name, format, size_bytes, pages, words, hints, metadata, \
                                chunk_model, created_at, updated_at";

impl Store {
    /// Adds a document, or, for content already known (same sha256), notes its latest
    /// path and returns the stored one. The bool is true when it was new.
    pub async fn upsert_document(&self, doc: &NewDocument<'_>) -> Result<(StoredDocument, bool)> {
        let now = now_ms();
        let hints = serde_json::to_string(doc.hints).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO documents (sha256, path, name, format, size_bytes, pages, words, text, hints,
                                    created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(sha256) DO NOTHING RETURNING id",
        )
        .bind(doc.sha256)
        .bind(doc.path)
        .bind(doc.name)
        .bind(doc.format)
        .bind(doc.size_bytes as i64)
        .bind(doc.pages.map(|p| p as i64))
        .bind(doc.words as i64)
        .bind(doc.text)
        .bind(&hints)
        .bind(now)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let created = inserted.is_some();
        let id = match inserted {
            Some(id) => {
                sqlx::query("INSERT INTO documents_fts (rowid, name, title, text) VALUES (?, ?, ?, ?)")
                    .bind(id)
                    .bind(doc.name)
                    .bind(doc.hints.title.as_deref().unwrap_or(""))
                    .bind(doc.text)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "UPDATE documents SET path = ?, name = ?, updated_at = ? WHERE sha256 = ? RETURNING id",
                )
                .bind(doc.path)
                .bind(doc.name)
                .bind(now)
                .bind(doc.sha256)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok((self.document(id).await?, created))
    }

    pub async fn document(&self, id: i64) -> Result<StoredDocument> {
        sqlx::query_as(&format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound {
                what: "document",
                id: id.to_string(),
            })
    }

    pub async fn document_text(&self, id: i64) -> Result<String> {
        sqlx::query_scalar("SELECT text FROM documents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound {
                what: "document",
                id: id.to_string(),
            })
    }

    /// Newest first; with a query, those whose name, title or text match.
    pub async fn list_documents(&self, query: Option<&str>, limit: i64) -> Result<Vec<StoredDocument>> {
        let columns = DOCUMENT_COLUMNS
            .split(", ")
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        match query.and_then(fts_query) {
            Some(fts) => Ok(sqlx::query_as(&format!(
                "SELECT {columns} FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
                 WHERE documents_fts MATCH ? ORDER BY rank LIMIT ?"
            ))
            .bind(fts)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?),
            None => Ok(sqlx::query_as(&format!(
                "SELECT {columns} FROM documents d ORDER BY d.updated_at DESC, d.id DESC LIMIT ?"
            ))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?),
        }
    }

    pub async fn delete_document(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM documents WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: "document",
                id: id.to_string(),
            });
        }
        sqlx::query("DELETE FROM documents_fts WHERE rowid = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a document's chunks (and so their map summaries).
    pub async fn replace_chunks(&self, document_id: i64, chunks: &[Chunk], model: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM document_chunks WHERE document_id = ?")
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        for c in chunks {
            sqlx::query(
                "INSERT INTO document_chunks (document_id, idx, text, tokens, start_byte, end_byte, page_start,
                                              page_end, heading_path)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(document_id)
            .bind(c.index as i64)
            .bind(&c.text)
            .bind(c.tokens as i64)
            .bind(c.start as i64)
            .bind(c.end as i64)
            .bind(c.page_start.map(|p| p as i64))
            .bind(c.page_end.map(|p| p as i64))
            .bind(serde_json::to_string(&c.heading_path).unwrap_or_else(|_| "[]".into()))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE documents SET chunk_model = ?, updated_at = ? WHERE id = ?")
            .bind(model)
            .bind(now_ms())
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn chunks(&self, document_id: i64) -> Result<Vec<StoredChunk>> {
        Ok(
            sqlx::query_as("SELECT * FROM document_chunks WHERE document_id = ? ORDER BY idx")
                .bind(document_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Saves a chunk's map summary unless it already has one; true when saved.
    pub async fn save_chunk_summary(&self, document_id: i64, idx: i64, summary: &str, model: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE document_chunks SET summary = ?, summary_model = ?, summarized_at = ?
             WHERE document_id = ? AND idx = ? AND summary IS NULL",
        )
        .bind(summary)
        .bind(model)
        .bind(now_ms())
        .bind(document_id)
        .bind(idx)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets every summary and the metadata of a document, for a redo.
    pub async fn clear_summaries(&self, document_id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE document_chunks SET summary = NULL, summary_model = NULL, summarized_at = NULL
             WHERE document_id = ?",
        )
        .bind(document_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM document_summaries WHERE document_id = ?")
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE documents SET metadata = NULL WHERE id = ?")
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn save_summary(&self, document_id: i64, length: &str, text: &str, model: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO document_summaries (document_id, length, text, model, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(document_id, length) DO UPDATE SET text = excluded.text, model = excluded.model,
                                                           created_at = excluded.created_at",
        )
        .bind(document_id)
        .bind(length)
        .bind(text)
        .bind(model)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn summary(&self, document_id: i64, length: &str) -> Result<Option<StoredSummary>> {
        Ok(
            sqlx::query_as("SELECT * FROM document_summaries WHERE document_id = ? AND length = ?")
                .bind(document_id)
                .bind(length)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn summaries(&self, document_id: i64) -> Result<Vec<StoredSummary>> {
        Ok(
            sqlx::query_as("SELECT * FROM document_summaries WHERE document_id = ? ORDER BY created_at")
                .bind(document_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Stores the metadata and indexes its title for search.
    pub async fn set_document_metadata(&self, document_id: i64, metadata_json: &str, title: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE documents SET metadata = ?, updated_at = ? WHERE id = ?")
            .bind(metadata_json)
            .bind(now_ms())
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE documents_fts SET title = ? WHERE rowid = ?")
            .bind(title)
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
