//! The tray icon and its menu. On desktops without a tray host the icon may not appear;
//! the app goes on (the main window stays reachable) and the failure is only logged.

use std::sync::{Arc, Mutex};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::engine::dto::EngineState;
use crate::service::Service;
use crate::shell::windows;

pub const TRAY_ID: &str = "bantam";

/// The menu item whose label follows the engine (Pause model / Resume model).
pub struct PauseItem(pub MenuItem<tauri::Wry>);

/// The menu item whose label shows background triage ("Triaging mail: 3 of 12").
pub struct TriageItem(pub MenuItem<tauri::Wry>);

/// The tooltip's two parts: the engine's state and, while a run goes, mail progress.
#[derive(Default)]
pub struct TrayText {
    engine: Mutex<String>,
    mail: Mutex<Option<String>>,
}

impl TrayText {
    fn tooltip(&self) -> String {
        let engine = self.engine.lock().map(|e| e.clone()).unwrap_or_default();
        match self.mail.lock().ok().and_then(|m| m.clone()) {
            Some(mail) => format!("{engine}\n{mail}"),
            None => engine,
        }
    }
}

pub fn create(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let open = MenuItem::with_id(app, "open", "Open Bantam", true, None::<&str>)?;
    let ask = MenuItem::with_id(app, "ask", "Quick ask", true, None::<&str>)?;
    let clipboard = MenuItem::with_id(app, "clipboard", "Summarize clipboard", true, None::<&str>)?;
    let triage = MenuItem::with_id(app, "triage", "Triage mail now", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause model", true, None::<&str>)?;
    let settings = MenuItem::with_id(app, "settings", "Settings", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Bantam", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &ask,
            &clipboard,
            &triage,
            &PredefinedMenuItem::separator(app)?,
            &pause,
            &settings,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    app.manage(PauseItem(pause));
    app.manage(TriageItem(triage.clone()));
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu)
        .tooltip("Bantam")
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        "open" => {
            let _ = windows::show_main(app, None, None);
        }
        "ask" => windows::toggle_popup(app),
        "clipboard" => {
            let _ = windows::show_main(app, None, Some("clipboard"));
        }
        "settings" => {
            let _ = windows::show_main(app, None, Some("settings"));
        }
        // The Inbox runs it, so progress and results are in front of the user.
        "triage" => {
            let _ = windows::show_main(app, None, Some("triage"));
        }
        "pause" => {
            let service = app.state::<Arc<Service>>().inner().clone();
            tauri::async_runtime::spawn(async move {
                match service.state().await {
                    EngineState::Paused { .. } | EngineState::Error { .. } | EngineState::NoModel => {
                        if let Err(e) = service.start_loading().await {
                            tracing::warn!("resume failed: {e}");
                        }
                    }
                    _ => service.pause().await,
                }
            });
        }
        "quit" => crate::quit(app),
        _ => {}
    }
}

fn set_tooltip(app: &AppHandle) {
    if let (Some(tray), Some(text)) = (app.tray_by_id(TRAY_ID), app.try_state::<TrayText>()) {
        // Linux tray hosts (AppIndicator) show no tooltip; the menu item carries progress.
        let _ = tray.set_tooltip(Some(text.tooltip()));
    }
}

/// Follows background triage: a second tooltip line and the menu item's label.
pub fn show_mail(app: &AppHandle, line: Option<&str>) {
    if let Some(text) = app.try_state::<TrayText>() {
        if let Ok(mut mail) = text.mail.lock() {
            *mail = line.map(str::to_string);
        }
    }
    set_tooltip(app);
    if let Some(item) = app.try_state::<TriageItem>() {
        let _ = item.0.set_text(line.unwrap_or("Triage mail now"));
    }
}

/// Follows the engine: tooltip text and the Pause/Resume label.
pub fn show_state(app: &AppHandle, state: &EngineState, summary: &str) {
    if let Some(text) = app.try_state::<TrayText>() {
        if let Ok(mut engine) = text.engine.lock() {
            *engine = summary.to_string();
        }
    }
    set_tooltip(app);
    if let Some(item) = app.try_state::<PauseItem>() {
        let label = match state {
            EngineState::Paused { .. } | EngineState::Error { .. } | EngineState::NoModel => "Resume model",
            _ => "Pause model",
        };
        let _ = item.0.set_text(label);
    }
}
