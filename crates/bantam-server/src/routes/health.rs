//! `GET /health`: whether a model is loaded and how busy its slots are (as llama-server's
//! `/health` and `/slots`), for monitors and for tests that a cancelled request freed its
//! slot.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::ApiState;

pub async fn health(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let engine = state.engine().await?;
    let load = engine.load();
    Ok(Json(json!({
        "status": "ok",
        "model": state.loaded_id(&engine).await,
        "slots": {"total": engine.info().parallel, "active": load.active, "queued": load.queued},
    })))
}
