//! `GET /v1/models` and `GET /v1/models/{id}`: the models on this machine, the loaded
//! one first and marked, in OpenAI's list shape.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::ApiState;

pub async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"object": "list", "data": entries(&state).await?})))
}

pub async fn one(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    entries(&state)
        .await?
        .into_iter()
        .find(|m| m["id"] == id.as_str())
        .map(Json)
        .ok_or_else(|| ApiError::model_not_found(format!("The model '{id}' does not exist here")))
}

async fn entries(state: &ApiState) -> Result<Vec<Value>, ApiError> {
    let engine = state.engine().await?;
    let loaded = state.loaded_id(&engine).await;
    let info = engine.info();
    let mut out = vec![json!({
        "id": loaded,
        "object": "model",
        "created": 0,
        "owned_by": "local",
        "loaded": true,
        "context_length": info.context_size,
        "parameters": info.parameters,
        "quantization": info.quantization,
    })];
    for m in state.local_models().await {
        if m.id != loaded {
            out.push(json!({
                "id": m.id,
                "object": "model",
                "created": 0,
                "owned_by": "local",
                "loaded": false,
                "quantization": m.quantization,
            }));
        }
    }
    Ok(out)
}
