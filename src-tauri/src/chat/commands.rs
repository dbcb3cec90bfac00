//! Chat: send, regenerate and stop; answers stream over a Tauri Channel.

use std::sync::Arc;

use bantam_core::engine::{Engine, Event};
use bantam_core::tasks::chat::{ChatOptions, ChatService, ChatTurn};
use bantam_core::tiers::{Tier, TierChoice};
use tauri::ipc::Channel;
use tauri::State;

use super::dto::{ChatEvent, SamplingOverrides};
use crate::error::AppResult;
use crate::running::{Stop, Work};
use crate::service::Service;

fn options(o: Option<SamplingOverrides>) -> ChatOptions {
    let mut options = ChatOptions::default();
    if let Some(o) = o {
        if let Some(t) = o.temperature {
            options.sampling.temperature = t;
        }
        if let Some(n) = o.max_tokens {
            options.sampling.max_tokens = n.max(1);
        }
        options.system_prompt = o.system_prompt.filter(|s| !s.trim().is_empty());
    }
    options
}

/// Starts an answer; returns the conversation id at once and streams on `on_event`.
/// `tier` is the conversation's choice (kept with it): auto, or always one tier.
#[tauri::command]
pub async fn chat_send(
    service: State<'_, Arc<Service>>,
    conversation_id: Option<i64>,
    text: String,
    sampling: Option<SamplingOverrides>,
    tier: Option<TierChoice>,
    on_event: Channel<ChatEvent>,
) -> AppResult<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Err(crate::error::AppError::EmptyQuestion);
    }
    let chat = ChatService::with_router(service.router().await?, service.store.clone());
    let mut options = options(sampling);
    options.tier = tier;
    let turn = chat.send(conversation_id, text, &options).await?;
    let proposal = turn.question_id().map(|id| Proposal {
        engine: chat.engine().clone(),
        message_id: id,
        text: text.to_string(),
    });
    if let Some(choice) = tier.filter(|c| *c != turn.conversation.tier_choice) {
        service
            .store
            .set_conversation_tier(turn.conversation.id, choice)
            .await?;
    }
    Ok(stream(Arc::clone(&service), turn, proposal, on_event).await)
}

/// Replaces the last answer of a conversation; `tier` asks another tier this once.
#[tauri::command]
pub async fn chat_regenerate(
    service: State<'_, Arc<Service>>,
    conversation_id: i64,
    sampling: Option<SamplingOverrides>,
    tier: Option<Tier>,
    on_event: Channel<ChatEvent>,
) -> AppResult<i64> {
    let chat = ChatService::with_router(service.router().await?, service.store.clone());
    let mut options = options(sampling);
    options.tier = tier.map(TierChoice::pinned);
    let turn = chat.regenerate(conversation_id, &options).await?;
    Ok(stream(Arc::clone(&service), turn, None, on_event).await)
}

/// The tiers set up (small always; workhorse and remote when `bantam tiers` added them),
/// for the re-ask buttons and the conversation's tier menu.
#[tauri::command]
pub async fn chat_tiers(service: State<'_, Arc<Service>>) -> AppResult<Vec<Tier>> {
    let settings = service.store.tier_settings().await?;
    let mut tiers = vec![Tier::Small];
    if settings.workhorse.is_some() {
        tiers.push(Tier::Workhorse);
    }
    if settings.remote.is_some() {
        tiers.push(Tier::Remote);
    }
    Ok(tiers)
}

/// Stops the answer being written in a conversation (it keeps what was written).
#[tauri::command]
pub async fn chat_stop(service: State<'_, Arc<Service>>, conversation_id: i64) -> AppResult<bool> {
    Ok(service.running().cancel(Work::Answer {
        conversation: conversation_id,
    }))
}

/// The user's message, to propose facts from once the answer is done.
struct Proposal {
    engine: Engine,
    message_id: i64,
    text: String,
}

async fn stream(
    service: Arc<Service>,
    mut turn: ChatTurn,
    proposal: Option<Proposal>,
    channel: Channel<ChatEvent>,
) -> i64 {
    let id = turn.conversation.id;
    let route = turn.decision().clone();
    let model = turn.model().to_string();
    let recalled = turn.recalled().to_vec();
    let ticket = service
        .running()
        .track(Work::Answer { conversation: id }, Stop::Answer(turn.canceller()));
    tauri::async_runtime::spawn(async move {
        while let Some(event) = turn.next().await {
            let out = match event {
                Event::Started {
                    prompt_tokens,
                    cached_tokens,
                    dropped_messages,
                } => ChatEvent::Started {
                    conversation_id: id,
                    prompt_tokens,
                    cached_tokens,
                    dropped_messages,
                    route: route.clone(),
                    model: model.clone(),
                    recalled: recalled.clone(),
                },
                Event::Token(text) => ChatEvent::Token { text },
                // The app never asks for them.
                Event::Logprobs(_) => continue,
                Event::Done(c) => ChatEvent::Done {
                    text: c.text,
                    finish_reason: c.finish_reason.as_str().into(),
                    generated_tokens: c.usage.generated_tokens,
                    tokens_per_s: c.timings.tokens_per_s,
                    time_to_first_token_ms: c.timings.time_to_first_token_ms,
                },
                Event::Failed(e) => ChatEvent::Failed { message: e.to_string() },
            };
            let done = matches!(out, ChatEvent::Done { .. });
            let last = done || matches!(out, ChatEvent::Failed { .. });
            // A closed page (window destroyed) stops the answer: nobody is reading it.
            if channel.send(out).is_err() {
                turn.canceller().cancel();
            }
            if done {
                remember(&service, proposal.as_ref(), &channel).await;
            }
            if last {
                break;
            }
        }
        service.running().finished(ticket);
    });
    id
}

/// Proposes facts from the user's message once the answer is done (the answer never
/// waits on it); a failure here is logged, never the chat's.
async fn remember(service: &Service, proposal: Option<&Proposal>, channel: &Channel<ChatEvent>) {
    let Some(p) = proposal else { return };
    match bantam_core::memory::propose_from_message(&p.engine, &service.store, p.message_id, &p.text).await {
        Ok(memories) if !memories.is_empty() => {
            let _ = channel.send(ChatEvent::Remember { memories });
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("nothing proposed for memory: {e}"),
    }
}
