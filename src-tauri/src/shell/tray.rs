//! The tray icon and its menu. On desktops without a tray host the icon may not appear;
//! the app goes on (the main window stays reachable) and the failure is only logged.

use std::sync::Arc;

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::service::{EngineState, Service};
use crate::shell::windows;

pub const TRAY_ID: &str = "bantam";

/// The menu item whose label follows the engine (Pause model / Resume model).
pub struct PauseItem(pub MenuItem<tauri::Wry>);

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

/// Follows the engine: tooltip text and the Pause/Resume label.
pub fn show_state(app: &AppHandle, state: &EngineState, summary: &str) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(summary));
    }
    if let Some(item) = app.try_state::<PauseItem>() {
        let label = match state {
            EngineState::Paused { .. } | EngineState::Error { .. } | EngineState::NoModel => "Resume model",
            _ => "Pause model",
        };
        let _ = item.0.set_text(label);
    }
}
