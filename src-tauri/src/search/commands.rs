//! The search box's command.

use std::sync::Arc;

use bantam_core::ask;
use bantam_core::search::{self, SearchOptions};
use tauri::State;

use super::dto::{FoundHit, SearchKind};
use crate::error::AppResult;
use crate::service::Service;

/// Hits shown at most.
const LIMIT: usize = 30;

/// Searches everything (or one `kind`). What is new since the last search is embedded
/// first — nothing, usually — so it is found by meaning too; without an embedding model
/// it is words alone. Hits by meaning alone count only when close.
#[tauri::command]
pub async fn search_everything(
    service: State<'_, Arc<Service>>,
    query: String,
    kind: Option<SearchKind>,
) -> AppResult<Vec<FoundHit>> {
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let indexer = service.indexer().await;
    if let Some(i) = &indexer {
        // What the background has not reached yet, now (usually nothing).
        i.catch_up(|_, _| {}).await?;
    }
    let embedder = indexer.map(|i| i.embedder().clone());
    let options = SearchOptions {
        kinds: SearchKind::kinds(kind),
        limit: LIMIT,
    };
    let hits = search::search(&service.store, embedder.as_ref(), &query, &options).await?;
    // A hit by meaning alone that is not close is noise in a list a person reads (a
    // newsletter for "budget review"): the floor `ask` uses for "nothing close".
    Ok(hits
        .iter()
        .filter(|h| h.is_close(ask::DEFAULT_MIN_COSINE))
        .map(FoundHit::from)
        .collect())
}
