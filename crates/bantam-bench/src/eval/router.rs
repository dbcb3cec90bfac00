//! `bantam eval router`: the router judged the way routing research judges one
//! (RouteLLM): both tiers answer every question with a checkable answer, then the
//! router's quality is set against the share it escalates — next to always-small,
//! always-big, a random router escalating as often, and the oracle. Also the decision's
//! latency on the small model.
//!
//! Items are JSON Lines: `{"id", "question", "answer", "choices"?}` — a number for word
//! problems, or a letter when `choices` lists the options (A, B, …). Answers are
//! JSON-schema constrained (a number, or one of the letters) and parsed with serde.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use bantam_core::engine::{ChatMessage, Request, Sampling};
use bantam_core::router::{assess, Assessment};
use bantam_core::Engine;
use serde::{Deserialize, Serialize};

use crate::measure::percentile;
use crate::Setup;

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub id: String,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub choices: Vec<String>,
}

pub struct Options {
    pub data: PathBuf,
    pub small: PathBuf,
    pub big: PathBuf,
    pub limit: Option<usize>,
    pub json: bool,
}

/// What happened on one item.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    /// The router's lean to the bigger tier (1/0 when a signal decided).
    pub score: f32,
    pub by_signal: bool,
    pub decision_ms: f64,
    pub small_right: bool,
    pub big_right: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub router: String,
    pub escalated: f64,
    pub accuracy: f64,
    /// Of the gap between always-small and always-big, the share this router recovers.
    pub gap_recovered: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouterReport {
    pub items: usize,
    pub small_model: String,
    pub big_model: String,
    pub small_accuracy: f64,
    pub big_accuracy: f64,
    pub decision_ms_p50: f64,
    pub decision_ms_p95: f64,
    pub points: Vec<Point>,
    pub outcomes: Vec<Outcome>,
}

pub fn read_items(path: &Path) -> Result<Vec<Item>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}

fn letters(n: usize) -> Vec<String> {
    (0..n).map(|i| char::from(b'A' + i as u8).to_string()).collect()
}

/// The question as the model reads it, and the schema its answer must follow.
fn ask(item: &Item) -> (String, serde_json::Value) {
    if item.choices.is_empty() {
        (
            format!(
                "{}\nWork it out briefly, then give the final answer as a number.",
                item.question
            ),
            serde_json::json!({
                "type": "object",
                "properties": {
                    "working": {"type": "string", "maxLength": 600},
                    "answer": {"type": "number"},
                },
                "required": ["working", "answer"],
            }),
        )
    } else {
        let options: Vec<String> = letters(item.choices.len())
            .iter()
            .zip(&item.choices)
            .map(|(l, c)| format!("{l}. {c}"))
            .collect();
        (
            format!(
                "{}\n{}\nAnswer with the letter of the right option.",
                item.question,
                options.join("\n")
            ),
            serde_json::json!({
                "type": "object",
                "properties": {"answer": {"enum": letters(item.choices.len())}},
                "required": ["answer"],
            }),
        )
    }
}

#[derive(Deserialize)]
struct Answer {
    answer: serde_json::Value,
}

fn right(item: &Item, answer: &serde_json::Value) -> bool {
    if item.choices.is_empty() {
        let want: f64 = match item.answer.replace(',', "").trim().parse() {
            Ok(v) => v,
            Err(_) => return false,
        };
        answer.as_f64().is_some_and(|got| (got - want).abs() < 1e-6)
    } else {
        answer
            .as_str()
            .is_some_and(|a| a.eq_ignore_ascii_case(item.answer.trim()))
    }
}

/// Every item answered on one model: whether each answer was right.
async fn answer_all(engine: &Engine, items: &[Item], label: &str) -> Vec<bool> {
    let total = items.len();
    let mut out = Vec::with_capacity(total);
    let mut progress = crate::progress::Counter::new(format!("answered ({label})"), total);
    for (i, item) in items.iter().enumerate() {
        let (text, schema) = ask(item);
        let request = Request::chat(vec![ChatMessage::user(text)]).with_sampling(Sampling {
            temperature: 0.0,
            max_tokens: 400,
            ..Sampling::default()
        });
        let ok = match engine.complete_json::<Answer>(request, schema).await {
            Ok((a, _)) => right(item, &a.answer),
            // A cut-off or unparsable answer is a wrong one.
            Err(_) => false,
        };
        out.push(ok);
        progress.set(i + 1);
    }
    out
}

