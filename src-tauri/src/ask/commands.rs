//! Ask: answers from the user's files with citations, streamed over a Tauri Channel.

use std::sync::Arc;

use bantam_core::ask::{self, AskOptions};
use tauri::ipc::Channel;
use tauri::State;

use super::dto::{AskEvent, AskSource};
use crate::error::{AppError, AppResult};
use crate::service::Service;

/// Returns the conversation the ask is kept in (a new one when `conversation_id` is
/// `None`) at once; the answer streams on `on_event`, and both are kept there when done.
#[tauri::command]
pub async fn ask_send(
    service: State<'_, Arc<Service>>,
    conversation_id: Option<i64>,
    text: String,
    on_event: Channel<AskEvent>,
) -> AppResult<i64> {
    let question = text.trim().to_string();
    if question.is_empty() {
        return Err(AppError::EmptyQuestion);
    }
    let engine = service.engine().await?;
    let model = engine.info().name.clone();
    let id = ask::conversation_for(&service.store, &model, conversation_id, &question).await?;
    let service = Arc::clone(&service);
    tauri::async_runtime::spawn(async move {
        let event = match answer(&service, &engine, &model, id, &question, &on_event).await {
            Ok(e) => e,
            Err(e) => AskEvent::Failed { message: e.to_string() },
        };
        let _ = on_event.send(event);
    });
    Ok(id)
}

async fn answer(
    service: &Service,
    engine: &bantam_core::Engine,
    model: &str,
    conversation: i64,
    question: &str,
    channel: &Channel<AskEvent>,
) -> AppResult<AskEvent> {
    let embedder = service.embedder().await;
    if let Some(e) = &embedder {
        // New messages and documents get their vectors first (nothing to do once indexed).
        bantam_core::search::index(&service.store, e, |done, total| {
            let _ = channel.send(AskEvent::Indexing { done, total });
        })
        .await?;
    }
    let answer = ask::ask(
        &service.store,
        engine,
        embedder.as_ref(),
        question,
        &AskOptions::default(),
        |text| {
            let _ = channel.send(AskEvent::Token { text: text.to_string() });
        },
    )
    .await?;
    ask::keep(&service.store, conversation, model, question, &answer).await?;
    Ok(AskEvent::Done {
        outcome: answer.outcome,
        text: ask::as_message(&answer),
        sources: answer
            .sources
            .iter()
            .map(|s| AskSource::new(s, answer.cited.contains(&s.n)))
            .collect(),
        by_meaning: embedder.is_some(),
    })
}
