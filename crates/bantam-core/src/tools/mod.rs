//! Tool (function) calling for models trained on the Hermes/Qwen format: the tools are
//! described in the system prompt, the model answers with `<tool_call>{"name", "arguments"}
//! </tool_call>` blocks, and a grammar built from each function's JSON schema makes every
//! call parse — small models otherwise produce broken ones.

mod grammar;
mod parse;
mod prompt;
mod template;
mod words;

pub use grammar::{constraint, no_calls};
pub use parse::{parse_calls, CallStream, Parsed};
pub use prompt::{render_calls, render_response, with_tools};
pub use template::{only_repeats, ChatTemplate, TemplateError, Turn, TurnRole};
pub use words::{answer_turns, is_echo, may_be_echo, needs_words};

use serde::{Deserialize, Serialize};

/// Where a call starts in the model's text; the grammar begins here.
pub const CALL_OPEN: &str = "<tool_call>";
pub const CALL_CLOSE: &str = "</tool_call>";

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON schema of the arguments object; absent means any object.
    #[serde(default = "any_object")]
    pub parameters: serde_json::Value,
}

fn any_object() -> serde_json::Value {
    serde_json::json!({"type": "object"})
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// It decides: free text, or calls after it.
    #[default]
    Auto,
    /// Text only; the tools are not shown to it.
    None,
    /// At least one call, of any tool.
    Required,
    /// One call of this function.
    Named(String),
}

/// One call the model made; `arguments` is valid under the tool's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: serde_json::Value,
}

/// What a set of tools cannot be used for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ToolError {
    #[error("tool_choice names the function '{0}', which is not among the tools")]
    UnknownTool(String),
    #[error("tool_choice is '{0}' but no tools were given")]
    NoTools(&'static str),
    #[error("two tools are named '{0}'")]
    Duplicate(String),
    #[error("tool name '{0}' must be 1-64 letters, digits, '_' or '-'")]
    BadName(String),
    #[error("the parameters of '{name}' are not a usable JSON schema: {reason}")]
    Schema { name: String, reason: String },
}

impl Tool {
    pub fn new(name: impl Into<String>, parameters: serde_json::Value) -> Self {
        Self {
            name: name.into(),
            description: None,
            parameters,
        }
    }
}

/// Checks names: OpenAI's rule, and what keeps them safe inside a grammar literal.
pub fn validate(tools: &[Tool]) -> Result<(), ToolError> {
    let mut seen = std::collections::HashSet::new();
    for t in tools {
        let ok = (1..=64).contains(&t.name.len())
            && t.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(ToolError::BadName(t.name.clone()));
        }
        if !seen.insert(t.name.as_str()) {
            return Err(ToolError::Duplicate(t.name.clone()));
        }
    }
    Ok(())
}
