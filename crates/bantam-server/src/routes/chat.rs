//! `POST /v1/chat/completions`: chat, streamed or not, with JSON output and tool calls
//! under the engine's grammar constraint.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bantam_core::engine::{Constraint, Event, Input, ModelInfo, Request, Sampling};
use bantam_core::tools::{self, Tool, ToolCall, ToolChoice, Turn, TurnRole};
use serde_json::{json, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::messages::{chat_messages, turns};
use crate::sampling::sampling;
use crate::state::ApiState;
use crate::stream::{respond, settle, Meta, Retry, Shape, Streaming, FINGERPRINT};
use crate::types::{finish_reason, now, response_id, ChatRequest, ResponseFormat, ToolChoiceParam, Usage};

pub async fn completions(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Response, ApiError> {
    let (engine, model) = state.engine_for(req.model.as_deref()).await?;
    let tools = tools_of(&req)?;
    let choice = choice_of(req.tool_choice.as_ref())?;
    let turns = turns(&req.messages)?;
    let sampling = sampling(&req.sampling, engine.info().context_size)?;
    let wants_logprobs = sampling.logprobs.is_some();
    let ask = Ask {
        turns: &turns,
        tools: &tools,
        choice,
        parallel: req.parallel_tool_calls.unwrap_or(true),
        format: req.response_format.as_ref(),
        sampling,
    };
    let (request, uses_tools) = build(engine.info(), ask.clone())?;
    let retry = words_instead(engine.info(), &ask)?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let mut generation = engine.submit(request)?;
    let first = super::started(&mut generation).await?;
    let meta = Meta {
        id: response_id("chatcmpl", generation.id()),
        created: now(),
        model,
    };
    if req.stream {
        let usage = req.stream_options.is_some_and(|o| o.include_usage);
        let how = Streaming {
            shape: Shape::Chat,
            tools: uses_tools.then_some(names.as_slice()),
            include_usage: usage,
            prefix: None,
            logprobs: wants_logprobs,
            retry: retry.map(|request| Retry {
                engine: engine.clone(),
                request,
                turns: turns.clone(),
            }),
        };
        return Ok(respond(generation, first, meta, how).into_response());
    }
    let completion = match first {
        Some(Event::Done(c)) => c,
        _ => generation.collect().await?,
    };
    let named = uses_tools.then_some(names.as_slice());
    let (completion, content, calls) = settle(&engine, completion, named, retry, &turns).await?;
    let mut message = json!({
        "role": "assistant",
        "content": if content.is_empty() && !calls.is_empty() { Value::Null } else { content.into() },
        "refusal": null,
    });
    if !calls.is_empty() {
        message["tool_calls"] = calls.iter().map(call_json).collect();
    }
    Ok(axum::Json(json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": if wants_logprobs { crate::logprobs::chat(&completion.logprobs) } else { Value::Null },
            "finish_reason": finish_reason(completion.finish_reason, !calls.is_empty()),
        }],
        "usage": Usage::from(&completion.usage),
    }))
    .into_response())
}

/// What a chat-like request asks for, in the engine's terms.
#[derive(Clone)]
pub(crate) struct Ask<'a> {
    pub turns: &'a [Turn],
    pub tools: &'a [Tool],
    pub choice: ToolChoice,
    pub parallel: bool,
    pub format: Option<&'a ResponseFormat>,
    pub sampling: Sampling,
}

/// The engine request for a chat (or a Responses call), and whether tools are in play.
pub(crate) fn build(info: &ModelInfo, ask: Ask<'_>) -> Result<(Request, bool), ApiError> {
    let Ask {
        turns,
        tools,
        choice,
        parallel,
        format,
        mut sampling,
    } = ask;
    if tools.is_empty() && !matches!(choice, ToolChoice::Auto | ToolChoice::None) {
        return Err(ApiError::param("tool_choice", "tool_choice needs tools"));
    }
    let uses_tools = !tools.is_empty() && choice != ToolChoice::None;
    let tool_turns = turns.iter().any(|t| t.role == TurnRole::Tool || !t.calls.is_empty());
    let constraint = if uses_tools {
        if format.is_some_and(|f| !matches!(f, ResponseFormat::Text)) {
            return Err(ApiError::param(
                "response_format",
                "response_format with tools is not supported: a tool's parameters already constrain its call",
            ));
        }
        tools::constraint(tools, &choice, parallel)?
    } else {
        format_constraint(format)?
    };
    // The call tags are control tokens in some vocabularies: they must reach the parser.
    sampling.render_special = uses_tools;
    let mut request = Request::new(input(info, turns, tools, uses_tools, tool_turns)).with_sampling(sampling);
    if let Some(c) = constraint {
        request = request.with_constraint(c);
    }
    Ok((request, uses_tools))
}

