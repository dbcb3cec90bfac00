//! Settings: a key → JSON value table.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{now_ms, Store};
use crate::error::{Error, Result};

/// Keys used across the app.
pub mod keys {
    /// Path of the GGUF loaded when no `--model` is given.
    pub const DEFAULT_MODEL: &str = "default_model";
    /// The desktop app's preferences ([`super::AppSettings`]).
    pub const APP: &str = "app";
    /// Triage categories and rules (`tasks::triage::TriageOptions`).
    pub const TRIAGE: &str = "triage";
    /// The workhorse model and the remote endpoint (`tiers::TierSettings`).
    pub const TIERS: &str = "tiers";
}

/// Preferences of the desktop app. Stored as one JSON object; a field missing from an
/// older version takes its default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppSettings {
    /// The quick-ask shortcut, in the global-hotkey crate's syntax; `None` disables it.
    pub hotkey: Option<String>,
    /// Tokens per conversation.
    pub context_size: u32,
    /// Layers offloaded to a GPU; `None` offloads all of them (ignored on CPU builds).
    pub gpu_layers: Option<u32>,
    /// `system`, `light` or `dark`.
    #[cfg_attr(feature = "ts", ts(type = r#""system" | "light" | "dark""#))]
    pub theme: String,
    pub launch_at_login: bool,
    /// Serve the OpenAI-compatible API from the app's process (off until the user turns
    /// it on: other programs then share the loaded model).
    pub api_enabled: bool,
    /// Its port on 127.0.0.1.
    pub api_port: u16,
}

/// The API's default port (the same as `bantam serve`'s).
pub const DEFAULT_API_PORT: u16 = 8931;

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            hotkey: Some(if cfg!(target_os = "macos") {
                "Cmd+Shift+Space".into()
            } else {
                "Ctrl+Alt+Space".into()
            }),
            context_size: 4096,
            gpu_layers: None,
            theme: "system".into(),
            launch_at_login: false,
            api_enabled: false,
            api_port: DEFAULT_API_PORT,
        }
    }
}

impl Store {
    pub async fn app_settings(&self) -> Result<AppSettings> {
        Ok(self.get_setting(keys::APP).await?.unwrap_or_default())
    }

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
