//! `POST /v1/completions`: the legacy text completion, the prompt sent as is (no chat
//! template). Several prompts are decoded together and come back as several choices.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bantam_core::engine::{Event, Request};
use futures_util::future::join_all;
use serde_json::json;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::sampling::sampling;
use crate::state::ApiState;
use crate::stream::{respond, Meta, Shape, Streaming, FINGERPRINT};
use crate::types::{finish_reason, now, response_id, CompletionRequest, Usage};

/// OpenAI's default for this endpoint.
const DEFAULT_MAX_TOKENS: u32 = 16;

pub async fn completions(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<CompletionRequest>,
) -> Result<Response, ApiError> {
    let (engine, model) = state.engine_for(req.model.as_deref()).await?;
    if req.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::param(
            "suffix",
            "suffix (fill in the middle) is not supported",
        ));
    }
    let prompts = req.prompt.clone().into_vec();
    if prompts.is_empty() {
        return Err(ApiError::param("prompt", "prompt must not be empty"));
    }
    if req.stream && prompts.len() > 1 {
        return Err(ApiError::param("prompt", "streaming takes one prompt"));
    }
    let sampling = sampling(&req.sampling, DEFAULT_MAX_TOKENS)?;
    let echo = req.echo.unwrap_or(false);
    let mut generations = Vec::with_capacity(prompts.len());
    for p in &prompts {
        generations.push(engine.submit(Request::prompt(p.clone()).with_sampling(sampling.clone()))?);
    }
    let id = response_id("cmpl", generations[0].id());
    if req.stream {
        let mut generation = generations.remove(0);
        let first = super::started(&mut generation).await?;
        let meta = Meta {
            id,
            created: now(),
            model,
        };
        let usage = req.stream_options.is_some_and(|o| o.include_usage);
        let how = Streaming {
            shape: Shape::Text,
            tools: None,
            include_usage: usage,
            prefix: echo.then(|| prompts[0].clone()),
            logprobs: sampling.logprobs.is_some(),
            retry: None,
        };
        return Ok(respond(generation, first, meta, how).into_response());
    }
    let done = join_all(generations.into_iter().map(|g| async move {
        let mut g = g;
        match super::started(&mut g).await? {
            Some(Event::Done(c)) => Ok(c),
            _ => g.collect().await.map_err(ApiError::from),
        }
    }))
    .await;
    let mut choices = Vec::new();
    let mut usage = bantam_core::engine::Usage::default();
    for (index, (result, prompt)) in done.into_iter().zip(&prompts).enumerate() {
        let c = result?;
        usage.prompt_tokens += c.usage.prompt_tokens;
        usage.cached_tokens += c.usage.cached_tokens;
        usage.generated_tokens += c.usage.generated_tokens;
        let offset = if echo { prompt.len() } else { 0 };
        let logprobs = match sampling.logprobs {
            Some(_) => crate::logprobs::legacy(&c.logprobs, offset),
            None => serde_json::Value::Null,
        };
        let text = if echo { format!("{prompt}{}", c.text) } else { c.text };
        choices.push(json!({
            "index": index,
            "text": text,
            "logprobs": logprobs,
            "finish_reason": finish_reason(c.finish_reason, false),
        }));
    }
    Ok(axum::Json(json!({
        "id": id,
        "object": "text_completion",
        "created": now(),
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": choices,
        "usage": Usage::from(&usage),
    }))
    .into_response())
}
