//! Tools and tool turns through the model's own chat template: the Jinja text in the GGUF,
//! rendered with minijinja the way Hugging Face's transformers renders it (its `tojson`
//! spacing, Python string methods, `raise_exception`). What the model was trained on,
//! byte for byte — its default system prompt, the tools' JSON as it saw it, several tool
//! results in one turn — where the hand-written Hermes prompt ([`super::with_tools`]) only
//! comes close. Used for templates whose calls are Hermes `<tool_call>` blocks (the
//! grammar and parser speak that format); anything else keeps the Hermes prompt.

use minijinja::{context, Environment, Error as JinjaError, ErrorKind, Value};
use serde::Serialize;
use serde_json::Value as Json;

use super::{Tool, ToolCall, CALL_OPEN};

/// A model's own template, when it is one that writes Hermes tool calls.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTemplate {
    source: String,
    bos_token: String,
    eos_token: String,
}

/// Who speaks in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnRole {
    System,
    User,
    Assistant,
    Tool,
}

/// One turn of a conversation with tools, as OpenAI's API carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub role: TurnRole,
    pub content: String,
    /// An assistant turn's calls.
    pub calls: Vec<ToolCall>,
    /// A tool turn: which call it answers.
    pub call_id: Option<String>,
}

/// Whether every one of `calls` was already made and answered in `turns` (same function,
/// same arguments, a tool result after it): a small model that was just given the result
/// asks for it again — Qwen2.5-Coder 1.5B does, forever — instead of answering.
pub fn only_repeats(calls: &[ToolCall], turns: &[Turn]) -> bool {
    let answered: Vec<&ToolCall> = turns
        .iter()
        .enumerate()
        .filter(|(i, t)| t.role == TurnRole::Assistant && turns[i + 1..].iter().any(|l| l.role == TurnRole::Tool))
        .flat_map(|(_, t)| &t.calls)
        .collect();
    !calls.is_empty() && calls.iter().all(|c| answered.contains(&c))
}