pub async fn run(setup: &Setup, o: &Options) -> Result<RouterReport> {
    let items = super::spread(read_items(&o.data)?, o.limit);
    anyhow::ensure!(!items.is_empty(), "no items in {}", o.data.display());
    let config = |model: &Path| bantam_core::EngineConfig {
        model_path: model.to_path_buf(),
        ..setup.config(1)
    };

    let small = Engine::start(config(&o.small)).await?;
    let small_model = small.info().name.clone();
    let mut decisions = Vec::with_capacity(items.len());
    let mut progress = crate::progress::Counter::new("decided (router)", items.len());
    for (i, item) in items.iter().enumerate() {
        let (text, _) = ask(item);
        let decided = match assess(&small, &text).await? {
            Assessment::Signal(s) => (if s.escalates() { 1.0 } else { 0.0 }, true, 0.0),
            Assessment::Judged { judgement, ms } => (judgement.bigger_score(), false, ms),
        };
        decisions.push(decided);
        progress.set(i + 1);
    }
    drop(progress);
    let small_right = answer_all(&small, &items, "small").await;
    small.shutdown(std::time::Duration::from_secs(1)).await;
    drop(small);

    let big = Engine::start(config(&o.big)).await?;
    let big_model = big.info().name.clone();
    let big_right = answer_all(&big, &items, "big").await;
    big.shutdown(std::time::Duration::from_secs(1)).await;

    let outcomes: Vec<Outcome> = items
        .iter()
        .zip(decisions)
        .zip(small_right.iter().zip(&big_right))
        .map(|((item, (score, by_signal, ms)), (s, b))| Outcome {
            id: item.id.clone(),
            score,
            by_signal,
            decision_ms: ms,
            small_right: *s,
            big_right: *b,
        })
        .collect();
    let report = summarize(small_model, big_model, outcomes);
    if o.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(report)
}

