//! The remote tier: any OpenAI-compatible endpoint (`POST {base}/chat/completions`,
//! streamed), as core's [`RemoteChat`]. Its API key lives in the OS keyring (or
//! `BANTAM_REMOTE_API_KEY` on a machine without one), never in SQLite. Every wait is
//! bounded: connecting, the first response, and each gap in the stream.

use std::time::{Duration, Instant};

use bantam_core::engine::{ChatMessage, Completion, Event, FinishReason, Generation, Sampling, Timings, Usage};
use bantam_core::tiers::{BoxFuture, RemoteChat, RemoteEndpoint, RemoteError, RemoteErrorKind};
use bantam_core::Error;

use crate::sse;
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
    let keyring = |e: String| {
        Error::from(RemoteError::new(
            RemoteErrorKind::Keyring,
            format!("{e} (or set {KEY_ENV})"),
        ))
    };
    let entry = entry(endpoint).map_err(keyring)?;
    match key {
        Some(k) => entry.set_password(k).map_err(|e| keyring(e.to_string())),
        None => {
            let _ = entry.delete_credential();
            Ok(())
        }
    }
}

/// Builds the remote tier from the saved endpoint and its key in the OS keyring (core's
/// [`bantam_core::tiers::TierCache`] calls it on a blocking thread, once per settings change).
pub struct KeyringConnector;

impl bantam_core::tiers::RemoteConnector for KeyringConnector {
    fn connect(&self, endpoint: &RemoteEndpoint) -> Result<std::sync::Arc<dyn RemoteChat>, Error> {
        Ok(std::sync::Arc::new(OpenAiRemote::from_keyring(endpoint.clone())?))
    }
}

pub struct OpenAiRemote {
    client: reqwest::Client,
    endpoint: RemoteEndpoint,
    key: Option<String>,
}

/// What [`OpenAiRemote::check`] found out about an endpoint it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// `/models` lists the model (or lists nothing, and is taken at its word).
    Listed,
    /// `/models` does not list it, but a one-token request to it was answered (llama.cpp's
    /// `llama-server` lists its file's path and answers to any name).
    AnsweredUnlisted { listed: Vec<String> },
}

impl OpenAiRemote {
    pub fn new(endpoint: RemoteEndpoint, key: Option<String>) -> Result<Self, Error> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| RemoteError::new(RemoteErrorKind::Unreachable, format!("no HTTP client: {e}")))?;
        Ok(Self { client, endpoint, key })
    }

    /// With the key from the keyring (or the environment).
    pub fn from_keyring(endpoint: RemoteEndpoint) -> Result<Self, Error> {
        let key = key(&endpoint);
        Self::new(endpoint, key)
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(k) => request.bearer_auth(k),
            None => request,
        }
    }

    fn post_json(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.authorized(self.client.post(format!("{}{path}", self.endpoint.base_url)))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
    }

    /// The models the endpoint lists (to check a new endpoint and its key).
    pub async fn models(&self) -> Result<Vec<String>, Error> {
        let request = self.authorized(self.client.get(format!("{}/models", self.endpoint.base_url)));
        let response = send(request).await?;
        let bytes = response.bytes().await.map_err(|e| transport(&e))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
            RemoteError::new(
                RemoteErrorKind::Server,
                format!("GET /models is not a model list ({e})"),
            )
        })?;
        Ok(body["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(String::from)).collect())
            .unwrap_or_default())
    }

    /// Before an endpoint is saved: it answers, the key is accepted, and it serves the
    /// model — listed by `/models`, or answering a one-token request when not listed.
    pub async fn check(&self) -> Result<Checked, Error> {
        let listed = self.models().await?;
        if listed.is_empty() || listed.contains(&self.endpoint.model) {
            return Ok(Checked::Listed);
        }
        let probe = json!({
            "model": self.endpoint.model,
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 1,
        });
        match send(self.post_json("/chat/completions", &probe)).await {
            Ok(_) => Ok(Checked::AnsweredUnlisted { listed }),
            Err(Error::Remote(e)) if matches!(e.kind, RemoteErrorKind::ModelNotFound | RemoteErrorKind::Rejected) => {
                Err(RemoteError {
                    kind: RemoteErrorKind::ModelNotFound,
                    detail: format!(
                        "{} does not list {:?} (it lists {}) and refused a request to it ({}); check the model's name",
                        self.endpoint.base_url,
                        self.endpoint.model,
                        listed.join(", "),
                        e.detail
                    ),
                    ..e
                }
                .into())
            }
            Err(e) => Err(e),
        }
    }
}

/// Sends within the response timeout; an error status becomes its typed error, with the
/// endpoint's own message (OpenAI's `{"error": {"message", "code"}}` shape where it uses it).
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
    let response = tokio::time::timeout(RESPONSE_TIMEOUT, request.send())
        .await
        .map_err(|_| {
            RemoteError::new(
                RemoteErrorKind::Timeout,
                format!("no response within {} s", RESPONSE_TIMEOUT.as_secs()),
            )
        })?
        .map_err(|e| transport(&e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = response.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .or_else(|| body["error"].as_str())
        .map(String::from)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no details").to_string()
            } else {
                text.chars().take(200).collect()
            }
        });
    let code = body["error"]["code"].as_str();
    Err(RemoteError::from_status(status.as_u16(), code, message)
        .with_retry_after(retry_after)
        .into())
}

