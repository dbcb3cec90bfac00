//! The answer in words after tool results, for a small model that will not give one on
//! its own: Qwen2.5-Coder 1.5B, handed a result, calls the same tool again, writes the
//! result back as `<tool_response>` markup, or says it has no results — the markup and
//! the tool turns of its own template pull it back into calling. Asked the question again
//! with the results written out as plain text, and no tools in sight, it answers.

use super::{only_repeats, ToolCall, Turn, TurnRole, CALL_OPEN};

/// What a model writes back instead of an answer: the markup of its tool turns.
const ECHO_TAGS: [&str; 3] = ["<tool_response>", "<tools>", CALL_OPEN];

/// The request that closes the rewritten question. Without "in words" the 1.5B tends to
/// answer with the result's JSON.
const ANSWER_IN_WORDS: &str = "Answer the question in words, using these results.";

/// Whether an answer after tool results is no answer: empty, or the tools' markup echoed.
pub fn is_echo(content: &str) -> bool {
    let t = content.trim_start();
    t.trim_end().is_empty() || ECHO_TAGS.iter().any(|tag| t.starts_with(tag))
}

/// Whether an answer after tool results needs asking again for words: its calls only
/// repeat answered ones ([`only_repeats`]), or it made none and is no answer ([`is_echo`]).
pub fn needs_words(calls: &[ToolCall], content: &str, turns: &[Turn]) -> bool {
    only_repeats(calls, turns) || (calls.is_empty() && is_echo(content))
}

/// Whether a streamed answer's start could still turn out an echo ([`is_echo`]), so it
/// must wait before any of it goes out.
pub fn may_be_echo(start: &str) -> bool {
    let t = start.trim_start();
    t.is_empty() || ECHO_TAGS.iter().any(|tag| t.starts_with(tag) || tag.starts_with(t))
}

