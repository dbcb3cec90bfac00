//! Documents: summarize dropped files or the clipboard with progress and a streamed
//! summary over a Channel; list, search, open, delete; ask about one in chat.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bantam_core::tasks::documents::{DocumentEvent, DocumentMetadata, SummaryLength, Target};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use super::dto::{DocEvent, DocumentDetail, DocumentRow, SummarizeTarget};
use crate::error::{AppError, AppResult};
use crate::running::{Stop, Work};
use crate::service::Service;

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

fn length(s: &str) -> AppResult<SummaryLength> {
    SummaryLength::parse(s).ok_or_else(|| AppError::UnknownLength(s.to_string()))
}

/// Starts a summary; returns a run id (for `documents_cancel`) and streams on `on_event`.
#[tauri::command]
pub async fn documents_summarize(
    app: AppHandle,
    service: State<'_, Arc<Service>>,
    target: SummarizeTarget,
    length: String,
    redo: bool,
    on_event: Channel<DocEvent>,
) -> AppResult<u64> {
    let length = self::length(&length)?;
    let target = match target {
        SummarizeTarget { path: Some(p), .. } => Target::Path(p.into()),
        SummarizeTarget {
            document_id: Some(id), ..
        } => Target::Document(id),
        SummarizeTarget {
            clipboard: Some(true), ..
        } => {
            let text = app.clipboard().read_text().unwrap_or_default();
            if text.trim().is_empty() {
                return Err(AppError::EmptyClipboard);
            }
            let first: String = text.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
            Target::Text {
                name: format!("Clipboard: {first}…"),
                text,
            }
        }
        _ => return Err(AppError::NothingToSummarize),
    };
    let documents = service.documents().await?;
    let mut run = documents.summarize(target, length, redo);
    let id = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
    let stopper = run.stopper();
    let svc = Arc::clone(&service);
    let (ready, wait) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        // Tracked before the first event, so `finished` never runs ahead of `track`.
        let Ok(ticket) = wait.await else { return };
        while let Some(event) = run.next().await {
            let end = matches!(event, DocumentEvent::Done(_) | DocumentEvent::Failed(_));
            // The page already shows a summary it stopped as stopped.
            if matches!(event, DocumentEvent::Failed(bantam_core::Error::Cancelled)) {
                break;
            }
            if on_event.send(event.into()).is_err() || end {
                break;
            }
        }
        svc.running().finished(ticket);
    });
    let ticket = service
        .running()
        .track(Work::Summary { run: id }, Stop::Summary(stopper, task.abort_handle()));
    let _ = ready.send(ticket);
    Ok(id)
}

/// Stops a summary; the chunk summaries made so far are kept for the next try.
#[tauri::command]
pub async fn documents_cancel(service: State<'_, Arc<Service>>, run_id: u64) -> AppResult<bool> {
    Ok(service.running().cancel(Work::Summary { run: run_id }))
}

#[tauri::command]
pub async fn documents_list(service: State<'_, Arc<Service>>, query: Option<String>) -> AppResult<Vec<DocumentRow>> {
    let list = service.store.list_documents(query.as_deref(), 200).await?;
    Ok(list
        .into_iter()
        .map(|d| {
            let title = d
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str::<DocumentMetadata>(m).ok())
                .map(|m| m.extracted.title)
                .filter(|t| !t.is_empty());
            DocumentRow { document: d, title }
        })
        .collect())
}

#[tauri::command]
pub async fn document_get(service: State<'_, Arc<Service>>, document_id: i64) -> AppResult<DocumentDetail> {
    let document = service.store.document(document_id).await?;
    let metadata = document.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok());
    let summaries = service.store.summaries(document_id).await?;
    Ok(DocumentDetail {
        document,
        metadata,
        summaries,
    })
}

#[tauri::command]
pub async fn document_delete(service: State<'_, Arc<Service>>, document_id: i64) -> AppResult<()> {
    Ok(service.store.delete_document(document_id).await?)
}

/// A new chat about the document; returns the conversation id.
#[tauri::command]
pub async fn document_chat(service: State<'_, Arc<Service>>, document_id: i64) -> AppResult<i64> {
    Ok(service.documents().await?.start_chat(document_id).await?.id)
}