impl Turn {
    pub fn new(role: TurnRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            calls: Vec::new(),
            call_id: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the model's chat template could not render this conversation: {0}")]
pub struct TemplateError(String);

impl ChatTemplate {
    /// The template, if it renders tools and its calls are `<tool_call>` blocks.
    pub fn hermes(source: &str, bos_token: &str, eos_token: &str) -> Option<Self> {
        (source.contains("tools") && source.contains(CALL_OPEN)).then(|| Self {
            source: source.to_string(),
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// The prompt for `turns`, ending where the assistant's answer begins. `tools` empty:
    /// rendered without tools (past calls and results still in the model's format).
    pub fn render(&self, turns: &[Turn], tools: &[Tool]) -> Result<String, TemplateError> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function("raise_exception", |message: String| -> Result<Value, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, message))
        });
        let messages: Vec<Json> = turns.iter().map(turn_json).collect();
        let tools: Vec<Json> = tools.iter().map(tool_json).collect();
        let tools = if tools.is_empty() {
            Value::from(())
        } else {
            Value::from_serialize(&tools)
        };
        env.render_str(
            &self.source,
            context! {
                messages => Value::from_serialize(&messages),
                tools => tools,
                add_generation_prompt => true,
                bos_token => &self.bos_token,
                eos_token => &self.eos_token,
            },
        )
        .map_err(|e| TemplateError(e.to_string()))
    }
}

fn turn_json(t: &Turn) -> Json {
    let mut m = serde_json::json!({"role": t.role, "content": t.content});
    if !t.calls.is_empty() {
        m["tool_calls"] = t
            .calls
            .iter()
            .map(|c| serde_json::json!({"type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
    }
    if let Some(id) = &t.call_id {
        m["tool_call_id"] = id.clone().into();
    }
    m
}

fn tool_json(t: &Tool) -> Json {
    let mut function = serde_json::json!({"name": t.name});
    if let Some(d) = &t.description {
        function["description"] = d.clone().into();
    }
    function["parameters"] = t.parameters.clone();
    serde_json::json!({"type": "function", "function": function})
}

/// Python's `json.dumps(value, ensure_ascii=False)`, as transformers' `tojson` writes it:
/// `", "` and `": "` between items, non-ASCII as is.
fn tojson(value: Value) -> Result<Value, JinjaError> {
    let json = serde_json::to_value(&value).map_err(|e| JinjaError::new(ErrorKind::BadSerialization, e.to_string()))?;
    let mut out = String::new();
    python_json(&json, &mut out);
    Ok(Value::from_safe_string(out))
}

fn python_json(v: &Json, out: &mut String) {
    match v {
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push_str(": ");
                python_json(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tool part of Qwen2.5's own template (from its GGUF), enough to pin the format.
    const QWEN: &str = r#"{%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}{{- "\n\n# Tools\n\n<tools>" }}{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{{- "\n</tools><|im_end|>\n" }}{%- endif %}{%- for message in messages %}{%- if (message.role == "user") or (message.role == "assistant" and not message.tool_calls) %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- elif message.role == "assistant" %}{{- '<|im_start|>' + message.role }}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}{{- '\n<tool_call>\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\n</tool_call>' }}{%- endfor %}{{- '<|im_end|>\n' }}{%- elif message.role == "tool" %}{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}{{- '\n<tool_response>\n' }}{{- message.content }}{{- '\n</tool_response>' }}{%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\n' }}{%- endif %}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"#;

    #[test]
    fn a_tool_round_renders_as_the_models_own_template_writes_it() {
        let template = ChatTemplate::hermes(QWEN, "", "<|im_end|>").expect("a Hermes template");
        let tools = [Tool::new(
            "get_weather",
            serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )];
        let call = ToolCall {
            name: "get_weather".into(),
            arguments: serde_json::json!({"city": "Zürich"}),
        };
        let turns = [
            Turn::new(TurnRole::User, "Weather in Zürich and Oslo?"),
            Turn {
                calls: vec![call.clone(), call],
                ..Turn::new(TurnRole::Assistant, "")
            },
            Turn::new(TurnRole::Tool, r#"{"c": 3}"#),
            Turn::new(TurnRole::Tool, r#"{"c": -2}"#),
        ];
        let prompt = template.render(&turns, &tools).unwrap();
        assert!(prompt.starts_with(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools"
        ));
        // The tools' JSON as Python writes it, non-ASCII kept.
        assert!(prompt.contains(
            r#"{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}"#
        ), "{prompt}");
        assert!(prompt
            .contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>"));
        // Both results in one user turn.
        assert!(prompt.contains(
            "<|im_start|>user\n<tool_response>\n{\"c\": 3}\n</tool_response>\n<tool_response>\n{\"c\": -2}\n</tool_response><|im_end|>\n"
        ), "{prompt}");
        assert!(prompt.ends_with("<|im_start|>assistant\n"));
        // Without tools: no tools section, the turns as before.
        let plain = template.render(&turns[..1], &[]).unwrap();
        assert_eq!(
            plain,
            "<|im_start|>user\nWeather in Zürich and Oslo?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn a_call_answered_already_is_a_repeat() {
        let call = |city: &str| ToolCall {
            name: "get_weather".into(),
            arguments: serde_json::json!({"city": city}),
        };
        let turns = [
            Turn::new(TurnRole::User, "Paris?"),
            Turn {
                calls: vec![call("Paris")],
                ..Turn::new(TurnRole::Assistant, "")
            },
            Turn::new(TurnRole::Tool, "18"),
        ];
        assert!(only_repeats(&[call("Paris")], &turns));
        assert!(
            !only_repeats(&[call("Paris"), call("Oslo")], &turns),
            "a new call goes through"
        );
        assert!(!only_repeats(&[], &turns));
        // Made but not answered yet: not a repeat.
        assert!(!only_repeats(&[call("Paris")], &turns[..2]));
    }

    #[test]
    fn templates_that_do_not_write_hermes_calls_are_not_used() {
        assert!(ChatTemplate::hermes("{{ messages }}", "", "").is_none());
        assert!(ChatTemplate::hermes("{% if tools %}{{ tools }}{% endif %}", "", "").is_none());
        let broken = ChatTemplate::hermes("{% if tools %}<tool_call>{% endfor %}", "", "").unwrap();
        assert!(broken.render(&[Turn::new(TurnRole::User, "hi")], &[]).is_err());
    }
}
