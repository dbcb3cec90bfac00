//! `POST /v1/responses`: OpenAI's Responses API, which newer agents speak only — text or
//! message-item input, `instructions`, `max_output_tokens`, function tools (their calls
//! and outputs as items), JSON output through `text.format`, and streaming with the
//! Responses event types. Stateless: `previous_response_id` is refused (Bantam keeps no
//! responses), so a client sends the whole conversation as items, as with chat.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use bantam_core::engine::{Completion, Event, FinishReason, Generation, Usage};
use bantam_core::tools::{CallStream, Tool, ToolCall, ToolChoice, Turn, TurnRole};
use futures_util::stream;
use serde::Deserialize;
use serde_json::{json, Value};

use super::chat::{build, words_instead, Ask};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::sampling::sampling;
use crate::state::ApiState;
use crate::stream::{settle, Retry};
use crate::types::{now, response_id, JsonSchemaFormat, ResponseFormat, SamplingParams};

#[derive(Debug, Clone, Deserialize)]
pub struct ResponsesRequest {
    pub model: Option<String>,
    pub input: Input,
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub seed: Option<i64>,
    #[serde(default)]
    pub stream: bool,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    pub text: Option<TextConfig>,
    pub previous_response_id: Option<String>,
}

/// A string (one user message) or a list of items.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<Value>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct TextConfig {
    pub format: Option<TextFormat>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextFormat {
    Text,
    JsonObject,
    JsonSchema { schema: Option<Value> },
}

pub async fn create(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<ResponsesRequest>,
) -> Result<Response, ApiError> {
    if req.previous_response_id.is_some() {
        return Err(ApiError::param(
            "previous_response_id",
            "Bantam keeps no responses: send the conversation as input items",
        ));
    }
    let (engine, model) = state.engine_for(req.model.as_deref()).await?;
    let turns = turns_of(&req)?;
    let tools = tools_of(req.tools.as_deref().unwrap_or_default())?;
    let choice = choice_of(req.tool_choice.as_ref())?;
    let format = match req.text.as_ref().and_then(|t| t.format.clone()) {
        None | Some(TextFormat::Text) => None,
        Some(TextFormat::JsonObject) => Some(ResponseFormat::JsonObject),
        Some(TextFormat::JsonSchema { schema }) => Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat { schema },
        }),
    };
    let params = SamplingParams {
        max_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        seed: req.seed,
        ..SamplingParams::default()
    };
    let sampling = sampling(&params, engine.info().context_size).map_err(|e| match e.param.as_deref() {
        Some("max_tokens") => e.with_param("max_output_tokens"),
        _ => e,
    })?;
    let ask = Ask {
        turns: &turns,
        tools: &tools,
        choice,
        parallel: req.parallel_tool_calls.unwrap_or(true),
        format: format.as_ref(),
        sampling,
    };
    let (request, uses_tools) = build(engine.info(), ask.clone()).map_err(|e| match e.param.as_deref() {
        Some("response_format") => e.with_param("text.format"),
        _ => e,
    })?;
    let retry = words_instead(engine.info(), &ask)?;
    let mut generation = engine.submit(request)?;
    let first = super::started(&mut generation).await?;
    let names: Vec<String> = if uses_tools {
        tools.iter().map(|t| t.name.clone()).collect()
    } else {
        Vec::new()
    };
    let shell = Shell {
        id: response_id("resp", generation.id()),
        created_at: now(),
        model,
        req,
    };
    if shell.req.stream {
        let retry = retry.map(|request| Retry {
            engine: engine.clone(),
            request,
            turns: turns.clone(),
        });
        return Ok(stream_events(generation, first, shell, names, retry).into_response());
    }
    let completion = match first {
        Some(Event::Done(c)) => c,
        _ => generation.collect().await?,
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let named = uses_tools.then_some(names.as_slice());
    let (completion, content, calls) = settle(&engine, completion, named, retry, &turns).await?;
    let mut output = Vec::new();
    if !content.trim().is_empty() || calls.is_empty() {
        output.push(message_item(&item_id("msg"), &content, "completed"));
    }
    output.extend(calls.iter().map(|c| call_item(c, "completed")));
    Ok(axum::Json(shell.response(status_of(&completion), output, Some(&completion.usage))).into_response())
}

