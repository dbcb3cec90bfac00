//! Memory: list, add, edit, keep, delete, forget everything, and its settings.

use std::sync::Arc;

use bantam_core::memory::{self, MemorySettings};
use bantam_core::store::{Memory, MemoryStatus};
use tauri::State;

use crate::error::AppResult;
use crate::service::Service;

/// Every fact: the proposed ones waiting for the user first, then the kept ones.
#[tauri::command]
pub async fn memory_list(service: State<'_, Arc<Service>>) -> AppResult<Vec<Memory>> {
    let mut all = service.store.memories(Some(MemoryStatus::Proposed)).await?;
    all.extend(service.store.memories(Some(MemoryStatus::Kept)).await?);
    Ok(all)
}

/// A fact the user writes themself is kept at once.
#[tauri::command]
pub async fn memory_add(service: State<'_, Arc<Service>>, text: String) -> AppResult<Memory> {
    Ok(service.store.add_memory(&text, MemoryStatus::Kept, None).await?)
}

#[tauri::command]
pub async fn memory_edit(service: State<'_, Arc<Service>>, id: i64, text: String) -> AppResult<Memory> {
    Ok(service.store.edit_memory(id, &text).await?)
}

#[tauri::command]
pub async fn memory_keep(service: State<'_, Arc<Service>>, id: i64) -> AppResult<Memory> {
    Ok(service.store.keep_memory(id).await?)
}

#[tauri::command]
pub async fn memory_delete(service: State<'_, Arc<Service>>, id: i64) -> AppResult<()> {
    Ok(service.store.delete_memory(id).await?)
}

/// Deletes every fact and compacts the file, so nothing of them is left in it.
#[tauri::command]
pub async fn memory_forget_all(service: State<'_, Arc<Service>>) -> AppResult<u64> {
    Ok(service.store.forget_all_memories().await?)
}

#[tauri::command]
pub async fn memory_settings(service: State<'_, Arc<Service>>) -> AppResult<MemorySettings> {
    Ok(memory::settings(&service.store).await?)
}

#[tauri::command]
pub async fn memory_settings_set(service: State<'_, Arc<Service>>, settings: MemorySettings) -> AppResult<()> {
    Ok(service.store.set_setting(memory::SETTINGS_KEY, &settings).await?)
}
