//! The small model's decision when no signal decided: one short generation held by a
//! JSON schema to `{tier, confidence, reason}` (the reason from a fixed list, so a small
//! model cannot ramble and the badge reads well), parsed with serde.

use serde::Deserialize;

use crate::engine::{ChatMessage, Engine, Priority, Request, Sampling};
use crate::error::Result;

/// The request is cut to this many characters for the decision: the start says what kind
/// of request it is, and the decision's latency stays bounded.
const HEAD_CHARS: usize = 1500;

const SYSTEM: &str = "You route requests for a private assistant. A small model answers \
simple requests well: short facts, definitions, rewording or translating a sentence, short \
everyday questions, casual chat. A bigger model is needed for multi-step arithmetic or logic, \
word problems, careful or long writing, expert knowledge, and anything where a mistake would \
matter. Answer with JSON: the tier (\"small\" or \"bigger\"), your confidence in that choice \
from 0 to 100, and the reason.";

/// The reasons the model picks from: short (each forced token still costs a decoding
/// step, the decision's latency) and readable on the badge.
pub const REASONS: [&str; 8] = [
    "everyday question",
    "simple fact",
    "rewording",
    "small talk",
    "reasoning",
    "expert knowledge",
    "careful writing",
    "high stakes",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Small,
    Bigger,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Judgement {
    pub tier: Size,
    /// 0–100.
    pub confidence: u8,
    pub reason: String,
}

impl Judgement {
    /// How much it leans to the bigger tier, 0.0–1.0: the score a threshold cuts (the
    /// router's operating point, and the curve `bantam eval router` traces).
    pub fn bigger_score(&self) -> f32 {
        let c = f32::from(self.confidence.min(100)) / 100.0;
        match self.tier {
            Size::Bigger => 0.5 + c / 2.0,
            Size::Small => 0.5 - c / 2.0,
        }
    }
}

fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "tier": {"enum": ["small", "bigger"]},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
            "reason": {"enum": REASONS},
        },
        "required": ["tier", "confidence", "reason"],
        "additionalProperties": false,
    })
}

/// Asks the small model; returns its judgement and how long it took (ms).
pub async fn judge(engine: &Engine, text: &str) -> Result<(Judgement, f64)> {
    let head: String = text.chars().take(HEAD_CHARS).collect();
    let request = Request::chat(vec![
        ChatMessage::system(SYSTEM),
        ChatMessage::user(format!("Request:\n{head}")),
    ])
    .with_sampling(Sampling {
        temperature: 0.0,
        max_tokens: 48,
        ..Sampling::default()
    })
    .with_priority(Priority::Interactive);
    let started = std::time::Instant::now();
    let (judgement, _) = engine.complete_json::<Judgement>(request, schema()).await?;
    Ok((judgement, started.elapsed().as_secs_f64() * 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_orders_small_below_bigger() {
        let j = |tier, confidence| Judgement {
            tier,
            confidence,
            reason: String::new(),
        };
        assert!(j(Size::Small, 90).bigger_score() < j(Size::Small, 10).bigger_score());
        assert!(j(Size::Small, 10).bigger_score() < j(Size::Bigger, 10).bigger_score());
        assert!(j(Size::Bigger, 10).bigger_score() < j(Size::Bigger, 90).bigger_score());
        assert_eq!(j(Size::Bigger, 250).bigger_score(), 1.0);
    }
}
