//! Conversations and their messages, with full-text search.

use serde::Serialize;
use sqlx::FromRow;

use super::{now_ms, Store};
use crate::engine::{ChatMessage, Role};
use crate::error::{Error, Result};
use crate::router::Decision;
use crate::tiers::TierChoice;

#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    /// Which tier answers it: the router's choice (`auto`) or a pinned tier.
    #[sqlx(try_from = "String")]
    pub tier_choice: TierChoice,
    pub created_at: i64,
    pub updated_at: i64,
    /// Filled by listings.
    #[sqlx(default)]
    pub message_count: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub role: String,
    pub content: String,
    pub model: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub generated_tokens: Option<i64>,
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub finish_reason: Option<String>,
    /// For answers: where it was made and why.
    #[sqlx(json(nullable))]
    pub route: Option<Decision>,
    pub created_at: i64,
}

impl StoredMessage {
    pub fn to_chat(&self) -> Option<ChatMessage> {
        Role::parse(&self.role).map(|role| ChatMessage::new(role, self.content.clone()))
    }
}

/// What the engine reported for an answer.
#[derive(Debug, Clone, Default)]
pub struct MessageStats {
    pub model: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub generated_tokens: Option<i64>,
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub finish_reason: Option<String>,
    pub route: Option<Decision>,
}

#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    pub conversation_id: i64,
    pub conversation_title: String,
    pub message_id: i64,
    pub role: String,
    /// The matching passage with hits between `[` and `]`.
    pub snippet: String,
    pub created_at: i64,
}

/// `NotFound` when a statement on conversation `id` touched no row.
fn found(rows: u64, id: i64) -> Result<()> {
    if rows == 0 {
        return Err(Error::NotFound {
            what: "conversation",
            id: id.to_string(),
        });
    }
    Ok(())
}

const LIST: &str = "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count
                    FROM conversations c";

impl Store {
    pub async fn create_conversation(
        &self,
        title: &str,
        model: Option<&str>,
        system_prompt: Option<&str>,
    ) -> Result<Conversation> {
        let now = now_ms();
        Ok(sqlx::query_as(
            "INSERT INTO conversations (title, model, system_prompt, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?) RETURNING *, 0 AS message_count",
        )
        .bind(title)
        .bind(model)
        .bind(system_prompt)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn conversation(&self, id: i64) -> Result<Conversation> {
        sqlx::query_as(&format!("{LIST} WHERE c.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound {
                what: "conversation",
                id: id.to_string(),
            })
    }

    /// Most recently active first.
    pub async fn list_conversations(&self, limit: i64) -> Result<Vec<Conversation>> {
        Ok(
            sqlx::query_as(&format!("{LIST} ORDER BY c.updated_at DESC, c.id DESC LIMIT ?"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn rename_conversation(&self, id: i64, title: &str) -> Result<()> {
        let done = sqlx::query("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?")
            .bind(title)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Pins the conversation to a tier, or gives it back to the router (`Auto`).
    pub async fn set_conversation_tier(&self, id: i64, choice: TierChoice) -> Result<()> {
        let done = sqlx::query("UPDATE conversations SET tier_choice = ? WHERE id = ?")
            .bind(choice.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Deletes a conversation and (by cascade) its messages and their search entries.
    pub async fn delete_conversation(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM conversations WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Removes the conversation's last message if it is the assistant's (for Regenerate);
    /// returns whether one was removed.
    pub async fn delete_last_answer(&self, conversation_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM messages WHERE id = (SELECT id FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1)
             AND role = 'assistant'",
        )
        .bind(conversation_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn messages(&self, conversation_id: i64) -> Result<Vec<StoredMessage>> {
        Ok(
            sqlx::query_as("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id")
                .bind(conversation_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Appends a message and touches its conversation, in one transaction.
    pub async fn add_message(
        &self,
        conversation_id: i64,
        role: Role,
        content: &str,
        stats: &MessageStats,
    ) -> Result<StoredMessage> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let message = sqlx::query_as(
            "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, cached_tokens,
                                   generated_tokens, ttft_ms, tokens_per_s, finish_reason, tier, route,
                                   created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(conversation_id)
        .bind(role.as_str())
        .bind(content)
        .bind(&stats.model)
        .bind(stats.prompt_tokens)
        .bind(stats.cached_tokens)
        .bind(stats.generated_tokens)
        .bind(stats.ttft_ms)
        .bind(stats.tokens_per_s)
        .bind(&stats.finish_reason)
        .bind(stats.route.as_ref().map(|r| r.tier.as_str()))
        .bind(stats.route.as_ref().map(sqlx::types::Json))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => Error::NotFound {
                what: "conversation",
                id: conversation_id.to_string(),
            },
            other => other.into(),
        })?;
        sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Full-text search across all conversations; every word must match (as a prefix).
    pub async fn search_messages(&self, query: &str, limit: i64) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as(
            "SELECT m.conversation_id, c.title AS conversation_title, m.id AS message_id, m.role,
                    snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet, m.created_at
             FROM messages_fts
             JOIN messages m ON m.id = messages_fts.rowid
             JOIN conversations c ON c.id = m.conversation_id
             WHERE messages_fts MATCH ?
             ORDER BY rank LIMIT ?",
        )
        .bind(fts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Turns what a person types into an FTS5 query: each word quoted (so `-`, `:` or `"`
/// are text, not syntax) and matched as a prefix.
pub(super) fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fts_query_quotes_words() {
        assert_eq!(super::fts_query("  "), None);
        assert_eq!(super::fts_query("cap \"x"), Some("\"cap\"* \"\"\"x\"*".into()));
    }
}
