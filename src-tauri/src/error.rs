//! Errors that cross into the page: serialized as the message a person reads. Each kind
//! is its own variant, so code (and tests) can tell them apart.

use serde::{Serialize, Serializer};

use crate::shell::hotkey::HotkeyError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Core(#[from] bantam_core::Error),
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    #[error(transparent)]
    Download(#[from] bantam_fetch::DownloadError),
    #[error(transparent)]
    Account(#[from] bantam_fetch::accounts::AccountError),
    #[error(transparent)]
    Hotkey(#[from] HotkeyError),
    #[error("could not change launch at login: {0}")]
    Autostart(#[from] tauri_plugin_autostart::Error),

    #[error("the model is still loading")]
    ModelLoading,
    #[error("the model is paused: resume it from the tray")]
    ModelPaused,
    #[error("the model failed to load: {0}")]
    ModelFailed(String),
    #[error("no model chosen: pick one in Settings")]
    NoModel,

    #[error("the question is empty")]
    EmptyQuestion,
    #[error("the clipboard holds no text")]
    EmptyClipboard,
    #[error("nothing to summarize")]
    NothingToSummarize,
    #[error("unknown summary length '{0}'")]
    UnknownLength(String),
    #[error("unknown priority {0:?}")]
    UnknownPriority(String),
    #[error("no mail account: add one in Settings")]
    NoMailAccount,
    #[error("name, server and user are needed")]
    IncompleteAccount,
    /// A setting out of its range; the text says which and what is allowed.
    #[error("{0}")]
    InvalidSetting(&'static str),
    #[error("that file cannot be opened: {0}")]
    Picker(String),
    #[error("a background task stopped unexpectedly: {0}")]
    Panicked(#[from] tokio::task::JoinError),
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
