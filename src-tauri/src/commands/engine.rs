//! The engine's state, pause/resume, and the models a person can pick.

use std::path::PathBuf;
use std::sync::Arc;

use bantam_core::catalog::catalog;
use bantam_core::engine::inspect_model;
use bantam_core::store::settings::keys;
use serde::Serialize;
use tauri::State;

use crate::error::AppResult;
use crate::service::{EngineState, Service};

#[derive(Serialize, Clone)]
pub struct StatusView {
    #[serde(flatten)]
    pub state: EngineState,
    pub active: usize,
    pub queued: usize,
    pub summary: String,
}

#[tauri::command]
pub async fn engine_status(service: State<'_, Arc<Service>>) -> AppResult<StatusView> {
    let state = service.state().await;
    let load = service.load().await;
    Ok(StatusView {
        summary: state.summary(load),
        state,
        active: load.active,
        queued: load.queued,
    })
}

#[tauri::command]
pub async fn engine_pause(service: State<'_, Arc<Service>>) -> AppResult<()> {
    service.pause().await;
    Ok(())
}

#[tauri::command]
pub async fn engine_resume(service: State<'_, Arc<Service>>) -> AppResult<()> {
    service.start_loading().await
}

#[derive(Serialize)]
pub struct ModelChoice {
    pub name: String,
    pub path: PathBuf,
    pub source: &'static str,
    pub selected: bool,
}

/// Models that can be picked without a download: catalogue files on disk and imported ones.
#[tauri::command]
pub async fn models_available(service: State<'_, Arc<Service>>) -> AppResult<Vec<ModelChoice>> {
    let current = service.model_path().await?;
    let dir = service.data.models_dir();
    let mut out: Vec<ModelChoice> = catalog()?
        .into_iter()
        .map(|e| (e.name.clone(), e.local_path(&dir)))
        .filter(|(_, p)| p.is_file())
        .map(|(name, path)| ModelChoice {
            selected: current.as_ref() == Some(&path),
            name,
            path,
            source: "catalogue",
        })
        .collect();
    for m in service.store.list_models().await? {
        let path = m.path();
        if out.iter().any(|c| c.path == path) {
            continue;
        }
        out.push(ModelChoice {
            selected: current.as_ref() == Some(&path),
            name: m.name.clone(),
            path,
            source: "imported",
        });
    }
    // A model given with BANTAM_MODEL is in use even if it was never imported.
    if let Some(path) = current.filter(|p| !out.iter().any(|c| &c.path == p)) {
        out.push(ModelChoice {
            name: crate::service::display_name(&path),
            path,
            source: "in use",
            selected: true,
        });
    }
    Ok(out)
}

/// Checks a GGUF file, makes it the default, and loads it.
#[tauri::command]
pub async fn model_select(service: State<'_, Arc<Service>>, path: PathBuf) -> AppResult<()> {
    let info = inspect_model(&path).await?;
    service.store.upsert_model(&path, &info).await?;
    service.store.set_setting(keys::DEFAULT_MODEL, &path).await?;
    service.start_loading().await
}