/// The conversation rewritten for an answer in words: earlier turns as they were, less
/// their tool calls and results; the last question with every call made for it since and
/// what it returned, as plain text; and a request to answer with them. `None` when no
/// question was asked or nothing was called for it.
pub fn answer_turns(turns: &[Turn]) -> Option<Vec<Turn>> {
    let asked = turns.iter().rposition(|t| t.role == TurnRole::User)?;
    let mut results = Vec::new();
    let mut pending = Vec::new();
    for turn in &turns[asked + 1..] {
        match turn.role {
            TurnRole::Assistant => pending = turn.calls.iter().rev().collect(),
            // The k-th result after a turn with calls answers its k-th call (OpenAI's order).
            TurnRole::Tool => results.push(match pending.pop() {
                Some(call) => format!("- {}({}) returned: {}", call.name, call.arguments, turn.content.trim()),
                None => format!("- a tool returned: {}", turn.content.trim()),
            }),
            TurnRole::System | TurnRole::User => {}
        }
    }
    if results.is_empty() {
        return None;
    }
    let mut out: Vec<Turn> = turns[..asked]
        .iter()
        .filter(|t| t.role != TurnRole::Tool && !(t.role == TurnRole::Assistant && t.content.trim().is_empty()))
        .map(|t| Turn::new(t.role, t.content.clone()))
        .collect();
    let question = turns[asked].content.trim();
    out.push(Turn::new(
        TurnRole::User,
        format!(
            "{question}\n\nThe tools were called for this question:\n{}\n\n{ANSWER_IN_WORDS}",
            results.join("\n")
        ),
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn said(role: TurnRole, text: &str) -> Turn {
        Turn::new(role, text)
    }

    fn called(calls: &[(&str, serde_json::Value)]) -> Turn {
        Turn {
            calls: calls
                .iter()
                .map(|(name, arguments)| ToolCall {
                    name: name.to_string(),
                    arguments: arguments.clone(),
                })
                .collect(),
            ..Turn::new(TurnRole::Assistant, "")
        }
    }

    #[test]
    fn the_question_carries_each_call_and_its_result_in_order() {
        let turns = vec![
            said(TurnRole::System, "Be brief."),
            said(TurnRole::User, "Sum of the temperatures in Paris and Lima?"),
            called(&[
                ("get_weather", json!({"city": "Paris"})),
                ("get_weather", json!({"city": "Lima"})),
            ]),
            said(TurnRole::Tool, r#"{"temperature_c": 18}"#),
            said(TurnRole::Tool, r#"{"temperature_c": 20}"#),
            called(&[("calculator", json!({"expression": "18 + 20"}))]),
            said(TurnRole::Tool, r#"{"result": 38}"#),
        ];
        let out = answer_turns(&turns).expect("results to answer with");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], said(TurnRole::System, "Be brief."));
        let ask = &out[1];
        assert_eq!(ask.role, TurnRole::User);
        assert!(ask.content.starts_with("Sum of the temperatures in Paris and Lima?\n"));
        let paris = ask
            .content
            .find(r#"get_weather({"city":"Paris"}) returned: {"temperature_c": 18}"#);
        let lima = ask
            .content
            .find(r#"get_weather({"city":"Lima"}) returned: {"temperature_c": 20}"#);
        let sum = ask
            .content
            .find(r#"calculator({"expression":"18 + 20"}) returned: {"result": 38}"#);
        assert!(paris < lima && lima < sum && paris.is_some(), "{}", ask.content);
        assert!(ask.content.ends_with(ANSWER_IN_WORDS));
        assert!(!ask.content.contains('<'), "no markup to echo: {}", ask.content);
    }

    #[test]
    fn earlier_exchanges_keep_their_words_and_lose_their_calls() {
        let turns = vec![
            said(TurnRole::User, "Weather in Oslo?"),
            called(&[("get_weather", json!({"city": "Oslo"}))]),
            said(TurnRole::Tool, r#"{"sky": "snow"}"#),
            said(TurnRole::Assistant, "It is snowing in Oslo."),
            said(TurnRole::User, "And in Tokyo?"),
            called(&[("get_weather", json!({"city": "Tokyo"}))]),
            said(TurnRole::Tool, r#"{"sky": "sunny"}"#),
        ];
        let out = answer_turns(&turns).expect("results to answer with");
        let roles: Vec<TurnRole> = out.iter().map(|t| t.role).collect();
        assert_eq!(roles, [TurnRole::User, TurnRole::Assistant, TurnRole::User]);
        assert_eq!(out[1].content, "It is snowing in Oslo.");
        assert!(out[2].content.contains("Tokyo") && !out[2].content.contains("Oslo"));
        assert!(out.iter().all(|t| t.calls.is_empty()));
    }

    #[test]
    fn nothing_to_rewrite_without_a_question_or_a_result() {
        assert_eq!(answer_turns(&[said(TurnRole::User, "Hi")]), None);
        assert_eq!(answer_turns(&[said(TurnRole::Tool, "{}")]), None);
        let stale = vec![
            said(TurnRole::User, "Weather in Oslo?"),
            called(&[("get_weather", json!({"city": "Oslo"}))]),
            said(TurnRole::Tool, "{}"),
            said(TurnRole::User, "Thanks!"),
        ];
        assert_eq!(answer_turns(&stale), None);
    }

    #[test]
    fn markup_and_emptiness_are_echoes_and_words_are_not() {
        for echo in [
            "",
            "  \n",
            "<tool_response>\n{\"time\": \"06:30\"}\n</tool_response>",
            " <tools>{}</tools>",
        ] {
            assert!(is_echo(echo), "{echo:?}");
        }
        for words in [
            "It is 06:30 in London.",
            "<b>bold</b>",
            "The tag <tool_response> is markup.",
        ] {
            assert!(!is_echo(words), "{words:?}");
        }
        assert!(may_be_echo("") && may_be_echo(" <too") && may_be_echo("<tool_response>{"));
        assert!(!may_be_echo("<b") && !may_be_echo("It"));
    }
}
