//! The engine's state and pause/resume.

use std::sync::Arc;

use tauri::State;

use super::dto::StatusView;
use crate::error::AppResult;
use crate::service::Service;

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
