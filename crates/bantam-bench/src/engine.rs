//! `bantam bench engine`: prefill and decode speed through Bantam's engine, optionally
//! next to llama.cpp's own `llama-bench` and `llama-batched-bench` run in the same
//! invocation, reported as a ratio.

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::{Engine, EngineConfig};
use serde::Serialize;

use crate::anchor::{default_anchor, run_anchor, run_batched_anchor, AnchorResult, BatchedAnchorResult};
use crate::measure::{self, BenchResult, BenchSpec, TurnResult};
use crate::{Output, Setup};

#[derive(clap::Args, Debug)]
pub struct EngineArgs {
    /// Prompt tokens for the prefill test (0 skips it)
    #[arg(short = 'p', long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Tokens to generate in the decode test (0 skips it)
    #[arg(short = 'n', long, default_value_t = 128)]
    pub gen_tokens: usize,
    /// Repetitions of each test
    #[arg(short = 'r', long, default_value_t = 5)]
    pub repetitions: usize,
    /// Also decode this many sequences at once (aggregate tokens/s), e.g. 4,8
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    pub parallel: Vec<usize>,
    /// Flash attention on or off (default: llama.cpp decides)
    #[arg(long, value_name = "on|off")]
    pub flash_attn: Option<OnOff>,
    /// Time to first token at these turns of a growing chat, with and without prefix reuse
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    pub turns: Vec<usize>,
    /// Run llama.cpp's `llama-bench` at this path with the same settings and print ratios
    #[arg(long, value_name = "PATH")]
    pub anchor: Option<PathBuf>,
    /// Run llama.cpp's `llama-batched-bench` at this path for the --parallel figures
    #[arg(long, value_name = "PATH")]
    pub batched_anchor: Option<PathBuf>,
    #[command(flatten)]
    pub output: Output,
}

impl EngineArgs {
    /// `bench all`: -p 512 -n 128 -r 5, --parallel 4,8,16, --turns 2,5,10, and the anchors
    /// from ~/.cache/bantam-anchor when they are there.
    pub fn all(output: Output) -> Self {
        Self {
            prompt_tokens: 512,
            gen_tokens: 128,
            repetitions: 5,
            parallel: vec![4, 8, 16],
            flash_attn: None,
            turns: vec![2, 5, 10],
            anchor: default_anchor("llama-bench"),
            batched_anchor: default_anchor("llama-batched-bench"),
            output,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Serialize)]
struct Report {
    model: PathBuf,
    threads: usize,
    batch_size: u32,
    flash_attention: Option<bool>,
    bantam: Vec<BenchResult>,
    anchor: Vec<AnchorResult>,
    batched_anchor: Vec<BatchedAnchorResult>,
    turns: Vec<TurnResult>,
}

pub async fn run(setup: &Setup, args: EngineArgs) -> Result<u8> {
    let model = setup.model.clone();
    let threads = setup.threads();
    let flash_attention = args.flash_attn.map(|f| matches!(f, OnOff::On));
    let parallel = args.parallel.iter().copied().max().unwrap_or(1).max(2);
    let config = EngineConfig {
        threads: Some(threads),
        // Room for the prefill test, or for a 10-turn chat.
        context_size: ((args.prompt_tokens + args.gen_tokens + 64) as u32).max(if args.turns.is_empty() {
            0
        } else {
            2048
        }),
        parallel,
        // llama-bench's default micro-batch; prompts are prefilled in chunks of this size.
        batch_size: 512,
        flash_attention,
        chat_template: setup.chat_template.clone(),
        ..EngineConfig::new(&model)
    };
    let spec = BenchSpec {
        prompt_tokens: args.prompt_tokens,
        gen_tokens: args.gen_tokens,
        repetitions: args.repetitions,
        parallel: args.parallel.clone(),
        turns: args.turns.clone(),
    };

    // The anchors run first, alone, so nothing competes for the cores.
    let anchor = match &args.anchor {
        Some(path) => {
            eprintln!("running {} …", path.display());
            run_anchor(path, &model, threads, flash_attention, &spec)?
        }
        None => Vec::new(),
    };
    let batched_anchor = match &args.batched_anchor {
        Some(path) if !spec.parallel.is_empty() && spec.gen_tokens > 0 => {
            eprintln!("running {} …", path.display());
            run_batched_anchor(path, &model, threads, flash_attention, &spec)?
        }
        _ => Vec::new(),
    };
    eprintln!("loading {} …", model.display());
    let engine = Engine::start(config.clone()).await?;
    eprintln!("measuring ({} repetitions) …", spec.repetitions);
    let results = measure::run(&engine, &spec).await?;
    let turns = if spec.turns.is_empty() {
        Vec::new()
    } else {
        eprintln!("chat turns {:?} …", spec.turns);
        measure::chat_turns(&engine, &spec.turns).await?
    };
    drop(engine);

    let report = Report {
        model,
        threads,
        batch_size: config.batch_size,
        flash_attention,
        bantam: results,
        anchor,
        batched_anchor,
        turns,
    };
    args.output.write(&report)?;
    if !args.output.json {
        print_table(&report);
    }
    Ok(0)
}

fn print_table(report: &Report) {
    println!(
        "model {} · {} threads · batch {} · flash attention {}",
        report.model.display(),
        report.threads,
        report.batch_size,
        report.flash_attention.map_or("auto", |f| if f { "on" } else { "off" })
    );
    println!(
        "{:<12} {:>22} {:>22} {:>8}",
        "test", "bantam t/s", "anchor t/s", "ratio"
    );
    for r in &report.bantam {
        let anchor = if r.sequences == 1 {
            report
                .anchor
                .iter()
                .find(|a| a.test() == r.test)
                .map(|a| (a.avg_ts, a.stddev_ts))
        } else {
            report
                .batched_anchor
                .iter()
                .find(|a| a.pl == r.sequences)
                .map(|a| (a.speed_tg, 0.0))
        };
        let (anchor_col, ratio) = match anchor {
            Some((mean, sd)) => (format!("{mean:.1} ± {sd:.1}"), format!("{:.2}", r.mean / mean)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<12} {:>22} {:>22} {:>8}",
            r.test,
            format!("{:.1} ± {:.1}", r.mean, r.stddev),
            anchor_col,
            ratio
        );
    }
    if !report.turns.is_empty() {
        println!();
        println!(
            "{:<6} {:>14} {:>16} {:>16} {:>8}",
            "turn", "prompt tokens", "TTFT reuse ms", "TTFT fresh ms", "ratio"
        );
        for t in &report.turns {
            println!(
                "{:<6} {:>14} {:>16.1} {:>16.1} {:>8.2}",
                t.turn,
                t.prompt_tokens,
                t.ttft_reuse_ms,
                t.ttft_fresh_ms,
                t.ratio()
            );
        }
    }
}
