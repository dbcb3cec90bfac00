//! The model's text split into its answer and its calls, at the end or as it streams.

use super::{ToolCall, CALL_CLOSE, CALL_OPEN};

/// An answer: the text before the first call, and the calls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub content: String,
    pub calls: Vec<ToolCall>,
}

/// Splits `text` into content and calls of the `tools` named. A block that does not parse
/// (only possible when the answer was cut off by `max_tokens`) stays in the content, so
/// nothing is lost. An answer that is only a bare JSON call of one of the tools (small
/// models leave out the tags; the `auto` grammar allows it) is that call.
pub fn parse_calls(text: &str, tools: &[&str]) -> Parsed {
    let Some(start) = text.find(CALL_OPEN) else {
        if let Some(call) = bare_call(text).filter(|c| tools.contains(&c.name.as_str())) {
            return Parsed {
                content: String::new(),
                calls: vec![call],
            };
        }
        return Parsed {
            content: text.to_string(),
            calls: Vec::new(),
        };
    };
    let mut calls = Vec::new();
    let mut rest = &text[start..];
    while let Some(after_open) = rest.strip_prefix(CALL_OPEN) {
        let Some(end) = after_open.find(CALL_CLOSE) else {
            break;
        };
        match serde_json::from_str::<ToolCall>(after_open[..end].trim()) {
            Ok(call) => calls.push(call),
            Err(_) => break,
        }
        rest = after_open[end + CALL_CLOSE.len()..].trim_start();
    }
    let mut content = text[..start].trim_end().to_string();
    if !rest.is_empty() {
        // A broken block: keep it as text after what came before.
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(rest);
    }
    Parsed { content, calls }
}

/// `{"name": …, "arguments": …}` alone, in a code fence or not — or in doubled braces:
/// Qwen2.5's own template shows the format as `{{"name": …}}` (a literal in its Jinja
/// text), and the models copy it now and then.
fn bare_call(text: &str) -> Option<ToolCall> {
    let t = text.trim();
    let t = t.strip_prefix("```json").or_else(|| t.strip_prefix("```")).unwrap_or(t);
    let t = t.strip_suffix("```").unwrap_or(t).trim();
    if !t.starts_with('{') {
        return None;
    }
    let inner = t.strip_prefix('{')?;
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(inner.strip_suffix('}')?).ok())
        // The second closing brace left out, as the 1.5B sometimes does.
        .or_else(|| serde_json::from_str(inner).ok())
}

/// Whether the answer so far could still be a bare call: nothing but space, or a start
/// with `{` or a code fence.
fn may_be_bare(text: &str) -> bool {
    let t = text.trim_start();
    t.is_empty() || t.starts_with('{') || t.starts_with('`')
}

/// Streams the content of an answer that may end in calls: text goes out as it comes,
/// except what could be the start of `<tool_call>`, which waits until it is clear.
/// An answer that starts like a bare call or like echoed tool markup is held whole until
/// the end.
#[derive(Debug, Clone, Default)]
pub struct CallStream {
    text: String,
    /// Bytes of `text` already given out as content.
    sent: usize,
    in_calls: bool,
    tools: Vec<String>,
}

impl CallStream {
    pub fn new(tools: &[&str]) -> Self {
        Self {
            tools: tools.iter().map(|t| t.to_string()).collect(),
            ..Self::default()
        }
    }

    /// Adds a piece of the model's text; returns the content that can go out now.
    pub fn push(&mut self, piece: &str) -> String {
        self.text.push_str(piece);
        // An echo of tool markup is held too: it may be asked again for words.
        if self.in_calls || (self.sent == 0 && (may_be_bare(&self.text) || super::may_be_echo(&self.text))) {
            return String::new();
        }
        let unsent = &self.text[self.sent..];
        if let Some(at) = unsent.find(CALL_OPEN) {
            self.in_calls = true;
            let out = unsent[..at].to_string();
            self.sent += at;
            return out;
        }
        // Hold back a tail that is a prefix of the opening tag.
        let hold = (1..CALL_OPEN.len().min(unsent.len() + 1))
            .rev()
            .find(|&n| unsent.is_char_boundary(unsent.len() - n) && CALL_OPEN.starts_with(&unsent[unsent.len() - n..]))
            .unwrap_or(0);
        let end = unsent.len() - hold;
        let out = unsent[..end].to_string();
        self.sent += end;
        out
    }

    /// The whole answer parsed, and the content not yet given out (held back or from a
    /// broken block).
    pub fn finish(self) -> (Parsed, String) {
        let tools: Vec<&str> = self.tools.iter().map(String::as_str).collect();
        let parsed = parse_calls(&self.text, &tools);
        // What went out is the content's start, give or take the trailing space parsing trims.
        let common: usize = self.text[..self.sent]
            .chars()
            .zip(parsed.content.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let rest = parsed.content[common..].to_string();
        (parsed, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_split_from_the_text_before_them() {
        let text = "Checking.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>";
        let p = parse_calls(text, &["f", "g"]);
        assert_eq!(p.content, "Checking.");
        assert_eq!(p.calls.len(), 2);
        assert_eq!(p.calls[0].arguments["x"], 1);
        assert_eq!(p.calls[1].name, "g");
        assert_eq!(parse_calls("just text", &["f"]).content, "just text");
    }

    #[test]
    fn a_bare_call_of_a_known_tool_is_a_call() {
        let bare = "```json\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n```";
        let p = parse_calls(bare, &["f"]);
        assert_eq!((p.content.as_str(), p.calls.len()), ("", 1));
        assert_eq!(
            parse_calls(bare, &["g"]).calls.len(),
            0,
            "not one of the tools: an answer"
        );
        let doubled = parse_calls("{{\"name\": \"f\", \"arguments\": {\"x\": 1}}}", &["f"]);
        assert_eq!(doubled.calls.len(), 1, "as the template's own example writes it");
        let unbalanced = parse_calls("{{\"name\": \"f\", \"arguments\": {\"x\": 1}}", &["f"]);
        assert_eq!(unbalanced.calls.len(), 1);
        let mut s = CallStream::new(&["f"]);
        assert_eq!(s.push("{\"name\": \"f\", "), "");
        assert_eq!(s.push("\"arguments\": {}}"), "");
        let (parsed, rest) = s.finish();
        assert_eq!((parsed.calls.len(), rest.as_str()), (1, ""));
    }

    #[test]
    fn a_cut_off_call_stays_as_text() {
        let p = parse_calls("<tool_call>\n{\"name\": \"f\", \"argu", &["f"]);
        assert!(p.calls.is_empty());
        assert_eq!(p.content, "<tool_call>\n{\"name\": \"f\", \"argu");
    }

    #[test]
    fn streaming_holds_back_only_a_possible_tag() {
        let mut s = CallStream::new(&["f"]);
        assert_eq!(s.push("Hello <"), "Hello ");
        assert_eq!(s.push("b>"), "<b>");
        assert_eq!(s.push(" then <tool"), " then ");
        assert_eq!(s.push("_call>\n{\"name\": \"f\", \"arguments\": {}}"), "");
        assert_eq!(s.push("\n</tool_call>"), "");
        let (parsed, rest) = s.finish();
        assert_eq!(parsed.calls.len(), 1);
        assert_eq!(parsed.content, "Hello <b> then");
        assert_eq!(rest, "");

        let mut plain = CallStream::new(&["f"]);
        assert_eq!(plain.push("a <tool"), "a ");
        let (parsed, rest) = plain.finish();
        assert_eq!(parsed.content, "a <tool");
        assert_eq!(rest, "<tool");
    }
}
