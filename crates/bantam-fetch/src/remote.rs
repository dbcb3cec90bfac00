//! The remote tier: any OpenAI-compatible endpoint (`POST {base}/chat/completions`,
//! streamed), as core's [`RemoteChat`]. Its API key lives in the OS keyring (or
//! `BANTAM_REMOTE_API_KEY` on a machine without one), never in SQLite. Every wait is
//! bounded: connecting, the first response, and each gap in the stream.

use std::time::{Duration, Instant};

use bantam_core::engine::{ChatMessage, Completion, Event, FinishReason, Generation, Sampling, Timings, Usage};
use bantam_core::tiers::{BoxFuture, RemoteChat, RemoteEndpoint};
use bantam_core::Error;
use serde_json::{json, Value};

/// For headless machines without a keyring: the remote endpoint's key.
pub const KEY_ENV: &str = "BANTAM_REMOTE_API_KEY";
const KEYRING_SERVICE: &str = "bantam";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Until the response's headers: a loaded endpoint may queue the request a while.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence inside a streamed answer.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

fn entry(endpoint: &RemoteEndpoint) -> Result<keyring::Entry, String> {
    keyring::Entry::new(KEYRING_SERVICE, &format!("remote:{}", endpoint.base_url)).map_err(|e| e.to_string())
}

/// The endpoint's key: the keyring, else `BANTAM_REMOTE_API_KEY`, else none (a local
/// server without auth).
pub fn key(endpoint: &RemoteEndpoint) -> Option<String> {
    entry(endpoint)
        .and_then(|e| e.get_password().map_err(|e| e.to_string()))
        .ok()
        .or_else(|| std::env::var(KEY_ENV).ok())
        .filter(|k| !k.is_empty())
}

/// Keeps the key in the OS keyring (`None` deletes it).
pub fn set_key(endpoint: &RemoteEndpoint, key: Option<&str>) -> Result<(), Error> {
    let entry = entry(endpoint).map_err(|e| Error::Remote(format!("the OS keyring: {e} (or set {KEY_ENV})")))?;
    match key {
        Some(k) => entry
            .set_password(k)
            .map_err(|e| Error::Remote(format!("the OS keyring: {e} (or set {KEY_ENV})"))),
        None => {
            let _ = entry.delete_credential();
            Ok(())
        }
    }
}

pub struct OpenAiRemote {
    client: reqwest::Client,
    endpoint: RemoteEndpoint,
    key: Option<String>,
}

impl OpenAiRemote {
    pub fn new(endpoint: RemoteEndpoint, key: Option<String>) -> Result<Self, Error> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| Error::Remote(e.to_string()))?;
        Ok(Self { client, endpoint, key })
    }

    /// With the key from the keyring (or the environment).
    pub fn from_keyring(endpoint: RemoteEndpoint) -> Result<Self, Error> {
        let key = key(&endpoint);
        Self::new(endpoint, key)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.post(format!("{}{path}", self.endpoint.base_url));
        match &self.key {
            Some(k) => request.bearer_auth(k),
            None => request,
        }
    }

    /// The models the endpoint lists (to check a new endpoint and its key).
    pub async fn models(&self) -> Result<Vec<String>, Error> {
        let mut request = self.client.get(format!("{}/models", self.endpoint.base_url));
        if let Some(k) = &self.key {
            request = request.bearer_auth(k);
        }
        let response = send(request).await?;
        let bytes = response.bytes().await.map_err(|e| unavailable(describe(&e)))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| unavailable(format!("GET /models: {e}")))?;
        Ok(body["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(String::from)).collect())
            .unwrap_or_default())
    }
}

fn unavailable(reason: String) -> Error {
    Error::TierUnavailable { tier: "remote", reason }
}

/// Sends within the response timeout; an error status becomes its OpenAI-shaped message.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
    let response = tokio::time::timeout(RESPONSE_TIMEOUT, request.send())
        .await
        .map_err(|_| unavailable(format!("no response within {} s", RESPONSE_TIMEOUT.as_secs())))?
        .map_err(|e| unavailable(describe(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let message = body["error"]["message"].as_str().unwrap_or("no details").to_string();
    Err(unavailable(format!("HTTP {}: {message}", status.as_u16())))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "cannot connect".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        e.to_string()
    }
}

fn body(model: &str, messages: &[ChatMessage], s: &Sampling) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": s.temperature,
        "top_p": s.top_p,
        "max_tokens": s.max_tokens,
    });
    if !s.stop.is_empty() {
        body["stop"] = json!(s.stop);
    }
    if let Some(seed) = s.seed {
        body["seed"] = json!(seed);
    }
    body
}

impl RemoteChat for OpenAiRemote {
    fn model(&self) -> String {
        let host = self
            .endpoint
            .base_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(&self.endpoint.base_url);
        format!("{} @ {host}", self.endpoint.model)
    }

