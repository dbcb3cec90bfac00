//! Bantam's desktop shell: a thin layer over `bantam-core`. It owns the windows, the
//! tray, the global hotkey and launch at login; everything else is the core's.

pub mod commands;
pub mod error;
pub mod mail;
pub mod running;
pub mod service;
pub mod shell;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

use crate::commands::engine::StatusView;
use crate::service::Service;
use crate::shell::{autostart, hotkey, tray, windows};

/// Whether a tray icon exists; without one, closing the main window quits the app
/// (otherwise it would keep running with no way back but the hotkey).
struct TrayAvailable(AtomicBool);

pub fn quit(app: &AppHandle) {
    let service = app.state::<Arc<Service>>().inner().clone();
    service.cancel_all();
    app.exit(0);
}

pub fn run() {
    let hidden = std::env::args().any(|a| a == autostart::HIDDEN_FLAG);
    let model_override = std::env::var_os("BANTAM_MODEL").map(std::path::PathBuf::from);
    let app = tauri::Builder::default()
        // First, so a second launch never gets as far as loading anything.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            let _ = windows::show_main(app, None, None);
        }))
        .plugin(hotkey::plugin())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![autostart::HIDDEN_FLAG]),
        ))
        .invoke_handler(tauri::generate_handler![
            commands::chat::chat_send,
            commands::chat::chat_regenerate,
            commands::chat::chat_stop,
            commands::history::conversations_list,
            commands::history::conversation_messages,
            commands::history::conversations_search,
            commands::history::conversation_rename,
            commands::history::conversation_delete,
            commands::engine::engine_status,
            commands::engine::engine_pause,
            commands::engine::engine_resume,
            commands::mail::inbox_list,
            commands::mail::triage_correct,
            commands::mail::triage_now,
            commands::mail::mail_status,
            commands::mail::mail_options,
            commands::mail::mail_options_set,
            commands::mail::accounts_list,
            commands::mail::account_add,
            commands::mail::account_remove,
            commands::mail::account_test,
            commands::models::models_overview,
            commands::models::model_download,
            commands::models::download_pause,
            commands::models::download_resume,
            commands::models::download_remove,
            commands::models::model_import,
            commands::models::model_import_pick,
            commands::models::model_select,
            commands::models::model_task_set,
            commands::models::model_delete,
            commands::settings::settings_get,
            commands::settings::settings_set,
            commands::windows::open_main,
            commands::windows::popup_hide,
            commands::documents::documents_summarize,
            commands::documents::documents_cancel,
            commands::documents::documents_list,
            commands::documents::document_get,
            commands::documents::document_delete,
            commands::documents::document_chat,
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            let service = tauri::async_runtime::block_on(Service::open(None, model_override.clone()))?;
            app.manage(Arc::clone(&service));
            app.manage(hotkey::HotkeyStatus::default());
            app.manage(tray::TrayText::default());
            app.manage(Arc::new(mail::MailRunner::default()));
            let events = handle.clone();
            service.on_state(move |state| {
                let summary = state.summary(Default::default());
                tray::show_state(&events, state, &summary);
                let view = StatusView {
                    state: state.clone(),
                    active: 0,
                    queued: 0,
                    summary,
                };
                let _ = events.emit("engine-state", view);
            });
            let settings = tauri::async_runtime::block_on(service.store.app_settings())?;
            tauri::async_runtime::block_on(service.start_loading())?;
            // Downloads a quit or crash interrupted resume now; progress goes to the pages.
            let downloads = tauri::async_runtime::block_on(service.downloads())?;
            let events = handle.clone();
            let adopter = Arc::clone(&service);
            tauri::async_runtime::spawn(async move {
                let mut updates = downloads.subscribe();
                loop {
                    match updates.recv().await {
                        Ok(update) => {
                            if update.status == bantam_core::store::DownloadStatus::Done {
                                if let Err(e) = adopter.adopt_if_none(&update.file_name).await {
                                    tracing::warn!("could not load the downloaded model: {e}");
                                }
                            }
                            let _ = events.emit("download", update);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    }
                }
            });

            windows::create_popup(&handle)?;
            let tray_ok = match tray::create(&handle) {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!("no tray icon ({e}); the main window stays the way in");
                    false
                }
            };
            app.manage(TrayAvailable(AtomicBool::new(tray_ok)));
            hotkey::register_initial(&handle, settings.hotkey.as_deref());
            mail::start_schedule(handle.clone());
            if !hidden || !tray_ok {
                windows::show_main(&handle, None, None)?;
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                // The popup is never destroyed: it is what makes the hotkey instant.
                if window.label() == windows::POPUP {
                    api.prevent_close();
                    let _ = window.hide();
                } else if window.label() == windows::MAIN {
                    let has_tray = window
                        .try_state::<TrayAvailable>()
                        .is_some_and(|t| t.0.load(Ordering::Relaxed));
                    if !has_tray {
                        quit(window.app_handle());
                    }
                }
            }
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("Bantam could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| {
        // Closing the last window keeps Bantam in the tray; only Quit (code set) ends it.
        if let RunEvent::ExitRequested { code: None, api, .. } = event {
            api.prevent_exit();
        }
    });
}
