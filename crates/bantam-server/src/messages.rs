//! OpenAI's messages as the engine's: developer is system, past calls and tool results
//! are written as the model's template writes them.

use bantam_core::engine::ChatMessage;
use bantam_core::tools::{render_calls, render_response, ToolCall, Turn, TurnRole};

use crate::error::ApiError;
use crate::types::{Content, Message, MessageRole};

/// The turns as they came: for the model's own template.
pub fn turns(messages: &[Message]) -> Result<Vec<Turn>, ApiError> {
    if messages.is_empty() {
        return Err(ApiError::param("messages", "messages must not be empty"));
    }
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let text = match &m.content {
                None => String::new(),
                Some(c) => {
                    text_of(c).map_err(|e| ApiError::param("messages", format!("messages[{i}].content: {e}")))?
                }
            };
            let role = match m.role {
                MessageRole::System | MessageRole::Developer => TurnRole::System,
                MessageRole::User => TurnRole::User,
                MessageRole::Tool => TurnRole::Tool,
                MessageRole::Assistant => TurnRole::Assistant,
            };
            let calls = m
                .tool_calls
                .iter()
                .flatten()
                .map(|c| ToolCall {
                    name: c.function.name.clone(),
                    // Arguments are a JSON string; a client's broken one stays text.
                    arguments: serde_json::from_str(&c.function.arguments)
                        .unwrap_or_else(|_| serde_json::Value::String(c.function.arguments.clone())),
                })
                .collect();
            Ok(Turn {
                calls,
                ..Turn::new(role, text)
            })
        })
        .collect()
}

/// The turns as chat messages, past calls and tool results in the Hermes format.
pub fn chat_messages(turns: &[Turn]) -> Vec<ChatMessage> {
    turns
        .iter()
        .map(|t| match t.role {
            TurnRole::System => ChatMessage::system(t.content.clone()),
            TurnRole::User => ChatMessage::user(t.content.clone()),
            TurnRole::Tool => render_response(&t.content),
            TurnRole::Assistant => ChatMessage::assistant(render_calls(&t.content, &t.calls)),
        })
        .collect()
}

fn text_of(content: &Content) -> Result<String, String> {
    match content {
        Content::Text(t) => Ok(t.clone()),
        Content::Parts(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match (p.kind.as_str(), &p.text) {
                    ("text", Some(t)) => out.push(t.as_str()),
                    ("text", None) => return Err("a text part has no text".into()),
                    (other, _) => return Err(format!("'{other}' parts are not supported: the model reads text")),
                }
            }
            Ok(out.join("\n"))
        }
    }
}