/// After tool results, the request for the answer in words, for a model that only asks
/// again for what it was just told or echoes the tools' markup (`tools::needs_words`): the
/// question with the results written out as plain text (`tools::answer_turns`), no tools
/// offered, and any call's start put back by the sampler, so an agent's loop ends. `None`
/// where no tool result came back for the last question.
pub(crate) fn words_instead(info: &ModelInfo, ask: &Ask<'_>) -> Result<Option<Request>, ApiError> {
    if ask.tools.is_empty() || ask.choice != ToolChoice::Auto {
        return Ok(None);
    }
    let Some(turns) = tools::answer_turns(ask.turns) else {
        return Ok(None);
    };
    let words = Ask {
        turns: &turns,
        tools: &[],
        choice: ToolChoice::None,
        ..ask.clone()
    };
    Ok(Some(build(info, words)?.0.with_constraint(tools::no_calls())))
}

/// The prompt: tool turns through the model's own template when it has one that writes
/// Hermes calls (what it was trained on), else the hand-written Hermes prompt.
fn input(info: &ModelInfo, turns: &[Turn], tools: &[Tool], uses_tools: bool, tool_turns: bool) -> Input {
    let offered: &[Tool] = if uses_tools { tools } else { &[] };
    if let Some(template) = info.tool_template.as_ref().filter(|_| uses_tools || tool_turns) {
        match template.render(turns, offered) {
            Ok(prompt) => return Input::Prompt(prompt),
            Err(e) => tracing::debug!("{e}; using the Hermes prompt"),
        }
    }
    let messages = chat_messages(turns);
    Input::Chat(if uses_tools {
        tools::with_tools(messages, offered)
    } else {
        messages
    })
}

/// A call as OpenAI writes it, with a fresh id and its arguments as a JSON string.
pub fn call_json(call: &ToolCall) -> Value {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "id": format!("call_{id}"),
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments.to_string()},
    })
}

fn tools_of(req: &ChatRequest) -> Result<Vec<Tool>, ApiError> {
    req.tools
        .iter()
        .flatten()
        .map(|t| {
            if t.kind != "function" {
                return Err(ApiError::param(
                    "tools",
                    format!("tools of type '{}' are not supported, only 'function'", t.kind),
                ));
            }
            Ok(Tool {
                name: t.function.name.clone(),
                description: t.function.description.clone(),
                parameters: t
                    .function
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object"})),
            })
        })
        .collect()
}

pub(crate) fn choice_of(choice: Option<&ToolChoiceParam>) -> Result<ToolChoice, ApiError> {
    Ok(match choice {
        None => ToolChoice::Auto,
        Some(ToolChoiceParam::Named { function }) => ToolChoice::Named(function.name.clone()),
        Some(ToolChoiceParam::Mode(m)) => match m.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                return Err(ApiError::param(
                    "tool_choice",
                    format!("tool_choice '{other}' is not one of auto, none, required or a named function"),
                ))
            }
        },
    })
}

pub(crate) fn format_constraint(format: Option<&ResponseFormat>) -> Result<Option<Constraint>, ApiError> {
    Ok(match format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(Constraint::JsonSchema(json!({"type": "object"}))),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema
                .schema
                .clone()
                .ok_or_else(|| ApiError::param("response_format", "response_format.json_schema.schema is missing"))?;
            Some(Constraint::JsonSchema(schema))
        }
    })
}
