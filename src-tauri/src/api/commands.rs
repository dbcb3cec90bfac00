//! The API's state for Settings.

use std::sync::Arc;

use tauri::State;

use super::dto::ApiStatus;
use super::server::ApiServer;
use crate::error::AppResult;
use crate::service::Service;

/// Whether the API runs, where, and its token (shown with Copy).
#[tauri::command]
pub async fn api_status(service: State<'_, Arc<Service>>, api: State<'_, Arc<ApiServer>>) -> AppResult<ApiStatus> {
    Ok(api.status(&service).await)
}
