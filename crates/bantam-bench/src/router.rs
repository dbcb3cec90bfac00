//! `bantam bench router`: what one routing decision costs on the model given — the
//! small model's schema-held judgement, over the questions of an items file (the router
//! evaluation's), after one warm-up that puts the fixed instructions in the prefix cache
//! as a resident engine has them.

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::router::judge;
use bantam_core::Engine;
use clap::Args;
use serde::Serialize;

use crate::measure::percentile;
use crate::{Output, Setup};

#[derive(Args, Debug)]
pub struct RouterArgs {
    /// JSON Lines with a `question` per line
    #[arg(long, default_value = "eval/router/items.jsonl")]
    pub items: PathBuf,
    /// At most this many questions
    #[arg(long, default_value_t = 40)]
    pub limit: usize,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Serialize)]
struct Report {
    model: String,
    threads: usize,
    decisions: usize,
    p50_ms: f64,
    p95_ms: f64,
    mean_ms: f64,
}

pub async fn run(setup: &Setup, args: &RouterArgs) -> Result<u8> {
    let items = crate::eval::read_router_items(&args.items)?;
    let engine = Engine::start(setup.config(1)).await?;
    let warm = items.first().map(|i| i.question.as_str()).unwrap_or("hello");
    judge::judge(&engine, warm).await?;
    let mut ms = Vec::new();
    for item in items.iter().take(args.limit) {
        ms.push(judge::judge(&engine, &item.question).await?.1);
    }
    anyhow::ensure!(!ms.is_empty(), "no questions in {}", args.items.display());
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| percentile(&ms, q);
    let report = Report {
        model: engine.info().name.clone(),
        threads: setup.threads(),
        decisions: ms.len(),
        p50_ms: at(0.5),
        p95_ms: at(0.95),
        mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
    };
    if !args.out.json {
        println!(
            "router decision on {} ({} threads), {} questions: p50 {:.0} ms · p95 {:.0} ms · mean {:.0} ms",
            report.model, report.threads, report.decisions, report.p50_ms, report.p95_ms, report.mean_ms
        );
    }
    args.out.write(&report)?;
    Ok(0)
}
