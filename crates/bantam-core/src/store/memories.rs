//! The memory of the user: facts kept (or proposed and waiting), where each came from,
//! and how often it was recalled into a prompt.

use serde::{Deserialize, Serialize};

use super::{now_ms, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum MemoryStatus {
    /// Proposed from the user's message; recalled only once the user keeps it.
    Proposed,
    Kept,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Memory {
    pub id: i64,
    pub text: String,
    pub status: MemoryStatus,
    /// The message it came from, and that message's conversation (gone: `None`).
    pub source_message_id: Option<i64>,
    pub source_conversation_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// How many prompts it was put in, and when last.
    pub uses: i64,
    pub last_used_at: Option<i64>,
}

const SELECT: &str = "SELECT f.*, m.conversation_id AS source_conversation_id
                      FROM memories f LEFT JOIN messages m ON m.id = f.source_message_id";

fn found(rows: u64, id: i64) -> Result<()> {
    if rows == 0 {
        return Err(Error::NotFound {
            what: "memory",
            id: id.to_string(),
        });
    }
    Ok(())
}

fn clean(text: &str) -> Result<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(Error::InvalidRequest("a memory needs some text".into()));
    }
    Ok(text)
}

impl Store {
    /// Adds a fact; the same text (case and spacing aside) is not stored twice — the one
    /// there is returned (and kept, when this one is).
    pub async fn add_memory(&self, text: &str, status: MemoryStatus, source_message_id: Option<i64>) -> Result<Memory> {
        let text = clean(text)?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM memories WHERE lower(text) = lower(?)")
            .bind(&text)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(id) = existing {
            if status == MemoryStatus::Kept {
                return self.keep_memory(id).await;
            }
            return self.memory(id).await;
        }
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO memories (text, status, source_message_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&text)
        .bind(status)
        .bind(source_message_id)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        self.memory(id).await
    }

    pub async fn memory(&self, id: i64) -> Result<Memory> {
        sqlx::query_as(&format!("{SELECT} WHERE f.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound {
                what: "memory",
                id: id.to_string(),
            })
    }

    /// Every fact (of one status, if given), newest first.
    pub async fn memories(&self, status: Option<MemoryStatus>) -> Result<Vec<Memory>> {
        Ok(sqlx::query_as(&format!(
            "{SELECT} WHERE ?1 IS NULL OR f.status = ?1 ORDER BY f.id DESC"
        ))
        .bind(status)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn edit_memory(&self, id: i64, text: &str) -> Result<Memory> {
        let done = sqlx::query("UPDATE memories SET text = ?, updated_at = ? WHERE id = ?")
            .bind(clean(text)?)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)?;
        self.memory(id).await
    }

    /// A proposed fact becomes one that is recalled.
    pub async fn keep_memory(&self, id: i64) -> Result<Memory> {
        let done = sqlx::query("UPDATE memories SET status = 'kept', updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)?;
        self.memory(id).await
    }

    /// Deletes a fact with its words and vectors (triggers).
    pub async fn delete_memory(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM memories WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Facts matching any word of `query` (BM25), best first: (id, snippet).
    pub async fn search_memories(&self, query: &str, limit: i64) -> Result<Vec<(i64, String)>> {
        self.any_word_rows("memories_fts", query, limit).await
    }

    /// Counts a recall of each fact.
    pub async fn memories_used(&self, ids: &[i64]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        for id in ids {
            sqlx::query("UPDATE memories SET uses = uses + 1, last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes every fact and leaves nothing of them in the file: the word index is merged
    /// (deleted entries dropped), the file rewritten (VACUUM) and the write-ahead log
    /// emptied. Returns how many there were.
    pub async fn forget_all_memories(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM memories").execute(&self.pool).await?;
        sqlx::query("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
            .execute(&self.pool)
            .await?;
        self.compact().await?;
        Ok(done.rows_affected())
    }

    /// Rewrites the file without its free pages and empties the write-ahead log, so what
    /// was deleted is gone from the disk's copy too.
    pub async fn compact(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("VACUUM").execute(&mut *conn).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
