//! `bantam bench fit`: the memory-fit estimate of a model next to the resident memory
//! loading it really adds to this process (Linux).

use std::path::Path;

use anyhow::{Context as _, Result};
use bantam_core::engine::{Engine, EngineConfig, Request, Sampling};
use bantam_core::models::fit::{estimate_file, Budget, MemoryEstimate};
use bantam_core::units::human_bytes;
use serde::Serialize;
use serde_json::json;

use crate::{Output, Setup};

/// The estimate next to what loading really cost this process.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryCheck {
    pub estimate: MemoryEstimate,
    /// Resident memory added by loading the model and running one full micro-batch.
    pub measured: u64,
    /// `(estimate − measured) / measured`.
    pub error: f64,
}

/// Loads `path` with `budget`, prefills one full micro-batch (so the compute buffer and
/// every layer's weights are touched) and compares the growth of resident memory with
/// the estimate. Linux only (it reads `/proc/self/status`); the process should not be
/// doing anything else meanwhile.
pub async fn check_estimate(path: &Path, budget: &Budget) -> Result<Option<MemoryCheck>> {
    let Some(estimate) = estimate_file(path, budget)? else {
        return Ok(None);
    };
    let Some(before) = resident_bytes() else {
        return Ok(None);
    };
    let engine = Engine::start(EngineConfig {
        context_size: budget.context_size,
        parallel: budget.parallel as usize,
        batch_size: budget.ubatch,
        ..EngineConfig::new(path)
    })
    .await?;
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(budget.ubatch as usize / 8);
    engine
        .complete(Request::prompt(prompt).with_sampling(Sampling::greedy(4)))
        .await?;
    let after = resident_bytes().unwrap_or(before);
    drop(engine);
    let measured = after.saturating_sub(before).max(1);
    Ok(Some(MemoryCheck {
        estimate,
        measured,
        error: (estimate.total as f64 - measured as f64) / measured as f64,
    }))
}

/// The process's resident set, from `/proc/self/status` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The memory estimate next to the resident memory loading the model really added.
pub async fn run(setup: &Setup, output: &Output) -> Result<u8> {
    let (model, context_size, json_out) = (setup.model.as_path(), setup.ctx_size, output.json);
    let budget = Budget {
        context_size,
        ..Budget::default()
    };
    let check = check_estimate(model, &budget)
        .await?
        .context("no estimate: the header lacks the model's shape, or this is not Linux")?;
    if json_out {
        println!(
            "{}",
            serde_json::to_string(&json!({"model": model, "budget": budget, "check": check}))?
        );
    } else {
        let e = &check.estimate;
        println!(
            "{} at {} tokens × {} slots",
            model.display(),
            budget.context_size,
            budget.parallel
        );
        println!(
            "  estimate  {} (weights {}, repacked copies {}, KV cache {}, buffers {})",
            human_bytes(e.total),
            human_bytes(e.weights),
            human_bytes(e.repacked),
            human_bytes(e.kv_cache),
            human_bytes(e.buffers)
        );
        println!(
            "  measured  {} resident after loading and one full micro-batch",
            human_bytes(check.measured)
        );
        println!("  error     {:+.1}%", check.error * 100.0);
    }
    Ok(0)
}