/// What every response object repeats.
struct Shell {
    id: String,
    created_at: u64,
    model: String,
    req: ResponsesRequest,
}

impl Shell {
    fn response(&self, status: &str, output: Vec<Value>, usage: Option<&Usage>) -> Value {
        let r = &self.req;
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": null,
            "incomplete_details": if status == "incomplete" { json!({"reason": "max_output_tokens"}) } else { Value::Null },
            "instructions": r.instructions,
            "max_output_tokens": r.max_output_tokens,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": r.parallel_tool_calls.unwrap_or(true),
            "previous_response_id": null,
            "temperature": r.temperature,
            "top_p": r.top_p,
            "tool_choice": r.tool_choice.clone().unwrap_or_else(|| json!("auto")),
            "tools": r.tools.clone().unwrap_or_default(),
            "text": {"format": r.text.as_ref().and_then(|t| t.format.as_ref()).map_or(json!({"type": "text"}), format_json)},
            "truncation": "disabled",
            "store": false,
            "metadata": {},
            "usage": usage.map(usage_json),
        })
    }
}

fn format_json(f: &TextFormat) -> Value {
    match f {
        TextFormat::Text => json!({"type": "text"}),
        TextFormat::JsonObject => json!({"type": "json_object"}),
        TextFormat::JsonSchema { schema } => json!({"type": "json_schema", "schema": schema}),
    }
}

fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_tokens},
        "output_tokens": u.generated_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u.prompt_tokens + u.generated_tokens,
    })
}

fn status_of(c: &Completion) -> &'static str {
    match c.finish_reason {
        FinishReason::Length => "incomplete",
        _ => "completed",
    }
}

fn item_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

fn call_item(call: &ToolCall, status: &str) -> Value {
    json!({
        "type": "function_call",
        "id": item_id("fc"),
        "call_id": item_id("call"),
        "name": call.name,
        "arguments": call.arguments.to_string(),
        "status": status,
    })
}

/// Input items as turns: `instructions` first, messages by role, `function_call` items
/// as the assistant's calls, `function_call_output` items as tool results.
fn turns_of(req: &ResponsesRequest) -> Result<Vec<Turn>, ApiError> {
    let mut turns: Vec<Turn> = req
        .instructions
        .iter()
        .filter(|i| !i.trim().is_empty())
        .map(|i| Turn::new(TurnRole::System, i.clone()))
        .collect();
    let items = match &req.input {
        Input::Text(text) => {
            turns.push(Turn::new(TurnRole::User, text.clone()));
            return Ok(turns);
        }
        Input::Items(items) => items,
    };
    if items.is_empty() {
        return Err(ApiError::param("input", "input must not be empty"));
    }
    for (i, item) in items.iter().enumerate() {
        let bad = |why: String| ApiError::param("input", format!("input[{i}]: {why}"));
        let kind = item["type"].as_str().unwrap_or("message");
        match kind {
            "message" => {
                let role = match item["role"].as_str() {
                    Some("user") => TurnRole::User,
                    Some("assistant") => TurnRole::Assistant,
                    Some("system" | "developer") => TurnRole::System,
                    other => {
                        return Err(bad(format!(
                            "role {other:?} is not user, assistant, system or developer"
                        )))
                    }
                };
                let text = text_of(&item["content"]).map_err(bad)?;
                turns.push(Turn::new(role, text));
            }
            "function_call" => {
                let name = item["name"]
                    .as_str()
                    .ok_or_else(|| bad("a function_call needs a name".into()))?;
                let arguments = item["arguments"].as_str().unwrap_or("{}");
                let call = ToolCall {
                    name: name.to_string(),
                    arguments: serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.into())),
                };
                // Calls made together are one assistant turn (after its words, if any).
                match turns.last_mut() {
                    Some(t) if t.role == TurnRole::Assistant => t.calls.push(call),
                    _ => turns.push(Turn {
                        calls: vec![call],
                        ..Turn::new(TurnRole::Assistant, "")
                    }),
                }
            }
            "function_call_output" => {
                let output = match &item["output"] {
                    Value::String(s) => s.clone(),
                    other => text_of(other).map_err(bad)?,
                };
                turns.push(Turn {
                    call_id: item["call_id"].as_str().map(String::from),
                    ..Turn::new(TurnRole::Tool, output)
                });
            }
            other => return Err(bad(format!("items of type '{other}' are not supported"))),
        }
    }
    Ok(turns)
}

