//! Setting up the tiers from the Models view; each change is checked before it is saved.

use std::path::PathBuf;
use std::sync::Arc;

use bantam_core::tiers::{RemoteEndpoint, Task, TierChoice};
use bantam_fetch::remote::{self, OpenAiRemote};
use tauri::State;

use super::dto::TiersView;
use crate::error::AppResult;
use crate::service::Service;

async fn view(service: &Service) -> AppResult<TiersView> {
    let settings = service.store.tier_settings().await?;
    let remote_key = settings.remote.as_ref().and_then(remote::key).is_some();
    Ok(TiersView { settings, remote_key })
}

#[tauri::command]
pub async fn tiers_get(service: State<'_, Arc<Service>>) -> AppResult<TiersView> {
    view(&service).await
}

/// The workhorse (`None`: no workhorse) and how many idle minutes it stays loaded.
#[tauri::command]
pub async fn tiers_workhorse_set(
    service: State<'_, Arc<Service>>,
    path: Option<PathBuf>,
    idle_minutes: u32,
) -> AppResult<TiersView> {
    let mut settings = service.store.tier_settings().await?;
    settings.workhorse = match path {
        // Checked by llama.cpp and listed in the library, as `bantam tiers workhorse`.
        Some(p) => Some(service.library().import(&p).await?.0.path()),
        None => None,
    };
    settings.workhorse_idle_minutes = idle_minutes.max(1);
    service.store.set_tier_settings(&settings).await?;
    view(&service).await
}

/// Where one kind of work runs (documents, triage and redaction never go remote).
#[tauri::command]
pub async fn tiers_task_set(service: State<'_, Arc<Service>>, task: Task, tier: TierChoice) -> AppResult<TiersView> {
    let mut settings = service.store.tier_settings().await?;
    settings.tasks.set(task, tier)?;
    service.store.set_tier_settings(&settings).await?;
    view(&service).await
}

/// Saves the remote endpoint once it answers, accepts the key and lists the model. A
/// key given is kept in the OS keyring; none keeps the one kept for that URL (if any).
#[tauri::command]
pub async fn tiers_remote_set(
    service: State<'_, Arc<Service>>,
    base_url: String,
    model: String,
    key: Option<String>,
) -> AppResult<TiersView> {
    let endpoint = RemoteEndpoint::new(&base_url, &model)?;
    let key = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    let given = key.is_some();
    let key = key.or_else(|| remote::key(&endpoint));
    OpenAiRemote::new(endpoint.clone(), key.clone())?.check().await?;
    if given {
        remote::set_key(&endpoint, key.as_deref())?;
    }
    let mut settings = service.store.tier_settings().await?;
    if let Some(old) = settings.remote.replace(endpoint.clone()) {
        if old.base_url != endpoint.base_url {
            remote::set_key(&old, None)?;
        }
    }
    service.store.set_tier_settings(&settings).await?;
    view(&service).await
}

/// Forgets the remote endpoint and its key.
#[tauri::command]
pub async fn tiers_remote_off(service: State<'_, Arc<Service>>) -> AppResult<TiersView> {
    let mut settings = service.store.tier_settings().await?;
    if let Some(old) = settings.remote.take() {
        remote::set_key(&old, None)?;
    }
    service.store.set_tier_settings(&settings).await?;
    view(&service).await
}
