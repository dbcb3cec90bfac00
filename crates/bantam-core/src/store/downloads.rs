//! Model downloads: what is queued, how far each got, and why one failed. The download
//! itself (HTTP, resume, checksum) lives in `bantam-fetch`; this is its memory, so a
//! restart knows what to resume.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::{now_ms, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DownloadStatus {
    Queued,
    Downloading,
    Paused,
    Failed,
    Done,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DownloadRow {
    pub id: i64,
    pub url: String,
    pub file_name: String,
    pub catalog_id: Option<String>,
    pub sha256: Option<String>,
    pub total_bytes: Option<i64>,
    pub downloaded_bytes: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub status: DownloadStatus,
    pub error: Option<String>,
    pub error_kind: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What to fetch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDownload {
    pub url: String,
    pub file_name: String,
    pub catalog_id: Option<String>,
    pub sha256: Option<String>,
}

impl Store {
    /// Queues a download, or re-queues the existing one for the same file (its partial
    /// data is kept, so it resumes). A finished one is returned as it is.
    pub async fn queue_download(&self, new: &NewDownload) -> Result<DownloadRow> {
        let now = now_ms();
        let row: DownloadRow = sqlx::query_as(
            "INSERT INTO downloads (url, file_name, catalog_id, sha256, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'queued', ?, ?)
             ON CONFLICT(file_name) DO UPDATE SET
                 status = CASE WHEN status = 'done' THEN 'done' ELSE 'queued' END,
                 url = CASE WHEN status = 'done' THEN url ELSE excluded.url END,
                 sha256 = CASE WHEN status = 'done' THEN sha256 ELSE COALESCE(excluded.sha256, sha256) END,
                 catalog_id = COALESCE(excluded.catalog_id, catalog_id),
                 error = CASE WHEN status = 'done' THEN error ELSE NULL END,
                 error_kind = CASE WHEN status = 'done' THEN error_kind ELSE NULL END,
                 updated_at = excluded.updated_at
             RETURNING *",
        )
        .bind(&new.url)
        .bind(&new.file_name)
        .bind(&new.catalog_id)
        .bind(new.sha256.as_ref().map(|s| s.to_ascii_lowercase()))
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn download(&self, id: i64) -> Result<DownloadRow> {
        sqlx::query_as("SELECT * FROM downloads WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "download",
                id: id.to_string(),
            })
    }

    pub async fn download_by_file(&self, file_name: &str) -> Result<Option<DownloadRow>> {
        Ok(sqlx::query_as("SELECT * FROM downloads WHERE file_name = ?")
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every download, oldest first.
    pub async fn list_downloads(&self) -> Result<Vec<DownloadRow>> {
        Ok(sqlx::query_as("SELECT * FROM downloads ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The next queued download, marked as downloading; `None` when nothing waits.
    pub async fn claim_download(&self) -> Result<Option<DownloadRow>> {
        Ok(sqlx::query_as(
            "UPDATE downloads SET status = 'downloading', updated_at = ?
             WHERE id = (SELECT id FROM downloads WHERE status = 'queued' ORDER BY created_at, id LIMIT 1)
             RETURNING *",
        )
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// After a crash or quit, downloads that were running go back in the queue.
    pub async fn requeue_interrupted_downloads(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE downloads SET status = 'queued', updated_at = ? WHERE status = 'downloading'")
                .bind(now_ms())
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn set_download_status(&self, id: i64, status: DownloadStatus) -> Result<()> {
        sqlx::query("UPDATE downloads SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Fetch the file from elsewhere (the same file: the expected sha256 stays).
    pub async fn set_download_url(&self, id: i64, url: &str) -> Result<()> {
        sqlx::query(
            "UPDATE downloads SET url = ?, total_bytes = NULL, etag = NULL, last_modified = NULL, updated_at = ?
             WHERE id = ?",
        )
        .bind(url)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What the server said about the file: its size and validators.
    pub async fn set_download_source(
        &self,
        id: i64,
        total: Option<u64>,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE downloads SET total_bytes = ?, etag = ?, last_modified = ?, updated_at = ? WHERE id = ?")
            .bind(total.map(|t| t as i64))
            .bind(etag)
            .bind(last_modified)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_download_progress(&self, id: i64, downloaded: u64) -> Result<()> {
        sqlx::query("UPDATE downloads SET downloaded_bytes = ?, updated_at = ? WHERE id = ?")
            .bind(downloaded as i64)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn fail_download(&self, id: i64, kind: &str, message: &str) -> Result<()> {
        sqlx::query("UPDATE downloads SET status = 'failed', error = ?, error_kind = ?, updated_at = ? WHERE id = ?")
            .bind(message)
            .bind(kind)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn finish_download(&self, id: i64, sha256: &str, size: u64) -> Result<()> {
        sqlx::query(
            "UPDATE downloads SET status = 'done', sha256 = ?, total_bytes = ?, downloaded_bytes = ?,
                 error = NULL, error_kind = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(sha256)
        .bind(size as i64)
        .bind(size as i64)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_download(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM downloads WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
