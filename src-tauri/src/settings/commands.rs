//! Settings: read, and save with their effects (hotkey re-registered, model reloaded).

use std::sync::Arc;

use bantam_core::store::settings::{keys, AppSettings};
use tauri::{AppHandle, Emitter, State};

use super::dto::SettingsView;
use crate::api::server::ApiServer;
use crate::error::{AppError, AppResult};
use crate::service::Service;
use crate::shell::{autostart, hotkey};

#[tauri::command]
pub async fn settings_get(app: AppHandle, service: State<'_, Arc<Service>>) -> AppResult<SettingsView> {
    Ok(SettingsView {
        settings: service.store.app_settings().await?,
        default_model: service.store.get_setting(keys::DEFAULT_MODEL).await?,
        data_dir: service.data.root().to_path_buf(),
        hotkey_error: hotkey::last_error(&app),
    })
}

/// Saves settings. A hotkey the OS refuses is an error and the old one stays.
#[tauri::command]
pub async fn settings_set(
    app: AppHandle,
    service: State<'_, Arc<Service>>,
    api: State<'_, Arc<ApiServer>>,
    settings: AppSettings,
) -> AppResult<()> {
    if !(512..=131_072).contains(&settings.context_size) {
        return Err(AppError::InvalidSetting(
            "context size must be between 512 and 131072 tokens",
        ));
    }
    if !["system", "light", "dark"].contains(&settings.theme.as_str()) {
        return Err(AppError::InvalidSetting("theme must be system, light or dark"));
    }
    if settings.api_port < 1024 {
        return Err(AppError::InvalidSetting("the API port must be between 1024 and 65535"));
    }
    let old = service.store.app_settings().await?;
    if old.hotkey != settings.hotkey {
        hotkey::replace(&app, old.hotkey.as_deref(), settings.hotkey.as_deref())?;
    }
    if old.launch_at_login != settings.launch_at_login {
        autostart::set(&app, settings.launch_at_login)?;
    }
    service.store.set_setting(keys::APP, &settings).await?;
    if old.context_size != settings.context_size || old.gpu_layers != settings.gpu_layers {
        service.start_loading().await?;
    }
    // A port that is taken is reported by api_status; the other settings stay saved.
    api.apply(&service, settings.api_enabled, settings.api_port).await;
    let _ = app.emit("settings-changed", &settings);
    Ok(())
}
