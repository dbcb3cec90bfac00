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
    /// A word problem: numbers and a question about a quantity (small models get these
    /// wrong far more often than they think: measured in `bantam eval router`).
    Math,
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
            Signal::Math => "math",
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
    if is_word_problem(&lower) {
        return Some(Signal::Math);
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

/// Two or more numbers, and a question about a quantity.
fn is_word_problem(lower: &str) -> bool {
    const ASKS: [&str; 10] = [
        "how many",
        "how much",
        "how long",
        "how far",
        "how old",
        "what is the total",
        "what percent",
        "average",
        "calculate",
        "compute",
    ];
    let numbers = lower
        .split(|c: char| !c.is_ascii_digit() && c != '.' && c != ',')
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .count();
    numbers >= 2 && ASKS.iter().any(|a| lower.contains(a))
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
        assert_eq!(
            read("Janet's ducks lay 16 eggs per day. She eats 3. How much does she make at $2 an egg?"),
            Some(Signal::Math)
        );
    }

    #[test]
    fn ordinary_questions_give_no_signal() {
        assert_eq!(read("What is the capital of France?"), None);
        assert_eq!(
            read("Hello, can you explain how vaccines train the immune system in detail?"),
            None
        );
        assert_eq!(read("Summarize the plot of Hamlet"), None);
        assert_eq!(
            read("How many moons does Mars have?"),
            None,
            "one number at most is no word problem"
        );
        assert!(!Signal::SmallTalk.escalates());
        assert!(Signal::Code.escalates());
    }
}
