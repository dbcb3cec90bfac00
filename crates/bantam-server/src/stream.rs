//! Server-sent events for a generation, in OpenAI's chunk format, ending in `[DONE]`.
//! The stream owns the [`Generation`]: when the client goes away the response body is
//! dropped, and with it the generation, which cancels it and frees its slot at once.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::IntoResponse;
use bantam_core::engine::{Completion, Event, Generation};
use bantam_core::tools::CallStream;
use futures_util::stream;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::types::{finish_reason, Usage};

/// What every chunk of one response repeats.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub created: u64,
    pub model: String,
}

pub const FINGERPRINT: &str = concat!("bantam-", env!("CARGO_PKG_VERSION"));

/// Chat chunks (`chat.completion.chunk`) or legacy completion chunks (`text_completion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Chat,
    Text,
}

struct State {
    generation: Generation,
    first: Option<Event>,
    pending: VecDeque<Sse>,
    calls: Option<CallStream>,
    meta: Meta,
    shape: Shape,
    include_usage: bool,
    /// Text put before the answer (`echo` of legacy completions).
    prefix: Option<String>,
    done: bool,
}

/// The SSE response. `first` is the event the handler already took (it waited for the
/// start so a request that fails at once gets an HTTP error, not a stream); `tools` (the
/// names callable) turns calls into `tool_calls` deltas.
pub fn respond(
    generation: Generation,
    first: Option<Event>,
    meta: Meta,
    shape: Shape,
    tools: Option<&[&str]>,
    include_usage: bool,
    prefix: Option<String>,
) -> impl IntoResponse {
    let state = State {
        generation,
        first,
        pending: VecDeque::new(),
        calls: tools.map(CallStream::new),
        meta,
        shape,
        include_usage,
        prefix,
        done: false,
    };
    let events = stream::unfold(state, |mut s| async move {
        loop {
            if let Some(e) = s.pending.pop_front() {
                return Some((Ok::<_, Infallible>(e), s));
            }
            if s.done {
                return None;
            }
            let event = match s.first.take() {
                Some(e) => Some(e),
                None => s.generation.next().await,
            };
            match event {
                Some(Event::Started { .. }) => {
                    let prefix = s.prefix.take().unwrap_or_default();
                    if s.shape == Shape::Chat {
                        s.push_delta(json!({"role": "assistant", "content": prefix}), None);
                    } else if !prefix.is_empty() {
                        s.push_text(&prefix, None);
                    }
                }
                Some(Event::Token(piece)) => {
                    let out = match s.calls.as_mut() {
                        Some(calls) => calls.push(&piece),
                        None => piece,
                    };
                    if !out.is_empty() {
                        s.push_content(&out);
                    }
                }
                Some(Event::Done(completion)) => {
                    s.finish(&completion);
                    s.done = true;
                }
                Some(Event::Failed(e)) => {
                    let body = ApiError::from(e).body();
                    s.pending.push_back(Sse::default().data(body.to_string()));
                    s.pending.push_back(Sse::default().data("[DONE]"));
                    s.done = true;
                }
                None => s.done = true,
            }
        }
    });
    axum::response::Sse::new(events).keep_alive(KeepAlive::default())
}

impl State {
    fn chunk(&self, choices: Value) -> Value {
        let object = match self.shape {
            Shape::Chat => "chat.completion.chunk",
            Shape::Text => "text_completion",
        };
        let mut chunk = json!({
            "id": self.meta.id,
            "object": object,
            "created": self.meta.created,
            "model": self.meta.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn push(&mut self, chunk: Value) {
        self.pending.push_back(Sse::default().data(chunk.to_string()));
    }

    fn push_delta(&mut self, delta: Value, finish: Option<&str>) {
        let chunk = self.chunk(json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]));
        self.push(chunk);
    }

    fn push_text(&mut self, text: &str, finish: Option<&str>) {
        let chunk = self.chunk(json!([{"index": 0, "text": text, "logprobs": null, "finish_reason": finish}]));
        self.push(chunk);
    }

    fn push_content(&mut self, text: &str) {
        match self.shape {
            Shape::Chat => self.push_delta(json!({"content": text}), None),
            Shape::Text => self.push_text(text, None),
        }
    }

    fn finish(&mut self, completion: &Completion) {
        let mut made_calls = false;
        if let Some(calls) = self.calls.take() {
            let (parsed, rest) = calls.finish();
            if !rest.is_empty() {
                self.push_content(&rest);
            }
            if !parsed.calls.is_empty() {
                made_calls = true;
                let deltas: Vec<Value> = parsed
                    .calls
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let mut v = crate::routes::chat::call_json(c);
                        v["index"] = i.into();
                        v
                    })
                    .collect();
                self.push_delta(json!({"tool_calls": deltas}), None);
            }
        }
        let finish = finish_reason(completion.finish_reason, made_calls);
        match self.shape {
            Shape::Chat => self.push_delta(json!({}), Some(finish)),
            Shape::Text => self.push_text("", Some(finish)),
        }
        if self.include_usage {
            let mut chunk = self.chunk(json!([]));
            chunk["usage"] = serde_json::to_value(Usage::from(&completion.usage)).unwrap_or(Value::Null);
            self.push(chunk);
        }
        self.pending.push_back(Sse::default().data("[DONE]"));
    }
}