/// The table from the outcomes: the router at its threshold and at the cut-offs that
/// escalate 10 %…90 % of the items, each next to a random router as often.
pub fn summarize(small_model: String, big_model: String, outcomes: Vec<Outcome>) -> RouterReport {
    let n = outcomes.len().max(1) as f64;
    let small_acc = outcomes.iter().filter(|o| o.small_right).count() as f64 / n;
    let big_acc = outcomes.iter().filter(|o| o.big_right).count() as f64 / n;
    let gap = big_acc - small_acc;
    let recovered = |acc: f64| (gap > 1e-9).then(|| (acc - small_acc) / gap);
    let at = |escalate: &dyn Fn(&Outcome) -> bool, name: String| {
        let up = outcomes.iter().filter(|o| escalate(o)).count() as f64;
        let acc = outcomes
            .iter()
            .filter(|o| if escalate(o) { o.big_right } else { o.small_right })
            .count() as f64
            / n;
        Point {
            router: name,
            escalated: up / n,
            accuracy: acc,
            gap_recovered: recovered(acc),
        }
    };
    let random = |share: f64| {
        let acc = small_acc * (1.0 - share) + big_acc * share;
        Point {
            router: "random (expected)".into(),
            escalated: share,
            accuracy: acc,
            gap_recovered: recovered(acc),
        }
    };
    let mut points = vec![
        at(&|_| false, "always small".into()),
        at(&|_| true, "always big".into()),
        at(&|o| !o.small_right && o.big_right, "oracle".into()),
    ];
    let router = at(
        &|o| o.score > bantam_core::router::DEFAULT_THRESHOLD,
        "router (threshold 0.5)".into(),
    );
    let share = router.escalated;
    points.push(router);
    points.push(random(share));
    let mut scores: Vec<f32> = outcomes.iter().map(|o| o.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    // Tied scores (a small model gives few distinct ones) make cut-offs coincide: each
    // share escalated is listed once.
    let mut shares: Vec<f64> = Vec::new();
    for tenth in 1..10 {
        let k = (outcomes.len() * tenth) / 10;
        let Some(&cut) = scores.get(k.saturating_sub(1)) else {
            continue;
        };
        let p = at(&|o| o.score >= cut, format!("router, score ≥ {cut:.2}"));
        let share = p.escalated;
        if shares.iter().any(|s| (s - share).abs() < 1e-9) {
            continue;
        }
        shares.push(share);
        points.push(p);
        points.push(random(share));
    }
    let mut ms: Vec<f64> = outcomes
        .iter()
        .filter(|o| !o.by_signal)
        .map(|o| o.decision_ms)
        .collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    RouterReport {
        items: outcomes.len(),
        small_model,
        big_model,
        small_accuracy: small_acc,
        big_accuracy: big_acc,
        // 0 when signals decided every item (no model decision to time).
        decision_ms_p50: if ms.is_empty() { 0.0 } else { percentile(&ms, 0.5) },
        decision_ms_p95: if ms.is_empty() { 0.0 } else { percentile(&ms, 0.95) },
        points,
        outcomes,
    }
}

fn print_report(r: &RouterReport) {
    println!(
        "{} items · small {} ({:.3}) · big {} ({:.3}) · decision on the small model p50 {:.0} ms, p95 {:.0} ms",
        r.items, r.small_model, r.small_accuracy, r.big_model, r.big_accuracy, r.decision_ms_p50, r.decision_ms_p95
    );
    println!(
        "{:<32} {:>10} {:>9} {:>14}",
        "router", "escalated", "accuracy", "gap recovered"
    );
    for p in &r.points {
        println!(
            "{:<32} {:>9.0}% {:>9.3} {:>14}",
            p.router,
            p.escalated * 100.0,
            p.accuracy,
            p.gap_recovered.map_or("-".into(), |g| format!("{:.2}", g))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(score: f32, small_right: bool, big_right: bool) -> Outcome {
        Outcome {
            id: String::new(),
            score,
            by_signal: false,
            decision_ms: 10.0,
            small_right,
            big_right,
        }
    }

    #[test]
    fn a_router_that_escalates_what_small_gets_wrong_beats_random() {
        let outcomes = vec![
            o(0.9, false, true),
            o(0.8, false, true),
            o(0.2, true, true),
            o(0.1, true, false),
        ];
        let r = summarize("s".into(), "b".into(), outcomes);
        assert_eq!(r.small_accuracy, 0.5);
        assert_eq!(r.big_accuracy, 0.75);
        let router = r.points.iter().find(|p| p.router.starts_with("router (")).unwrap();
        assert_eq!(router.escalated, 0.5);
        assert_eq!(router.accuracy, 1.0);
        let random = r.points.iter().find(|p| p.router.starts_with("random")).unwrap();
        assert!((random.accuracy - 0.625).abs() < 1e-9);
        assert_eq!(r.points[2].router, "oracle");
        assert_eq!(r.points[2].accuracy, 1.0);
    }

    #[test]
    fn answers_are_checked_as_numbers_or_letters() {
        let num = Item {
            id: "1".into(),
            question: String::new(),
            answer: "1,200".into(),
            choices: vec![],
        };
        assert!(right(&num, &serde_json::json!(1200)));
        assert!(right(&num, &serde_json::json!(1200.0)));
        assert!(!right(&num, &serde_json::json!(12)));
        let mc = Item {
            choices: vec!["x".into(), "y".into()],
            answer: "B".into(),
            ..num
        };
        assert!(right(&mc, &serde_json::json!("B")));
        assert!(!right(&mc, &serde_json::json!("A")));
        assert_eq!(
            ask(&mc).1["properties"]["answer"]["enum"],
            serde_json::json!(["A", "B"])
        );
    }
}
