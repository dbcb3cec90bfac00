//! Speed measurements through the real engine path (queue, slots, sampling), shaped like
//! llama.cpp's `llama-bench` (`ppN`: prefill N prompt tokens; `tgN`: generate N tokens)
//! so the two can be compared as a ratio on the same model and threads.

use std::time::Instant;

use serde::Serialize;

use crate::engine::{Engine, Event, Request, Sampling};
use crate::error::{Error, Result};

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
}

impl Default for BenchSpec {
    fn default() -> Self {
        Self {
            prompt_tokens: 512,
            gen_tokens: 128,
            repetitions: 5,
            parallel: Vec::new(),
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
        return Err(Error::InvalidRequest(format!(
            "{too_many} parallel sequences need an engine with at least that many slots (it has {slots})"
        )));
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
async fn decode_rate(engine: &Engine, gen_tokens: usize, n: usize, rep: usize) -> Result<f64> {
    let mut sampling = Sampling::greedy(gen_tokens);
    sampling.ignore_eos = true;
    let mut running = Vec::with_capacity(n);
    for i in 0..n {
        let text = prompt_of(engine, 8, rep * 1000 + i).await?;
        let request = Request::prompt(text)
            .with_sampling(sampling.clone())
            .without_prompt_cache();
        let mut generation = engine.submit(request)?;
        // Each sequence is drained by its own task so that timestamps are taken as
        // tokens arrive, not when this loop gets to them.
        running.push(tokio::spawn(async move {
            let mut first = None;
            while let Some(event) = generation.next().await {
                match event {
                    Event::Token(_) if first.is_none() => first = Some(Instant::now()),
                    Event::Done(c) => return Ok((first.unwrap_or_else(Instant::now), Instant::now(), c)),
                    Event::Failed(e) => return Err(e),
                    _ => {}
                }
            }
            Err(Error::EngineStopped)
        }));
    }
    let mut spans = Vec::with_capacity(n);
    for task in running {
        let joined = task
            .await
            .map_err(|e| Error::Inference(format!("benchmark task failed: {e}")))?;
        spans.push(joined?);
    }
    let (Some(start), Some(end)) = (spans.iter().map(|s| s.0).min(), spans.iter().map(|s| s.1).max()) else {
        return Ok(0.0);
    };
    // The first token of each sequence comes from its prefill step, not from decoding.
    let generated: usize = spans.iter().map(|s| s.2.usage.generated_tokens.saturating_sub(1)).sum();
    let secs = (end - start).as_secs_f64();
    Ok(if secs > 0.0 { generated as f64 / secs } else { 0.0 })
}
