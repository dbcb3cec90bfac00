//! `bantam bench`: prefill and decode speed through Bantam's engine, optionally next to
//! llama.cpp's own `llama-bench` run in the same invocation, reported as a ratio.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use bantam_core::bench::{self, BenchResult, BenchSpec};
use bantam_core::{Engine, EngineConfig};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
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
    /// Run llama.cpp's `llama-bench` at this path with the same settings and print ratios
    #[arg(long, value_name = "PATH")]
    pub anchor: Option<PathBuf>,
    /// One JSON object instead of a table
    #[arg(long)]
    pub json: bool,
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
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct AnchorResult {
    n_prompt: usize,
    n_gen: usize,
    avg_ts: f64,
    stddev_ts: f64,
}

impl AnchorResult {
    fn test(&self) -> String {
        if self.n_prompt > 0 {
            format!("pp{}", self.n_prompt)
        } else {
            format!("tg{}", self.n_gen)
        }
    }
}

pub async fn run(global: &Global, args: BenchArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let model = ctx.model_path().await?;
    let threads = global
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let flash_attention = args.flash_attn.map(|f| matches!(f, OnOff::On));
    let parallel = args.parallel.iter().copied().max().unwrap_or(1).max(1);
    let config = EngineConfig {
        threads: Some(threads),
        context_size: (args.prompt_tokens + args.gen_tokens + 64) as u32,
        parallel,
        // llama-bench's default micro-batch; prompts are prefilled in chunks of this size.
        batch_size: 512,
        flash_attention,
        chat_template: global.chat_template.clone(),
        ..EngineConfig::new(&model)
    };
    let spec = BenchSpec {
        prompt_tokens: args.prompt_tokens,
        gen_tokens: args.gen_tokens,
        repetitions: args.repetitions,
        parallel: args.parallel.clone(),
    };

    // The anchor runs first, alone, so the two never compete for the cores.
    let anchor = match &args.anchor {
        Some(path) => {
            eprintln!("running {} …", path.display());
            run_anchor(path, &model, threads, flash_attention, &spec)?
        }
        None => Vec::new(),
    };
    eprintln!("loading {} …", model.display());
    let engine = Engine::start(config.clone()).await?;
    eprintln!("measuring ({} repetitions) …", spec.repetitions);
    let results = bench::run(&engine, &spec).await?;
    drop(engine);

    let report = Report {
        model,
        threads,
        batch_size: config.batch_size,
        flash_attention,
        bantam: results,
        anchor,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(0);
    }
    println!(
        "model {} · {} threads · batch {} · flash attention {}",
        report.model.display(),
        threads,
        report.batch_size,
        flash_attention.map_or("auto", |f| if f { "on" } else { "off" })
    );
    println!(
        "{:<12} {:>22} {:>22} {:>8}",
        "test", "bantam t/s", "llama-bench t/s", "ratio"
    );
    for r in &report.bantam {
        let anchor = report.anchor.iter().find(|a| a.test() == r.test);
        let (anchor_col, ratio) = match anchor {
            Some(a) => (
                format!("{:.1} ± {:.1}", a.avg_ts, a.stddev_ts),
                format!("{:.2}", r.mean / a.avg_ts),
            ),
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
    Ok(0)
}

fn run_anchor(
    bin: &PathBuf,
    model: &PathBuf,
    threads: usize,
    flash_attention: Option<bool>,
    spec: &BenchSpec,
) -> Result<Vec<AnchorResult>> {
    let mut cmd = Command::new(bin);
    cmd.arg("-m")
        .arg(model)
        .args(["-p", &spec.prompt_tokens.to_string()])
        .args(["-n", &spec.gen_tokens.to_string()])
        .args(["-r", &spec.repetitions.max(1).to_string()])
        .args(["-t", &threads.to_string()])
        .args(["-ub", "512", "-o", "json"]);
    if let Some(fa) = flash_attention {
        cmd.args(["-fa", if fa { "1" } else { "0" }]);
    }
    let out = cmd.output().with_context(|| format!("starting {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading {}'s JSON output", bin.display()))
}
