//! Bantam's desktop shell: a thin layer over `bantam-core`. It owns the windows, the
//! tray, the global hotkey and launch at login; everything else is the core's.

pub mod api;
pub mod ask;
pub mod chat;
pub mod documents;
pub mod engine;
pub mod error;
pub mod history;
pub mod mail;
pub mod memory;
pub mod models;
mod permissions;
pub mod running;
pub mod search;
pub mod service;
pub mod settings;
pub mod shell;
pub mod tiers;
mod types;
pub mod windows;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

use crate::engine::dto::StatusView;
use crate::service::Service;
use crate::shell::{autostart, hotkey, tray};

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
            let _ = shell::windows::show_main(app, None, None);
        }))
        .plugin(hotkey::plugin())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![autostart::HIDDEN_FLAG]),
        ))
        .invoke_handler(tauri::generate_handler![
            chat::commands::chat_send,
            chat::commands::chat_regenerate,
            chat::commands::chat_stop,
            ask::commands::ask_send,
            chat::commands::chat_tiers,
            history::commands::conversations_list,
            history::commands::conversation_messages,
            search::commands::search_everything,
            history::commands::conversation_rename,
            history::commands::conversation_delete,
            memory::commands::memory_list,
            memory::commands::memory_add,
            memory::commands::memory_edit,
            memory::commands::memory_keep,
            memory::commands::memory_delete,
            memory::commands::memory_forget_all,
            memory::commands::memory_settings,
            memory::commands::memory_settings_set,
            engine::commands::engine_status,
            engine::commands::engine_pause,
            engine::commands::engine_resume,
            mail::commands::inbox_list,
            mail::commands::triage_correct,
            mail::commands::mail_forget,
            mail::commands::triage_now,
            mail::commands::mail_status,
            mail::commands::mail_options,
            mail::commands::mail_options_set,
            mail::commands::accounts_list,
            mail::commands::account_add,
            mail::commands::account_remove,
            mail::commands::account_test,
            models::commands::models_overview,
            models::commands::model_download,
            models::commands::download_pause,
            models::commands::download_resume,
            models::commands::download_remove,
            models::commands::model_import,
            models::commands::model_import_pick,
            models::commands::model_select,
            models::commands::model_delete,
            tiers::commands::tiers_get,
            tiers::commands::tiers_workhorse_set,
            tiers::commands::tiers_task_set,
            tiers::commands::tiers_remote_set,
            tiers::commands::tiers_remote_off,
            api::commands::api_status,
            settings::commands::settings_get,
            settings::commands::settings_set,
            windows::commands::open_main,
            windows::commands::popup_hide,
            documents::commands::documents_summarize,
            documents::commands::documents_cancel,
            documents::commands::documents_list,
            documents::commands::document_get,
            documents::commands::document_delete,
            documents::commands::document_chat,
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            let service = tauri::async_runtime::block_on(Service::open(None, model_override.clone()))?;
            app.manage(Arc::clone(&service));
            app.manage(hotkey::HotkeyStatus::default());
            app.manage(tray::TrayText::default());
            app.manage(Arc::new(mail::runner::MailRunner::default()));
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
            // The API (off by default) answers as soon as the model is ready.
            let api = Arc::new(api::server::ApiServer::default());
            tauri::async_runtime::block_on(api.apply(&service, settings.api_enabled, settings.api_port));
            app.manage(api);
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

            shell::windows::create_popup(&handle)?;
            let tray_ok = match tray::create(&handle) {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!("no tray icon ({e}); the main window stays the way in");
                    false
                }
            };
            app.manage(TrayAvailable(AtomicBool::new(tray_ok)));
            hotkey::register_initial(&handle, settings.hotkey.as_deref());
            mail::runner::start_schedule(handle.clone());
            if !hidden || !tray_ok {
                shell::windows::show_main(&handle, None, None)?;
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                // The popup is never destroyed: it is what makes the hotkey instant.
                if window.label() == shell::windows::POPUP {
                    api.prevent_close();
                    let _ = window.hide();
                } else if window.label() == shell::windows::MAIN {
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
