//! Server-sent events for a generation, in OpenAI's chunk format, ending in `[DONE]`.
//! The stream owns the [`Generation`]: when the client goes away the response body is
//! dropped, and with it the generation, which cancels it and frees its slot at once.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::IntoResponse;
use bantam_core::engine::{Completion, Engine, Event, Generation, Request, TokenLogprob};
use bantam_core::tools::{CallStream, Turn};
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

/// How one response streams.
pub struct Streaming<'a> {
    pub shape: Shape,
    /// The names callable: calls become `tool_calls` deltas.
    pub tools: Option<&'a [&'a str]>,
    pub include_usage: bool,
    /// Text put before the answer (`echo` of legacy completions).
    pub prefix: Option<String>,
    /// The request asked for logprobs: chunks carry those of their tokens.
    pub logprobs: bool,
    /// Asked again for words when the answer repeats answered calls or echoes markup.
    pub retry: Option<Retry>,
}

/// The request for an answer in words (`routes::chat::words_instead`), with what it needs.
pub struct Retry {
    pub engine: Engine,
    pub request: Request,
    pub turns: Vec<Turn>,
}

impl Retry {
    /// For a stream whose answer is held in `calls`: when it needs asking again for words
    /// (`tools::needs_words`), the text before any repeated calls and the answer in words,
    /// started (`slot` is emptied: it is asked once).
    pub fn start_if_needed(
        slot: &mut Option<Retry>,
        calls: Option<&CallStream>,
    ) -> Result<Option<(String, Generation)>, ApiError> {
        let (Some(calls), Some(retry)) = (calls, slot.as_ref()) else {
            return Ok(None);
        };
        let (parsed, rest) = calls.clone().finish();
        if !bantam_core::tools::needs_words(&parsed.calls, &parsed.content, &retry.turns) {
            return Ok(None);
        }
        // An echo was held back whole: none of it goes out.
        let rest = if parsed.calls.is_empty() { String::new() } else { rest };
        let Some(retry) = slot.take() else { return Ok(None) };
        Ok(Some((rest, retry.engine.submit(retry.request)?)))
    }
}

/// A whole answer's text as content and calls; when it needs asking again for words
/// (`tools::needs_words`) and there is a `retry`, the answer in words instead (both
/// generations' counts in its usage).
pub async fn settle(
    engine: &Engine,
    mut completion: Completion,
    names: Option<&[&str]>,
    retry: Option<Request>,
    turns: &[Turn],
) -> Result<(Completion, String, Vec<bantam_core::tools::ToolCall>), ApiError> {
    let Some(names) = names else {
        let text = completion.text.clone();
        return Ok((completion, text, Vec::new()));
    };
    let parsed = bantam_core::tools::parse_calls(&completion.text, names);
    match retry.filter(|_| bantam_core::tools::needs_words(&parsed.calls, &parsed.content, turns)) {
        Some(retry) => {
            let first = completion.usage.clone();
            completion = engine.submit(retry)?.collect().await?;
            completion.usage.add(&first);
            let text = completion.text.clone();
            Ok((completion, text, Vec::new()))
        }
        None => Ok((completion, parsed.content, parsed.calls)),
    }
}

struct State {
    generation: Generation,
    first: Option<Event>,
    pending: VecDeque<Sse>,
    calls: Option<CallStream>,
    meta: Meta,
    shape: Shape,
    include_usage: bool,
    prefix: Option<String>,
    logprobs: bool,
    retry: Option<Retry>,
    /// Counts of a first generation dropped for the retry.
    earlier: Option<bantam_core::engine::Usage>,
    /// Logprobs of tokens no chunk carried yet (tool-call text is held back until parsed).
    unsent: Vec<TokenLogprob>,
    /// Bytes of text sent so far (legacy logprobs' `text_offset`).
    offset: usize,
    done: bool,
}

/// The SSE response. `first` is the event the handler already took (it waited for the
/// start so a request that fails at once gets an HTTP error, not a stream).
pub fn respond(generation: Generation, first: Option<Event>, meta: Meta, how: Streaming<'_>) -> impl IntoResponse {
    let state = State {
        generation,
        first,
        pending: VecDeque::new(),
        calls: how.tools.map(CallStream::new),
        meta,
        shape: how.shape,
        include_usage: how.include_usage,
        prefix: how.prefix,
        logprobs: how.logprobs,
        retry: how.retry,
        earlier: None,
        unsent: Vec::new(),
        offset: 0,
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
                // The retry's start: the stream has begun already.
                Some(Event::Started { .. }) if s.earlier.is_some() => {}
                Some(Event::Started { .. }) => {
                    let prefix = s.prefix.take().unwrap_or_default();
                    if s.shape == Shape::Chat {
                        s.push_delta(json!({"role": "assistant", "content": prefix}), None);
                    } else if !prefix.is_empty() {
                        s.push_text(&prefix, None);
                    }
                }
                Some(Event::Logprobs(l)) => s.unsent.extend(l),
                Some(Event::Token(piece)) => {
                    let out = match s.calls.as_mut() {
                        Some(calls) => calls.push(&piece),
                        None => piece,
                    };
                    if !out.is_empty() {
                        s.push_content(&out);
                    }
                }
                Some(Event::Done(mut completion)) => {
                    match s.retry_for_words(&completion) {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(e) => {
                            s.fail(e);
                            continue;
                        }
                    }
                    if let Some(earlier) = &s.earlier {
                        completion.usage.add(earlier);
                    }
                    s.finish(&completion);
                    s.done = true;
                }
                Some(Event::Failed(e)) => s.fail(e.into()),
                None => s.done = true,
            }
        }
    });
    axum::response::Sse::new(events).keep_alive(KeepAlive::default())
}

impl State {
    fn fail(&mut self, e: ApiError) {
        self.pending.push_back(Sse::default().data(e.body().to_string()));
        self.pending.push_back(Sse::default().data("[DONE]"));
        self.done = true;
    }

    /// When the answer held back needs asking again for words: repeated calls or an echo
    /// are dropped and the answer in words streams on from the retry. Returns whether it did.
    fn retry_for_words(&mut self, completion: &Completion) -> Result<bool, ApiError> {
        let Some((rest, generation)) = Retry::start_if_needed(&mut self.retry, self.calls.as_ref())? else {
            return Ok(false);
        };
        if !rest.is_empty() {
            self.push_content(&rest);
        }
        self.calls = None;
        self.earlier = Some(completion.usage.clone());
        self.generation = generation;
        Ok(true)
    }

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

    /// The logprobs of the tokens not carried yet, in this stream's shape.
    fn take_logprobs(&mut self) -> Value {
        if !self.logprobs {
            return Value::Null;
        }
        let tokens = std::mem::take(&mut self.unsent);
        match self.shape {
            Shape::Chat => crate::logprobs::chat(&tokens),
            Shape::Text => crate::logprobs::legacy(&tokens, self.offset),
        }
    }

    fn push_delta(&mut self, delta: Value, finish: Option<&str>) {
        let logprobs = self.take_logprobs();
        let chunk = self.chunk(json!([{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]));
        self.push(chunk);
    }

    fn push_text(&mut self, text: &str, finish: Option<&str>) {
        let logprobs = self.take_logprobs();
        self.offset += text.len();
        let chunk = self.chunk(json!([{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}]));
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