/// A request that got no HTTP answer.
fn transport(e: &reqwest::Error) -> Error {
    let (kind, detail) = if e.is_timeout() {
        (RemoteErrorKind::Timeout, "timed out".to_string())
    } else if e.is_connect() {
        (
            RemoteErrorKind::Unreachable,
            format!("cannot connect ({})", root_cause(e)),
        )
    } else {
        (RemoteErrorKind::StreamBroken, root_cause(e))
    };
    RemoteError::new(kind, detail).into()
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
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

    /// Returns once the first words came: a failure or an empty answer before then is an
    /// error, so the router answers on the next tier down instead.
    fn chat(&self, messages: Vec<ChatMessage>, sampling: Sampling) -> BoxFuture<'_, Result<Generation, Error>> {
        Box::pin(async move {
            let arrived = Instant::now();
            let request = self.post_json("/chat/completions", &body(&self.endpoint.model, &messages, &sampling));
            let response = send(request).await?;
            let mut reader = StreamReader::new(response, arrived);
            let first = match reader.next_piece().await? {
                Some(piece) => piece,
                None => {
                    return Err(RemoteError::new(RemoteErrorKind::EmptyAnswer, "").into());
                }
            };
            let (generation, events, mut cancel) = Generation::external();
            tokio::spawn(async move {
                let _ = events.send(Event::Started {
                    prompt_tokens: 0,
                    cached_tokens: 0,
                    dropped_messages: 0,
                });
                let _ = events.send(Event::Token(first));
                let end = tokio::select! {
                    end = reader.rest(&events) => end,
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

type Events = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<sse::Event, sse::SseError>> + Send>>;

/// One streamed answer being read.
struct StreamReader {
    events: Events,
    text: String,
    finish: Option<FinishReason>,
    usage: Usage,
    arrived: Instant,
    first_token: Option<Instant>,
    /// `[DONE]` came (or the stream ended after a finish reason).
    ended: bool,
}

impl StreamReader {
    fn new(response: reqwest::Response, arrived: Instant) -> Self {
        Self {
            events: Box::pin(sse::events(response)),
            text: String::new(),
            finish: None,
            usage: Usage::default(),
            arrived,
            first_token: None,
            ended: false,
        }
    }

    /// The next piece of the answer; `None` at its end. A stream that stops before the
    /// answer says it is finished (no `[DONE]`, no finish reason) is broken, not complete.
    async fn next_piece(&mut self) -> Result<Option<String>, Error> {
        use futures_util::StreamExt;
        while !self.ended {
            let event = tokio::time::timeout(STALL_TIMEOUT, self.events.next())
                .await
                .map_err(|_| {
                    RemoteError::new(
                        RemoteErrorKind::Timeout,
                        format!("the answer stalled for {} s", STALL_TIMEOUT.as_secs()),
                    )
                })?;
            let event = match event {
                None if self.finish.is_some() => {
                    self.ended = true;
                    break;
                }
                None => {
                    return Err(RemoteError::new(
                        RemoteErrorKind::StreamBroken,
                        "the stream ended before the answer did (no finish reason, no [DONE])",
                    )
                    .into())
                }
                Some(Err(sse::SseError::Transport(e))) => return Err(transport(&e)),
                Some(Err(e)) => return Err(RemoteError::new(RemoteErrorKind::StreamBroken, e.to_string()).into()),
                Some(Ok(event)) => event,
            };
            if let Some(piece) = self.read(&event.data)? {
                return Ok(Some(piece));
            }
        }
        Ok(None)
    }

    /// One event's data: the piece of answer it carries, if any.
    fn read(&mut self, data: &str) -> Result<Option<String>, Error> {
        let data = data.trim();
        if data == "[DONE]" {
            self.ended = true;
            return Ok(None);
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|e| RemoteError::new(RemoteErrorKind::StreamBroken, format!("an unreadable event ({e})")))?;
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            let message = error["message"].as_str().or(error.as_str()).unwrap_or("an error event");
            return Err(RemoteError::new(RemoteErrorKind::StreamBroken, message).into());
        }
        if let Some(u) = value.get("usage").filter(|u| u.is_object()) {
            let count = |k: &str| u[k].as_u64().unwrap_or(0) as usize;
            self.usage.prompt_tokens = count("prompt_tokens");
            self.usage.generated_tokens = count("completion_tokens");
            self.usage.cached_tokens = u["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0) as usize;
            self.usage.prefilled_tokens = self.usage.prompt_tokens.saturating_sub(self.usage.cached_tokens);
        }
        let choice = &value["choices"][0];
        match choice["finish_reason"].as_str() {
            Some("length") => self.finish = Some(FinishReason::Length),
            Some(_) => self.finish = Some(FinishReason::Stop),
            None => {}
        }
        let piece = choice["delta"]["content"].as_str().filter(|p| !p.is_empty());
        Ok(piece.map(|piece| {
            self.first_token.get_or_insert_with(Instant::now);
            self.text.push_str(piece);
            piece.to_string()
        }))
    }

    /// The rest of the answer into `events`; the whole completion at the end.
    async fn rest(mut self, events: &tokio::sync::mpsc::UnboundedSender<Event>) -> Result<Completion, Error> {
        while let Some(piece) = self.next_piece().await? {
            let _ = events.send(Event::Token(piece));
        }
        Ok(completion(
            self.text,
            self.finish.unwrap_or(FinishReason::Stop),
            self.usage,
            self.arrived,
            self.first_token,
        ))
    }
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
        logprobs: Vec::new(),
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
