//! Settings: a key → JSON value table.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{now_ms, Store};
use crate::error::{Error, Result};

/// Keys used across the app.
pub mod keys {
    /// Path of the GGUF loaded when no `--model` is given.
    pub const DEFAULT_MODEL: &str = "default_model";
}

impl Store {
    pub async fn get_setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let raw: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        raw.map(|v| {
            serde_json::from_str(&v)
                .map_err(|e| Error::InvalidRequest(format!("setting {key} holds unreadable JSON: {e}")))
        })
        .transpose()
    }

    pub async fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|e| Error::InvalidRequest(format!("setting {key}: {e}")))?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(json)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
