//! The global quick-ask shortcut. Registered only while enabled; a combination the OS
//! refuses (taken by another app) is remembered and shown in Settings, never a crash.

use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use crate::shell::windows;

/// Why a shortcut could not be set.
#[derive(Debug, thiserror::Error)]
pub enum HotkeyError {
    #[error("\"{text}\" is not a shortcut: {reason}")]
    Invalid { text: String, reason: String },
    #[error("{text} is taken or not allowed here ({reason})")]
    Taken { text: String, reason: String },
    #[error("the old shortcut could not be released: {0}")]
    Release(String),
}

/// Why the configured shortcut is not active, if it is not.
#[derive(Default)]
pub struct HotkeyStatus(pub Mutex<Option<String>>);

pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                windows::toggle_popup(app.app_handle());
            }
        })
        .build()
}

fn parse(s: &str) -> Result<Shortcut, HotkeyError> {
    s.parse::<Shortcut>().map_err(|e| HotkeyError::Invalid {
        text: s.to_string(),
        reason: e.to_string(),
    })
}

fn set_status(app: &AppHandle, error: Option<String>) {
    if let Some(status) = app.try_state::<HotkeyStatus>() {
        if let Ok(mut s) = status.0.lock() {
            *s = error;
        }
    }
}

pub fn last_error(app: &AppHandle) -> Option<String> {
    app.try_state::<HotkeyStatus>()
        .and_then(|s| s.0.lock().ok().and_then(|e| e.clone()))
}

/// Registers the configured shortcut at start-up; failure is recorded, not fatal.
pub fn register_initial(app: &AppHandle, hotkey: Option<&str>) {
    let Some(hotkey) = hotkey else { return };
    let result = parse(hotkey).and_then(|s| {
        app.global_shortcut().register(s).map_err(|e| HotkeyError::Taken {
            text: hotkey.to_string(),
            reason: e.to_string(),
        })
    });
    let error = result.err().map(|e| format!("{e}; pick another in Settings"));
    if let Some(e) = &error {
        tracing::warn!("{e}");
    }
    set_status(app, error);
}

/// Swaps the shortcut; on refusal the old one is registered again and the error returned.
pub fn replace(app: &AppHandle, old: Option<&str>, new: Option<&str>) -> Result<(), HotkeyError> {
    let shortcuts = app.global_shortcut();
    let new_shortcut = new.map(parse).transpose()?;
    if let Some(old) = old.and_then(|o| parse(o).ok()) {
        if shortcuts.is_registered(old) {
            shortcuts
                .unregister(old)
                .map_err(|e| HotkeyError::Release(e.to_string()))?;
        }
    }
    if let Some(s) = new_shortcut {
        if let Err(e) = shortcuts.register(s) {
            if let Some(old) = old.and_then(|o| parse(o).ok()) {
                let _ = shortcuts.register(old);
            }
            return Err(HotkeyError::Taken {
                text: new.unwrap_or_default().to_string(),
                reason: e.to_string(),
            });
        }
    }
    set_status(app, None);
    Ok(())
}