    fn chat(&self, messages: Vec<ChatMessage>, sampling: Sampling) -> BoxFuture<'_, Result<Generation, Error>> {
        Box::pin(async move {
            let arrived = Instant::now();
            let request = self
                .post("/chat/completions")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body(&self.endpoint.model, &messages, &sampling).to_string());
            let response = send(request).await?;
            let (generation, events, mut cancel) = Generation::external();
            tokio::spawn(async move {
                let _ = events.send(Event::Started {
                    prompt_tokens: 0,
                    cached_tokens: 0,
                    dropped_messages: 0,
                });
                let end = tokio::select! {
                    end = read_stream(response, &events, arrived) => end,
                    _ = cancel.cancelled() => Err(Error::Cancelled),
                };
                let _ = events.send(match end {
                    Ok(done) => Event::Done(done),
                    Err(e) => Event::Failed(e),
                });
            });
            Ok(generation)
        })
    }
}

/// Reads the server-sent events into tokens; returns the whole completion.
async fn read_stream(
    mut response: reqwest::Response,
    events: &tokio::sync::mpsc::UnboundedSender<Event>,
    arrived: Instant,
) -> Result<Completion, Error> {
    let mut pending = Vec::<u8>::new();
    let mut text = String::new();
    let mut finish = FinishReason::Stop;
    let mut usage = Usage::default();
    let mut first_token: Option<Instant> = None;
    loop {
        let chunk = tokio::time::timeout(STALL_TIMEOUT, response.chunk())
            .await
            .map_err(|_| Error::Remote(format!("the answer stalled for {} s", STALL_TIMEOUT.as_secs())))?
            .map_err(|e| Error::Remote(describe(&e)))?;
        let Some(chunk) = chunk else { break };
        pending.extend_from_slice(&chunk);
        while let Some(at) = pending.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = pending.drain(..at + 2).collect();
            for line in String::from_utf8_lossy(&block).lines() {
                let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                    continue;
                };
                if data == "[DONE]" {
                    return Ok(completion(text, finish, usage, arrived, first_token));
                }
                let value: Value =
                    serde_json::from_str(data).map_err(|e| Error::Remote(format!("an unreadable event ({e})")))?;
                if let Some(message) = value["error"]["message"].as_str() {
                    return Err(Error::Remote(message.to_string()));
                }
                let choice = &value["choices"][0];
                if let Some(piece) = choice["delta"]["content"].as_str().filter(|p| !p.is_empty()) {
                    first_token.get_or_insert_with(Instant::now);
                    text.push_str(piece);
                    let _ = events.send(Event::Token(piece.to_string()));
                }
                match choice["finish_reason"].as_str() {
                    Some("length") => finish = FinishReason::Length,
                    Some(_) => finish = FinishReason::Stop,
                    None => {}
                }
                if let Some(u) = value.get("usage").filter(|u| u.is_object()) {
                    let count = |k: &str| u[k].as_u64().unwrap_or(0) as usize;
                    usage.prompt_tokens = count("prompt_tokens");
                    usage.generated_tokens = count("completion_tokens");
                    usage.cached_tokens = u["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0) as usize;
                    usage.prefilled_tokens = usage.prompt_tokens.saturating_sub(usage.cached_tokens);
                }
            }
        }
    }
    // Some servers end the stream without `[DONE]`: what came is the answer.
    Ok(completion(text, finish, usage, arrived, first_token))
}

fn completion(
    text: String,
    finish_reason: FinishReason,
    usage: Usage,
    arrived: Instant,
    first_token: Option<Instant>,
) -> Completion {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let first = first_token.unwrap_or_else(Instant::now);
    let generation_ms = ms(first.elapsed());
    Completion {
        text,
        finish_reason,
        timings: Timings {
            time_to_first_token_ms: ms(first.duration_since(arrived)),
            generation_ms,
            tokens_per_s: if generation_ms > 0.0 {
                usage.generated_tokens as f64 * 1000.0 / generation_ms
            } else {
                0.0
            },
            ..Timings::default()
        },
        usage,
        dropped_messages: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_the_messages_and_sampling() {
        let s = Sampling {
            stop: vec!["END".into()],
            seed: Some(7),
            max_tokens: 12,
            ..Sampling::default()
        };
        let b = body("m", &[ChatMessage::system("be brief"), ChatMessage::user("hi")], &s);
        assert_eq!(b["messages"][1]["role"], "user");
        assert_eq!(b["messages"][1]["content"], "hi");
        assert_eq!(b["stop"][0], "END");
        assert_eq!(b["seed"], 7);
        assert_eq!(b["max_tokens"], 12);
        assert_eq!(b["stream"], true);
    }
}
