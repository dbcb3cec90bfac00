//! Speed measurements through the real engine path (queue, slots, sampling), shaped like
//! llama.cpp's `llama-bench` (`ppN`: prefill N prompt tokens; `tgN`: generate N tokens)
//! so the two can be compared as a ratio on the same model and threads.

use std::time::Instant;

use serde::Serialize;

use anyhow::{bail, Result};
use bantam_core::engine::{ChatMessage, Engine, Request, Sampling};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchSpec {
    /// Prompt tokens for the prefill test (0 skips it).
    pub prompt_tokens: usize,
    /// Generated tokens for the decode test (0 skips it).
    pub gen_tokens: usize,
    /// Repetitions of each test.
    pub repetitions: usize,
    /// Concurrent sequences for the aggregate decode test (values above 1 only; must not
    /// exceed the engine's slots).
    pub parallel: Vec<usize>,
    /// Chat turns at which to report time to first token, with and without prefix
    /// reuse (e.g. 2, 5, 10; empty skips the test).
    pub turns: Vec<usize>,
}

impl Default for BenchSpec {
    fn default() -> Self {
        Self {
            prompt_tokens: 512,
            gen_tokens: 128,
            repetitions: 5,
            parallel: Vec::new(),
            turns: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchResult {
    /// `pp512`, `tg128`, `tg128x4` (aggregate over 4 sequences).
    pub test: String,
    pub sequences: usize,
    /// Tokens per second of each repetition.
    pub samples: Vec<f64>,
    pub mean: f64,
    pub stddev: f64,
}

impl BenchResult {
    fn new(test: String, sequences: usize, samples: Vec<f64>) -> Self {
        let n = samples.len().max(1) as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Self {
            test,
            sequences,
            samples,
            mean,
            stddev: var.sqrt(),
        }
    }
}

/// Time to first token at one turn of a growing chat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnResult {
    pub turn: usize,
    /// Tokens of the whole prompt at this turn (history + the new question).
    pub prompt_tokens: usize,
    /// With the slot's cached prefix: only the new turn is prefilled.
    pub ttft_reuse_ms: f64,
    pub cached_tokens: usize,
    /// The whole history prefilled again (what an engine without prefix reuse does).
    pub ttft_fresh_ms: f64,
}

impl TurnResult {
    pub fn ratio(&self) -> f64 {
        if self.ttft_fresh_ms > 0.0 {
            self.ttft_reuse_ms / self.ttft_fresh_ms
        } else {
            0.0
        }
    }
}

/// A chat of `max(turns)` turns, each question about 60 tokens and each answer up to 48 tokens
/// (greedy, so both runs see the same history). At each turn the same prompt is sent
/// twice: once as the chat's next turn (prefix reuse) and once with the cache off.
pub async fn chat_turns(engine: &Engine, turns: &[usize]) -> Result<Vec<TurnResult>> {
    let last = turns.iter().copied().max().unwrap_or(0);
    let mut history = vec![ChatMessage::system(
        "You are Bantam, a helpful assistant that runs on the user's own computer. Answer briefly.",
    )];
    let mut out = Vec::new();
    // Natural answers (no ignore_eos): an end token in the middle of an answer would not
    // survive the round trip through text, and the next turn's prefix would not match.
    let answer = Sampling::greedy(48);
    for turn in 1..=last {
        history.push(ChatMessage::user(format!(
            "Question {turn}: tell me one more fact about the history of sailing ships, the winds they used, \
             the ports they called at, and the cargo they carried across the oceans in the age of sail."
        )));
        let reused = engine
            .complete(Request::chat(history.clone()).with_sampling(answer.clone()))
            .await?;
        if turns.contains(&turn) {
            let fresh = engine
                .complete(
                    Request::chat(history.clone())
                        .with_sampling(Sampling::greedy(1))
                        .without_prompt_cache(),
                )
                .await?;
            out.push(TurnResult {
                turn,
                prompt_tokens: reused.usage.prompt_tokens,
                ttft_reuse_ms: reused.timings.time_to_first_token_ms,
                cached_tokens: reused.usage.cached_tokens,
                ttft_fresh_ms: fresh.timings.time_to_first_token_ms,
            });
        }
        history.push(ChatMessage::assistant(reused.text));
    }
    Ok(out)
}

/// A text of about `n` tokens; every repetition starts differently so that nothing is
/// taken from a slot's cache even by accident (prompt caching is off as well).
async fn prompt_of(engine: &Engine, n: usize, rep: usize) -> Result<String> {
    let head = format!("Report {rep}:");
    let base = engine.tokenize(&head, true).await?.len();
    let word = engine.tokenize(" hello", false).await?.len().max(1);
    let words = n.saturating_sub(base) / word;
    Ok(format!("{head}{}", " hello".repeat(words)))
}

/// Runs the tests in `spec` on `engine`; a warm-up request goes first, unmeasured.
pub async fn run(engine: &Engine, spec: &BenchSpec) -> Result<Vec<BenchResult>> {
    let slots = engine.info().parallel;
    if let Some(&too_many) = spec.parallel.iter().find(|&&p| p > slots) {
        bail!("{too_many} parallel sequences need an engine with at least that many slots (it has {slots})");
    }
    let reps = spec.repetitions.max(1);
    let warmup = Request::prompt(prompt_of(engine, 16, usize::MAX).await?)
        .with_sampling(Sampling::greedy(4))
        .without_prompt_cache();
    engine.complete(warmup).await?;

    let mut results = Vec::new();
    if spec.prompt_tokens > 0 {
        let mut samples = Vec::with_capacity(reps);
        for rep in 0..reps {
            let text = prompt_of(engine, spec.prompt_tokens, rep).await?;
            let c = engine
                .complete(
                    Request::prompt(text)
                        .with_sampling(Sampling::greedy(1))
                        .without_prompt_cache(),
                )
                .await?;
            samples.push(c.timings.prompt_tokens_per_s);
        }
        results.push(BenchResult::new(format!("pp{}", spec.prompt_tokens), 1, samples));
    }
    if spec.gen_tokens > 0 {
        let mut sequences = vec![1];
        sequences.extend(spec.parallel.iter().copied().filter(|&p| p > 1));
        for n in sequences {
            let mut samples = Vec::with_capacity(reps);
            for rep in 0..reps {
                samples.push(decode_rate(engine, spec.gen_tokens, n, rep).await?);
            }
            let name = if n == 1 {
                format!("tg{}", spec.gen_tokens)
            } else {
                format!("tg{}x{n}", spec.gen_tokens)
            };
            results.push(BenchResult::new(name, n, samples));
        }
    }
    Ok(results)
}

/// Generated tokens per second over `n` concurrent sequences, from the first sequence's
/// first token to the last sequence's end (prefill of the short prompts is excluded).
///
/// Nothing reads the token streams while they run (they queue in their channels): on a
/// small machine a reader waking for every token takes a core from llama.cpp's threads,
/// and this measures the engine, as `llama-batched-bench` does. The spans come from each
/// completion's own timings.
async fn decode_rate(engine: &Engine, gen_tokens: usize, n: usize, rep: usize) -> Result<f64> {
    let mut sampling = Sampling::greedy(gen_tokens);
    sampling.ignore_eos = true;
    // Prompts first, then every request at once, so all start in the same step.
    let mut prompts = Vec::with_capacity(n);
    for i in 0..n {
        prompts.push(prompt_of(engine, 8, rep * 1000 + i).await?);
    }
    let mut running = Vec::with_capacity(n);
    for text in prompts {
        let request = Request::prompt(text)
            .with_sampling(sampling.clone())
            .without_prompt_cache();
        running.push((Instant::now(), engine.submit(request)?));
    }
    // Wait for the engine to go busy and idle again (the counters lag the submissions).
    let waiting = Instant::now();
    let mut seen_busy = false;
    loop {
        let load = engine.load();
        if load.active + load.queued > 0 {
            seen_busy = true;
        } else if seen_busy || waiting.elapsed() > std::time::Duration::from_secs(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut spans = Vec::with_capacity(n);
    for (submitted, generation) in running {
        let c = generation.collect().await?;
        let first = submitted + std::time::Duration::from_secs_f64(c.timings.time_to_first_token_ms / 1000.0);
        let last = first + std::time::Duration::from_secs_f64(c.timings.generation_ms / 1000.0);
        // The first token of each sequence comes from its prefill step, not from decoding.
        spans.push((first, last, c.usage.generated_tokens.saturating_sub(1)));
    }
    let (Some(start), Some(end)) = (spans.iter().map(|s| s.0).min(), spans.iter().map(|s| s.1).max()) else {
        return Ok(0.0);
    };
    let generated: usize = spans.iter().map(|s| s.2).sum();
    let secs = (end - start).as_secs_f64();
    Ok(if secs > 0.0 { generated as f64 / secs } else { 0.0 })
}

/// The `q` quantile (0–1) of sorted values, nearest rank; NaN when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
