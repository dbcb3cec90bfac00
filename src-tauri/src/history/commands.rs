//! Conversations: list, open, search, rename, delete.

use std::sync::Arc;

use bantam_core::store::{Conversation, StoredMessage};
use tauri::State;

use crate::error::AppResult;
use crate::running::Work;
use crate::service::Service;

#[tauri::command]
pub async fn conversations_list(service: State<'_, Arc<Service>>) -> AppResult<Vec<Conversation>> {
    Ok(service.store.list_conversations(200).await?)
}

#[tauri::command]
pub async fn conversation_messages(
    service: State<'_, Arc<Service>>,
    conversation_id: i64,
) -> AppResult<Vec<StoredMessage>> {
    service.store.conversation(conversation_id).await?;
    Ok(service.store.messages(conversation_id).await?)
}

#[tauri::command]
pub async fn conversation_rename(
    service: State<'_, Arc<Service>>,
    conversation_id: i64,
    title: String,
) -> AppResult<()> {
    Ok(service.store.rename_conversation(conversation_id, title.trim()).await?)
}

#[tauri::command]
pub async fn conversation_delete(service: State<'_, Arc<Service>>, conversation_id: i64) -> AppResult<()> {
    service.running().cancel(Work::Answer {
        conversation: conversation_id,
    });
    Ok(service.store.delete_conversation(conversation_id).await?)
}
