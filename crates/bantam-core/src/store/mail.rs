//! Mail messages, their triage records and the user's corrections.

use serde::Serialize;
use sqlx::FromRow;

use super::{now_ms, Store};
use crate::error::{Error, Result};
use crate::mail::MailMessage;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct StoredTriage {
    pub message_id: i64,
    pub record: String,
    pub decided_by: String,
    pub model: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Correction {
    pub id: i64,
    pub message_id: i64,
    pub from_address: Option<String>,
    pub sender_domain: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Stores a message once (by key) and returns its id.
    pub async fn upsert_mail(&self, m: &MailMessage) -> Result<i64> {
        let json = serde_json::to_string(m).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_messages (key, source, from_address, sender_domain, subject, date, message, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET source = excluded.source
             RETURNING id",
        )
        .bind(&m.key)
        .bind(&m.source)
        .bind(&m.from_address)
        .bind(m.sender_domain())
        .bind(&m.subject)
        .bind(&m.date)
        .bind(json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn mail_message(&self, id: i64) -> Result<MailMessage> {
        let json: String = sqlx::query_scalar("SELECT message FROM mail_messages WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "message",
                id: id.to_string(),
            })?;
        serde_json::from_str(&json).map_err(|e| Error::InvalidRequest(format!("stored message {id}: {e}")))
    }

    /// The message id for a key (`mid:…` / `sha256:…`) or a bare Message-ID.
    pub async fn mail_id_by_key(&self, key: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM mail_messages WHERE key = ? OR key = 'mid:' || ?")
                .bind(key)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn triage_of(&self, message_id: i64) -> Result<Option<StoredTriage>> {
        Ok(sqlx::query_as("SELECT * FROM triage WHERE message_id = ?")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Saves a record unless the message has one already (a resumed or concurrent run);
    /// returns whether this call stored it.
    pub async fn save_triage(
        &self,
        message_id: i64,
        record: &str,
        decided_by: &str,
        model: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO triage (message_id, record, decided_by, model, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(record)
        .bind(decided_by)
        .bind(model)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a record (after a correction).
    pub async fn replace_triage(&self, message_id: i64, record: &str, decided_by: &str) -> Result<()> {
        sqlx::query("UPDATE triage SET record = ?, decided_by = ? WHERE message_id = ?")
            .bind(record)
            .bind(decided_by)
            .bind(message_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn triage_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM triage")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn add_correction(
        &self,
        message_id: i64,
        from_address: Option<&str>,
        sender_domain: Option<&str>,
        category: Option<&str>,
        priority: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO triage_corrections (message_id, from_address, sender_domain, category, priority, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(message_id)
        .bind(from_address)
        .bind(sender_domain)
        .bind(category)
        .bind(priority)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest correction for this sender, else for its domain.
    pub async fn correction_for(&self, from_address: Option<&str>, domain: Option<&str>) -> Result<Option<Correction>> {
        Ok(sqlx::query_as(
            "SELECT * FROM triage_corrections
             WHERE (from_address IS NOT NULL AND from_address = ?) OR (sender_domain IS NOT NULL AND sender_domain = ?)
             ORDER BY (from_address = ?) DESC, created_at DESC, id DESC LIMIT 1",
        )
        .bind(from_address)
        .bind(domain)
        .bind(from_address)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The newest corrections, as few-shot examples.
    pub async fn recent_corrections(&self, limit: i64) -> Result<Vec<(Correction, String)>> {
        let rows: Vec<Correction> =
            sqlx::query_as("SELECT * FROM triage_corrections ORDER BY created_at DESC, id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::new();
        for c in rows {
            let subject: String = sqlx::query_scalar("SELECT subject FROM mail_messages WHERE id = ?")
                .bind(c.message_id)
                .fetch_one(&self.pool)
                .await?;
            out.push((c, subject));
        }
        Ok(out)
    }
}