/// A message's content: a string, or parts of which only text ones can be read.
fn text_of(content: &Value) -> Result<String, String> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match (p["type"].as_str(), p["text"].as_str()) {
                    (Some("input_text" | "output_text" | "text"), Some(t)) => out.push(t),
                    (kind, _) => {
                        return Err(format!(
                            "content parts of type {} are not supported: the model reads text",
                            kind.unwrap_or("(none)")
                        ))
                    }
                }
            }
            Ok(out.join("\n"))
        }
        _ => Err("content must be a string or a list of text parts".into()),
    }
}

/// Responses tools are flat (`{"type": "function", "name", "parameters"}`); only
/// functions run here.
fn tools_of(tools: &[Value]) -> Result<Vec<Tool>, ApiError> {
    tools
        .iter()
        .map(|t| {
            let kind = t["type"].as_str().unwrap_or_default();
            if kind != "function" {
                return Err(ApiError::param(
                    "tools",
                    format!("tools of type '{kind}' are not supported, only 'function'"),
                ));
            }
            let name = t["name"]
                .as_str()
                .ok_or_else(|| ApiError::param("tools", "a function tool needs a name"))?;
            Ok(Tool {
                name: name.to_string(),
                description: t["description"].as_str().map(String::from),
                parameters: match &t["parameters"] {
                    Value::Null => json!({"type": "object"}),
                    p => p.clone(),
                },
            })
        })
        .collect()
}

fn choice_of(choice: Option<&Value>) -> Result<ToolChoice, ApiError> {
    Ok(match choice {
        None => ToolChoice::Auto,
        Some(Value::String(mode)) => match mode.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                return Err(ApiError::param(
                    "tool_choice",
                    format!("tool_choice '{other}' is not one of auto, none, required or a function"),
                ))
            }
        },
        Some(v) if v["type"] == "function" => match v["name"].as_str() {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => return Err(ApiError::param("tool_choice", "a function tool_choice needs a name")),
        },
        Some(_) => {
            return Err(ApiError::param(
                "tool_choice",
                "tool_choice must be a mode or a function",
            ))
        }
    })
}

/// The streamed response: the Responses event types, each with its `sequence_number`.
struct Streamed {
    generation: Generation,
    first: Option<Event>,
    shell: Shell,
    calls: Option<CallStream>,
    pending: VecDeque<Sse>,
    sequence: u64,
    /// The message item, once the first words came: its id and text so far.
    message: Option<(String, String)>,
    retry: Option<Retry>,
    /// Counts of a first generation whose calls were dropped as repeats.
    earlier: Option<Usage>,
    done: bool,
}

