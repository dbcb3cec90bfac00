//! The tools in the system prompt, and earlier calls and their results in the history, in
//! the format Qwen2.5's own chat template writes (Hermes): what the models were trained on.

use super::{Tool, ToolCall, CALL_CLOSE, CALL_OPEN};
use crate::engine::{ChatMessage, Role};

/// `messages` with the tools described at the end of the system prompt (one is added
/// when there is none).
pub fn with_tools(mut messages: Vec<ChatMessage>, tools: &[Tool]) -> Vec<ChatMessage> {
    if tools.is_empty() {
        return messages;
    }
    let mut text = String::from(
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
         You are provided with function signatures within <tools></tools> XML tags:\n<tools>",
    );
    for t in tools {
        let mut function = serde_json::json!({"name": t.name});
        if let Some(d) = &t.description {
            function["description"] = d.clone().into();
        }
        function["parameters"] = t.parameters.clone();
        text.push('\n');
        text.push_str(&serde_json::json!({"type": "function", "function": function}).to_string());
    }
    text.push_str(&format!(
        "\n</tools>\n\nFor each function call, return a json object with function name and arguments \
         within {CALL_OPEN}{CALL_CLOSE} XML tags:\n{CALL_OPEN}\n{{\"name\": <function-name>, \
         \"arguments\": <args-json-object>}}\n{CALL_CLOSE}"
    ));
    match messages.first_mut() {
        Some(m) if m.role == Role::System => {
            m.content = format!("{}\n\n{text}", m.content.trim_end());
        }
        _ => messages.insert(0, ChatMessage::system(text)),
    }
    messages
}

/// An assistant turn that made calls, as the model would have written it.
pub fn render_calls(content: &str, calls: &[ToolCall]) -> String {
    let mut out = content.trim_end().to_string();
    for c in calls {
        if !out.is_empty() {
            out.push('\n');
        }
        let call = serde_json::json!({"name": c.name, "arguments": c.arguments});
        out.push_str(&format!("{CALL_OPEN}\n{call}\n{CALL_CLOSE}"));
    }
    out
}

/// A tool's result, as the user turn Qwen's template makes of it.
pub fn render_response(content: &str) -> ChatMessage {
    ChatMessage::user(format!("<tool_response>\n{}\n</tool_response>", content.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_join_the_system_prompt_or_make_one() {
        let tools = [Tool::new("get_weather", serde_json::json!({"type": "object"}))];
        let added = with_tools(vec![ChatMessage::user("hi")], &tools);
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].role, Role::System);
        assert!(added[0].content.contains(r#""name":"get_weather""#));
        let joined = with_tools(vec![ChatMessage::system("Be brief."), ChatMessage::user("hi")], &tools);
        assert_eq!(joined.len(), 2);
        assert!(joined[0].content.starts_with("Be brief.\n\n# Tools"));
        assert_eq!(with_tools(vec![ChatMessage::user("hi")], &[]).len(), 1);
    }

    #[test]
    fn a_past_call_is_written_as_the_model_writes_it() {
        let call = ToolCall {
            name: "f".into(),
            arguments: serde_json::json!({"x": 1}),
        };
        assert_eq!(
            render_calls("", std::slice::from_ref(&call)),
            "<tool_call>\n{\"name\":\"f\",\"arguments\":{\"x\":1}}\n</tool_call>"
        );
        assert!(render_calls("Let me check.", &[call]).starts_with("Let me check.\n<tool_call>"));
    }
}
