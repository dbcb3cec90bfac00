//! The Models view: what fits this machine, downloads (queued, paused, resumed), imports,
//! switching the model in use (the tiers: `crate::tiers`).

use std::path::PathBuf;
use std::sync::Arc;

use bantam_core::engine::gpus;
use bantam_core::hardware::Hardware;
use bantam_core::models::fit::Budget;
use bantam_fetch::{DownloadUpdate, MIRROR_ENV};
use tauri::State;

use super::dto::ModelsOverview;
use crate::error::{AppError, AppResult};
use crate::service::Service;

#[tauri::command]
pub async fn models_overview(service: State<'_, Arc<Service>>) -> AppResult<ModelsOverview> {
    let settings = service.store.app_settings().await?;
    let budget = Budget {
        context_size: settings.context_size,
        parallel: crate::service::PARALLEL as u32,
        ..Budget::default()
    };
    let hardware = tokio::task::spawn_blocking(|| Hardware::detect(gpus()))
        .await
        .map_err(AppError::Panicked)?;
    let mirror = std::env::var_os(MIRROR_ENV).is_some_and(|m| !m.is_empty());
    let current = service.model_path().await?;
    let library = service.library();
    let mut models = library.listing(&hardware, &budget, mirror).await?;
    // A model given with BANTAM_MODEL is in use even if it was never imported.
    if let Some(path) = current
        .as_ref()
        .filter(|p| !models.iter().any(|m| m.path.as_ref() == Some(p)))
    {
        if library.import(path).await.is_ok() {
            models = library.listing(&hardware, &budget, mirror).await?;
        }
    }
    Ok(ModelsOverview {
        hardware,
        budget,
        models,
        downloads: service.downloads().await?.list().await?,
        current,
    })
}

/// Queues a download of a catalogue model (by id) or a GGUF URL.
#[tauri::command]
pub async fn model_download(
    service: State<'_, Arc<Service>>,
    source: String,
    sha256: Option<String>,
) -> AppResult<DownloadUpdate> {
    let sha = sha256.filter(|s| !s.trim().is_empty());
    Ok(service.downloads().await?.pull(source.trim(), sha.as_deref()).await?)
}

#[tauri::command]
pub async fn download_pause(service: State<'_, Arc<Service>>, id: i64) -> AppResult<()> {
    Ok(service.downloads().await?.pause(id).await?)
}

#[tauri::command]
pub async fn download_resume(service: State<'_, Arc<Service>>, id: i64) -> AppResult<DownloadUpdate> {
    Ok(service.downloads().await?.resume(id).await?)
}

#[tauri::command]
pub async fn download_remove(service: State<'_, Arc<Service>>, id: i64) -> AppResult<()> {
    Ok(service.downloads().await?.remove(id).await?)
}

/// Registers a GGUF file from anywhere on disk (llama.cpp must be able to load it).
#[tauri::command]
pub async fn model_import(service: State<'_, Arc<Service>>, path: PathBuf) -> AppResult<String> {
    Ok(service.library().import(&path).await?.0.name)
}

/// Makes a model the one in use: checked, saved as the default, loaded in the background
/// (answers being written get a few seconds to finish).
#[tauri::command]
pub async fn model_select(service: State<'_, Arc<Service>>, path: PathBuf) -> AppResult<()> {
    service.library().set_default(&path).await?;
    service.clear_override();
    service.start_loading().await
}

/// Deletes a downloaded catalogue model's file (never the one in use, never a file
/// outside the models folder).
#[tauri::command]
pub async fn model_delete(service: State<'_, Arc<Service>>, id: String) -> AppResult<()> {
    let in_use = service.model_path().await?;
    Ok(service.library().delete(&id, in_use.as_deref()).await?)
}

/// Opens the system's file picker for a GGUF file and imports the one chosen; `None`
/// when the picker was closed.
#[tauri::command]
pub async fn model_import_pick(app: tauri::AppHandle, service: State<'_, Arc<Service>>) -> AppResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Add a GGUF model")
        .add_filter("GGUF model", &["gguf"])
        .pick_file(move |file| {
            let _ = tx.send(file);
        });
    let Some(file) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path = file.into_path().map_err(|e| AppError::Picker(e.to_string()))?;
    model_import(service, path).await.map(Some)
}
