//! `POST /v1/chat/completions`: chat, streamed or not, with JSON output and tool calls
//! under the engine's grammar constraint.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bantam_core::engine::{Constraint, Event, Request};
use bantam_core::tools::{self, Tool, ToolCall, ToolChoice};
use serde_json::{json, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::messages::chat_messages;
use crate::sampling::sampling;
use crate::state::ApiState;
use crate::stream::{respond, Meta, Shape, FINGERPRINT};
use crate::types::{finish_reason, now, response_id, ChatRequest, ResponseFormat, ToolChoiceParam, Usage};

pub async fn completions(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Response, ApiError> {
    let (engine, model) = state.engine_for(req.model.as_deref()).await?;
    let tools = tools_of(&req)?;
    let choice = choice_of(req.tool_choice.as_ref())?;
    if tools.is_empty() && !matches!(choice, ToolChoice::Auto | ToolChoice::None) {
        return Err(ApiError::param("tool_choice", "tool_choice needs tools"));
    }
    let uses_tools = !tools.is_empty() && choice != ToolChoice::None;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let mut messages = chat_messages(&req.messages)?;
    if uses_tools {
        messages = tools::with_tools(messages, &tools);
    }
    let constraint = if uses_tools {
        if req
            .response_format
            .as_ref()
            .is_some_and(|f| !matches!(f, ResponseFormat::Text))
        {
            return Err(ApiError::param(
                "response_format",
                "response_format with tools is not supported: a tool's parameters already constrain its call",
            ));
        }
        tools::constraint(&tools, &choice, req.parallel_tool_calls.unwrap_or(true))?
    } else {
        format_constraint(req.response_format.as_ref())?
    };
    let mut sampling = sampling(&req.sampling, engine.info().context_size)?;
    // The call tags are control tokens in some vocabularies: they must reach the parser.
    sampling.render_special = uses_tools;
    let mut request = Request::chat(messages).with_sampling(sampling);
    if let Some(c) = constraint {
        request = request.with_constraint(c);
    }
    let mut generation = engine.submit(request)?;
    let first = super::started(&mut generation).await?;
    let meta = Meta {
        id: response_id("chatcmpl", generation.id()),
        created: now(),
        model,
    };
    if req.stream {
        let usage = req.stream_options.is_some_and(|o| o.include_usage);
        let names = uses_tools.then_some(names.as_slice());
        return Ok(respond(generation, first, meta, Shape::Chat, names, usage, None).into_response());
    }
    let completion = match first {
        Some(Event::Done(c)) => c,
        _ => generation.collect().await?,
    };
    let (content, calls) = if uses_tools {
        let parsed = tools::parse_calls(&completion.text, &names);
        (parsed.content, parsed.calls)
    } else {
        (completion.text.clone(), Vec::new())
    };
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
            "logprobs": null,
            "finish_reason": finish_reason(completion.finish_reason, !calls.is_empty()),
        }],
        "usage": Usage::from(&completion.usage),
    }))
    .into_response())
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

fn choice_of(choice: Option<&ToolChoiceParam>) -> Result<ToolChoice, ApiError> {
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

fn format_constraint(format: Option<&ResponseFormat>) -> Result<Option<Constraint>, ApiError> {
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
