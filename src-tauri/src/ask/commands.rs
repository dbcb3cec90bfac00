//! Ask: answers from the user's files with citations, streamed over a Tauri Channel.

use std::sync::Arc;

use bantam_core::ask::{self, AskOptions, Outcome};
use bantam_core::whole_document;
use tauri::ipc::Channel;
use tauri::State;
use tokio::sync::watch;

use super::dto::{AskEvent, AskSource, WholeRead};
use crate::error::{AppError, AppResult};
use crate::running::{Stop, Work};
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
    // The chat's Stop stops an ask too: the answer's future is dropped, which cancels its
    // generation in the engine; nothing of it is kept.
    let (stop, mut stopped) = watch::channel(false);
    let ticket = service
        .running()
        .track(Work::Answer { conversation: id }, Stop::Signal(stop));
    tauri::async_runtime::spawn(async move {
        let stopped = async move {
            if stopped.wait_for(|s| *s).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let event = tokio::select! {
            result = answer(&service, &engine, &model, id, &question, &on_event) => match result {
                Ok(e) => e,
                Err(e) => AskEvent::Failed { message: e.to_string() },
            },
            () = stopped => match ask::keep_question(&service.store, id, &question).await {
                Ok(()) => AskEvent::Stopped,
                Err(e) => AskEvent::Failed { message: e.to_string() },
            },
        };
        let _ = on_event.send(event);
        service.running().finished(ticket);
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
    let indexer = service.indexer().await;
    if let Some(i) = &indexer {
        // What the background has not reached yet gets its vectors first (usually nothing).
        i.catch_up(|done, total| {
            let _ = channel.send(AskEvent::Indexing { done, total });
        })
        .await?;
    }
    let embedder = indexer.map(|i| i.embedder().clone());
    if whole_document::is_whole_document(question) {
        if let Some(doc) = whole_document::document_for(&service.store, embedder.as_ref(), question).await? {
            let read = whole_document::answer(&service.store, engine, doc, question, |done, total| {
                let _ = channel.send(AskEvent::Reading { done, total });
            })
            .await?;
            let text = whole_document::as_message(&read);
            ask::keep_text(&service.store, conversation, model, question, &text).await?;
            return Ok(AskEvent::Done {
                outcome: if read.items.is_empty() {
                    Outcome::NotInSources
                } else {
                    Outcome::Answered
                },
                text,
                sources: Vec::new(),
                by_meaning: embedder.is_some(),
                whole: Some(WholeRead {
                    document_id: read.document_id,
                    document: read.document,
                    parts: read.parts,
                    items: read.items.len(),
                }),
            });
        }
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
        whole: None,
    })
}
