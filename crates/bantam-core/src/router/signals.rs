//! Cheap signals, read from the request's text before any model runs. Each one that fires
//! decides alone (with its reason); when none does, the small model decides.

/// Above this many characters a request is long work (a pasted document, a long brief).
pub const LONG_REQUEST_CHARS: usize = 6000;

/// What the text alone says, in the order the router checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A long request.
    Long,
    /// The user asks for reasoning step by step.
    StepByStep,
    /// It contains code (a fenced block) or asks for a program.
    Code,
    /// A greeting or thanks: small talk the small model handles.
    SmallTalk,
}

impl Signal {
    /// Whether the signal asks for the bigger tier.
    pub fn escalates(self) -> bool {
        !matches!(self, Signal::SmallTalk)
    }

    pub fn reason(self) -> &'static str {
        match self {
            Signal::Long => "a long request",
            Signal::StepByStep => "asks for step-by-step reasoning",
            Signal::Code => "code",
            Signal::SmallTalk => "small talk",
        }
    }
}

/// The first signal the text gives, if any.
pub fn read(text: &str) -> Option<Signal> {
    let lower = text.to_lowercase();
    if text.chars().count() > LONG_REQUEST_CHARS {
        return Some(Signal::Long);
    }
    if ["step by step", "step-by-step", "show your reasoning", "show your work"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Some(Signal::StepByStep);
    }
    if text.contains("```") || asks_for_code(&lower) {
        return Some(Signal::Code);
    }
    if is_small_talk(&lower) {
        return Some(Signal::SmallTalk);
    }
    None
}

fn asks_for_code(lower: &str) -> bool {
    const WHAT: [&str; 7] = [
        "function",
        "script",
        "program",
        "regex",
        "sql query",
        "class",
        "unit test",
    ];
    const VERBS: [&str; 5] = ["write", "implement", "code", "fix", "refactor"];
    VERBS.iter().any(|v| lower.contains(v)) && WHAT.iter().any(|w| lower.contains(w))
}

fn is_small_talk(lower: &str) -> bool {
    const WORDS: [&str; 9] = [
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank you",
        "good morning",
        "good night",
        "bye",
        "ok",
    ];
    let trimmed = lower.trim().trim_end_matches(['!', '.', '?', ' ']);
    trimmed.split_whitespace().count() <= 4
        && WORDS
            .iter()
            .any(|w| trimmed == *w || trimmed.starts_with(&format!("{w} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_fires_on_its_own_kind_of_text() {
        assert_eq!(read(&"word ".repeat(2000)), Some(Signal::Long));
        assert_eq!(read("Think step by step: which is heavier?"), Some(Signal::StepByStep));
        assert_eq!(read("Write a Python function that parses dates"), Some(Signal::Code));
        assert_eq!(
            read("why does this fail?\n```rust\nlet x = 1;\n```"),
            Some(Signal::Code)
        );
        assert_eq!(read("Hello!"), Some(Signal::SmallTalk));
        assert_eq!(read("thanks a lot"), Some(Signal::SmallTalk));
    }

    #[test]
    fn ordinary_questions_give_no_signal() {
        assert_eq!(read("What is the capital of France?"), None);
        assert_eq!(
            read("Hello, can you explain how vaccines train the immune system in detail?"),
            None
        );
        assert_eq!(read("Summarize the plot of Hamlet"), None);
        assert!(!Signal::SmallTalk.escalates());
        assert!(Signal::Code.escalates());
    }
}