fn stream_events(
    generation: Generation,
    first: Option<Event>,
    shell: Shell,
    names: Vec<String>,
    retry: Option<Retry>,
) -> impl IntoResponse {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut s = Streamed {
        generation,
        first,
        calls: (!names.is_empty()).then(|| CallStream::new(&names)),
        shell,
        pending: VecDeque::new(),
        sequence: 0,
        message: None,
        retry,
        earlier: None,
        done: false,
    };
    let skeleton = s.shell.response("in_progress", Vec::new(), None);
    s.push("response.created", json!({"response": skeleton.clone()}));
    s.push("response.in_progress", json!({"response": skeleton}));
    let events = stream::unfold(s, |mut s| async move {
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
                Some(Event::Started { .. } | Event::Logprobs(_)) => {}
                Some(Event::Token(piece)) => {
                    let out = match s.calls.as_mut() {
                        Some(calls) => calls.push(&piece),
                        None => piece,
                    };
                    s.text(&out);
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

impl Streamed {
    fn fail(&mut self, e: ApiError) {
        let body = e.body();
        let error = &body["error"];
        self.push(
            "error",
            json!({"code": error["code"], "message": error["message"], "param": error["param"]}),
        );
        self.done = true;
    }

    /// Repeated calls or an echo of markup are dropped for the answer in words.
    fn retry_for_words(&mut self, completion: &Completion) -> Result<bool, ApiError> {
        let Some((rest, generation)) = Retry::start_if_needed(&mut self.retry, self.calls.as_ref())? else {
            return Ok(false);
        };
        self.text(&rest);
        self.calls = None;
        self.earlier = Some(completion.usage.clone());
        self.generation = generation;
        Ok(true)
    }

    fn push(&mut self, kind: &str, mut data: Value) {
        data["type"] = kind.into();
        data["sequence_number"] = self.sequence.into();
        self.sequence += 1;
        self.pending
            .push_back(Sse::default().event(kind).data(data.to_string()));
    }

    /// The message item, announced (once).
    fn open_message(&mut self) {
        if self.message.is_none() {
            let id = item_id("msg");
            let item =
                json!({"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []});
            self.push("response.output_item.added", json!({"output_index": 0, "item": item}));
            self.push(
                "response.content_part.added",
                json!({"item_id": id, "output_index": 0, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
            self.message = Some((id, String::new()));
        }
    }

    /// Words of the answer: the message item opens with the first of them.
    fn text(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.open_message();
        if let Some((id, text)) = self.message.as_mut() {
            text.push_str(delta);
            let id = id.clone();
            self.push(
                "response.output_text.delta",
                json!({"item_id": id, "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
            );
        }
    }

    fn finish(&mut self, completion: &Completion) {
        let mut calls = Vec::new();
        if let Some(stream) = self.calls.take() {
            let (parsed, rest) = stream.finish();
            self.text(&rest);
            calls = parsed.calls;
        }
        let mut output = Vec::new();
        if calls.is_empty() {
            // An empty answer is still a message, as OpenAI sends one.
            self.open_message();
        }
        if let Some((id, text)) = self.message.take() {
            let part = json!({"type": "output_text", "text": text, "annotations": []});
            self.push(
                "response.output_text.done",
                json!({"item_id": id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
            );
            self.push(
                "response.content_part.done",
                json!({"item_id": id, "output_index": 0, "content_index": 0, "part": part}),
            );
            let item = message_item(&id, &text, "completed");
            self.push(
                "response.output_item.done",
                json!({"output_index": 0, "item": item.clone()}),
            );
            output.push(item);
        }
        for call in &calls {
            let index = output.len();
            let item = call_item(call, "completed");
            let mut added = item.clone();
            added["arguments"] = "".into();
            added["status"] = "in_progress".into();
            self.push(
                "response.output_item.added",
                json!({"output_index": index, "item": added}),
            );
            self.push(
                "response.function_call_arguments.delta",
                json!({"item_id": item["id"], "output_index": index, "delta": item["arguments"]}),
            );
            self.push(
                "response.function_call_arguments.done",
                json!({"item_id": item["id"], "output_index": index, "arguments": item["arguments"]}),
            );
            self.push(
                "response.output_item.done",
                json!({"output_index": index, "item": item.clone()}),
            );
            output.push(item);
        }
        let status = status_of(completion);
        let response = self.shell.response(status, output, Some(&completion.usage));
        let kind = if status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.push(kind, json!({"response": response}));
    }
}
