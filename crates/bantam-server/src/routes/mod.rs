//! One file per endpoint.

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod responses;

use bantam_core::engine::{Event, Generation};

use crate::error::ApiError;

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "Bantam serves no route {}; see /v1/models, /v1/chat/completions, /v1/completions, /v1/responses",
        uri.path()
    ))
    .with_code("unknown_url")
}

/// Waits for the generation to start (its slot taken, prompt read) so that a request the
/// engine refuses (context overflow, bad grammar) gets an HTTP error status. Returns
/// the event taken, for the stream to begin with.
pub(crate) async fn started(generation: &mut Generation) -> Result<Option<Event>, ApiError> {
    match generation.next().await {
        Some(Event::Failed(e)) => Err(e.into()),
        None => Err(ApiError::unavailable("the engine stopped")),
        other => Ok(other),
    }
}
