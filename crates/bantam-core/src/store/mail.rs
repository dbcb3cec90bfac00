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

    /// Forgets a message: its triage, draft, words and vectors go with it (cascade and
    /// triggers). Bantam never changes the mailbox it came from.
    pub async fn delete_mail(&self, id: i64) -> Result<()> {
        let gone = sqlx::query("DELETE FROM mail_messages WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(Error::NotFound {
                what: "message",
                id: id.to_string(),
            });
        }
        Ok(())
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

    /// Stores a reply draft unless the message has one; false when it had.
    pub async fn save_draft(&self, message_id: i64, body: &str, model: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO mail_drafts (message_id, body, model, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(body)
        .bind(model)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn draft_of(&self, message_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT body FROM mail_drafts WHERE message_id = ?")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores a record whether or not the message had one (a correction).
    pub async fn replace_triage(&self, message_id: i64, record: &str, decided_by: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO triage (message_id, record, decided_by, model, created_at) VALUES (?, ?, ?, NULL, ?)
             ON CONFLICT(message_id) DO UPDATE SET record = excluded.record, decided_by = excluded.decided_by",
        )
        .bind(message_id)
        .bind(record)
        .bind(decided_by)
        .bind(now_ms())
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

    /// Changes whenever a correction is added or removed: (newest id, count).
    pub async fn corrections_mark(&self) -> Result<(i64, i64)> {
        Ok(
            sqlx::query_as("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM triage_corrections")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Each corrected message with its newest corrected category, oldest first (what the
    /// filter learns from). Stored messages that no longer parse are skipped.
    pub async fn corrected_messages(&self) -> Result<Vec<(String, MailMessage)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.category, m.message FROM triage_corrections c
             JOIN mail_messages m ON m.id = c.message_id
             WHERE c.category IS NOT NULL
               AND c.id = (SELECT MAX(id) FROM triage_corrections WHERE message_id = c.message_id)
             ORDER BY c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(category, json)| {
                serde_json::from_str(&json)
                    .map_err(|e| tracing::warn!("a corrected message is unreadable: {e}"))
                    .ok()
                    .map(|m| (category, m))
            })
            .collect())
    }
}

impl Store {
    /// Saves an account (any serializable description; the CLI and app store
    /// `bantam_fetch::imap::ImapAccount`) under its name.
    pub async fn save_mail_account<T: Serialize>(&self, name: &str, account: &T) -> Result<()> {
        let json = serde_json::to_string(account).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        sqlx::query(
            "INSERT INTO mail_accounts (name, account, created_at) VALUES (?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET account = excluded.account",
        )
        .bind(name)
        .bind(json)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mail_account<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let json: String = sqlx::query_scalar("SELECT account FROM mail_accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "mail account",
                id: name.to_string(),
            })?;
        serde_json::from_str(&json).map_err(|e| Error::InvalidRequest(format!("account {name}: {e}")))
    }

    pub async fn mail_accounts<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT account FROM mail_accounts ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|j| serde_json::from_str(j).map_err(|e| Error::InvalidRequest(e.to_string())))
            .collect()
    }

    pub async fn delete_mail_account(&self, name: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM mail_accounts WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }

    /// (UIDVALIDITY, last UID) of an account's folder's last sync.
    pub async fn sync_point(&self, account: &str, folder: &str) -> Result<Option<(u32, u32)>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT uid_validity, last_uid FROM imap_sync WHERE account = ? AND folder = ?")
                .bind(account)
                .bind(folder)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(v, u)| (v as u32, u as u32)))
    }

    pub async fn set_sync_point(&self, account: &str, folder: &str, uid_validity: u32, last_uid: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO imap_sync (account, folder, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(account, folder) DO UPDATE SET uid_validity = excluded.uid_validity,
                 last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(folder)
        .bind(uid_validity as i64)
        .bind(last_uid as i64)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A triaged message as the Inbox lists it.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct InboxRow {
    pub message_id: i64,
    pub key: String,
    pub from_address: Option<String>,
    pub subject: String,
    pub date: Option<String>,
    /// JSON: the triage record.
    pub record: String,
    pub decided_by: String,
    /// The local reply draft, when one was written.
    pub draft: Option<String>,
}

impl Store {
    /// Triaged messages, most urgent first, then newest; optionally only those whose
    /// subject or sender contains `query`.
    pub async fn inbox(&self, query: Option<&str>, limit: i64) -> Result<Vec<InboxRow>> {
        let like = query.map(|q| format!("%{}%", q.replace('%', "\\%").replace('_', "\\_")));
        Ok(sqlx::query_as(
            "SELECT m.id AS message_id, m.key, m.from_address, m.subject, m.date, t.record, t.decided_by,
                    d.body AS draft
             FROM triage t JOIN mail_messages m ON m.id = t.message_id
             LEFT JOIN mail_drafts d ON d.message_id = m.id
             WHERE ?1 IS NULL OR m.subject LIKE ?1 ESCAPE '\\' OR m.from_address LIKE ?1 ESCAPE '\\'
             ORDER BY CASE json_extract(t.record, '$.priority')
                        WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
                      m.date DESC, m.id DESC
             LIMIT ?2",
        )
        .bind(like)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
