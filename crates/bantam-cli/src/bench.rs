//! `bantam bench`: prefill and decode speed through Bantam's engine, optionally next to
//! llama.cpp's own `llama-bench` run in the same invocation, reported as a ratio.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use bantam_core::bench::{self, BenchResult, BenchSpec, TurnResult};
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
    /// Time to first token at these turns of a growing chat, with and without prefix reuse
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    pub turns: Vec<usize>,
    /// Everything: -p 512 -n 128, --parallel 4,8,16, --turns 2,5,10, and the anchors from
    /// ~/.cache/bantam-anchor when they are there
    #[arg(long)]
    pub all: bool,
    /// Run llama.cpp's `llama-bench` at this path with the same settings and print ratios
    #[arg(long, value_name = "PATH")]
    pub anchor: Option<PathBuf>,
    /// Run llama.cpp's `llama-batched-bench` at this path for the --parallel figures
    #[arg(long, value_name = "PATH")]
    pub batched_anchor: Option<PathBuf>,
    /// Document ingest throughput (extract + chunk) over these files, instead of the model tests
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub ingest: Vec<PathBuf>,
    /// Map stage of this long document's summary, batched vs one chunk at a time
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Chunk size for --summary
    #[arg(long, default_value_t = 512, value_name = "TOKENS")]
    pub chunk_tokens: usize,
    /// Download throughput of this file from a loopback server, next to curl's
    #[arg(long, value_name = "FILE")]
    pub download: Option<PathBuf>,
    /// The memory-fit estimate of the model next to the memory loading it really takes
    #[arg(long)]
    pub fit: bool,
    /// Email triage of these .eml files, one message at a time vs batched
    #[arg(long, num_args = 1.., value_name = "FILE.eml")]
    pub triage: Vec<PathBuf>,
    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
    batched_anchor: Vec<BatchedAnchorResult>,
    turns: Vec<TurnResult>,
}

/// One line of `llama-batched-bench --output-format jsonl`.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct BatchedAnchorResult {
    pp: usize,
    tg: usize,
    pl: usize,
    speed_tg: f64,
    speed_pp: f64,
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

/// Where `../shared/bench/build-llama-tools.sh ~/.cache/bantam-anchor` puts the tools.
fn default_anchor(tool: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home)
        .join(".cache/bantam-anchor/llama.cpp/build/bin")
        .join(tool);
    path.is_file().then_some(path)
}

pub async fn run(global: &Global, mut args: BenchArgs) -> Result<u8> {
    if args.all {
        if args.parallel.is_empty() {
            args.parallel = vec![4, 8, 16];
        }
        if args.turns.is_empty() {
            args.turns = vec![2, 5, 10];
        }
        args.anchor = args.anchor.or_else(|| default_anchor("llama-bench"));
        args.batched_anchor = args.batched_anchor.or_else(|| default_anchor("llama-batched-bench"));
    }
    if let Some(file) = &args.download {
        return crate::bench_models::download(file, args.repetitions.min(5), args.json).await;
    }
    let ctx = Context::open(global).await?;
    let model = ctx.model_path().await?;
    if args.fit {
        return crate::bench_models::fit(&model, global.ctx_size, args.json).await;
    }
    if !args.triage.is_empty() {
        let engine = bantam_core::Engine::start(EngineConfig {
            threads: global.threads,
            context_size: global.ctx_size,
            parallel: args
                .parallel
                .iter()
                .copied()
                .max()
                .unwrap_or(bantam_core::tasks::triage::TriageOptions::default().window),
            ..EngineConfig::new(&model)
        })
        .await?;
        return crate::bench_models::triage(engine, &args.triage, args.json).await;
    }
    let threads = global
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !args.ingest.is_empty() || args.summary.is_some() {
        return documents(global, &args, &model, threads).await;
    }
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
        chat_template: global.chat_template.clone(),
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
    let results = bench::run(&engine, &spec).await?;
    let turns = if spec.turns.is_empty() {
        Vec::new()
    } else {
        eprintln!("chat turns {:?} …", spec.turns);
        bench::chat_turns(&engine, &spec.turns).await?
    };
    drop(engine);

    let report = Report {
        model: model.clone(),
        threads,
        batch_size: config.batch_size,
        flash_attention,
        bantam: results,
        anchor,
        batched_anchor,
        turns,
    };
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    if args.all {
        task_benches(global, &args, &model, threads).await?;
    }
    Ok(0)
}

/// `--all`, after the engine rows: email triage of 64 files of real email (one at a time
/// vs batched) and a long document's summary map, on the corpus of scripts/fetch-corpus.sh.
async fn task_benches(global: &Global, args: &BenchArgs, model: &Path, threads: usize) -> Result<()> {
    let corpus = bantam_core::paths::corpus_dir();
    if !bantam_core::paths::corpus_complete(&corpus) {
        eprintln!(
            "no corpus at {}: run scripts/fetch-corpus.sh for the triage and summary rows",
            corpus.display()
        );
        return Ok(());
    }
    let mut mails = Vec::new();
    for (dir, prefix) in [("mail", "mail_test_"), ("mail-python", "python-")] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(corpus.join(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
            .collect();
        found.sort();
        mails.extend(found);
    }
    // 66 files; 58 of them are mail (8 of CPython's are MIME fragments, refused).
    mails.truncate(64);
    println!();
    eprintln!("email triage of {} files …", mails.len());
    // As many slots as triage keeps requests in flight (`TriageOptions::window`).
    let engine = bantam_core::Engine::start(EngineConfig {
        threads: Some(threads),
        context_size: 2048,
        parallel: bantam_core::tasks::triage::TriageOptions::default().window,
        chat_template: global.chat_template.clone(),
        ..EngineConfig::new(model)
    })
    .await?;
    crate::bench_models::triage(engine.clone(), &mails, args.json).await?;
    engine.shutdown(std::time::Duration::ZERO).await;
    println!();
    let pdf = corpus.join("fhs-3.0.pdf");
    eprintln!("summary map of {} …", pdf.display());
    let config = EngineConfig {
        threads: Some(threads),
        context_size: 2048,
        parallel: 4,
        chat_template: global.chat_template.clone(),
        ..EngineConfig::new(model)
    };
    let r = crate::bench_docs::summary(config, &pdf, 512).await?;
    if args.json {
        println!("{}", serde_json::json!({ "summary": r }));
    } else {
        println!(
            "summary map of {} ({} chunks, {} slots): batched {:.1} s, one at a time {:.1} s — {:.2}x",
            pdf.display(),
            r.chunks,
            r.slots,
            r.batched_map_seconds,
            r.sequential_map_seconds,
            r.speedup
        );
    }
    Ok(())
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

fn run_tool(mut cmd: Command, bin: &Path) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("starting {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    Ok(out)
}

/// The anchor tools sit beside their shared libraries.
fn anchor_command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    if let Some(dir) = bin.parent() {
        let mut path = std::ffi::OsString::from(dir);
        if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
            path.push(":");
            path.push(old);
        }
        cmd.env("LD_LIBRARY_PATH", path);
    }
    cmd
}

fn run_batched_anchor(
    bin: &Path,
    model: &Path,
    threads: usize,
    flash_attention: Option<bool>,
    spec: &BenchSpec,
) -> Result<Vec<BatchedAnchorResult>> {
    // Same shape as Bantam's tgNxK: a short prompt per sequence, then N tokens each.
    let npl: Vec<String> = spec.parallel.iter().map(|p| p.to_string()).collect();
    let max = spec.parallel.iter().copied().max().unwrap_or(1);
    let mut cmd = anchor_command(bin);
    cmd.arg("-m")
        .arg(model)
        .args(["-c", &(max * (spec.gen_tokens + 16)).to_string()])
        .args([
            "-npp",
            "8",
            "-ntg",
            &spec.gen_tokens.to_string(),
            "-npl",
            &npl.join(","),
        ])
        .args(["-t", &threads.to_string(), "-ub", "512", "--output-format", "jsonl"]);
    if let Some(fa) = flash_attention {
        cmd.args(["-fa", if fa { "on" } else { "off" }]);
    }
    let out = run_tool(cmd, bin)?;
    let text = [out.stdout, out.stderr].concat();
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

fn run_anchor(
    bin: &Path,
    model: &Path,
    threads: usize,
    flash_attention: Option<bool>,
    spec: &BenchSpec,
) -> Result<Vec<AnchorResult>> {
    let mut cmd = anchor_command(bin);
    cmd.arg("-m")
        .arg(model)
        .args(["-p", &spec.prompt_tokens.to_string()])
        .args(["-n", &spec.gen_tokens.to_string()])
        .args(["-r", &spec.repetitions.max(1).to_string()])
        .args(["-t", &threads.to_string()])
        .args(["-ub", "512", "-o", "json"]);
    if let Some(fa) = flash_attention {
        cmd.args(["-fa", if fa { "on" } else { "off" }]);
    }
    let out = run_tool(cmd, bin)?;
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading {}'s JSON output", bin.display()))
}

async fn documents(global: &Global, args: &BenchArgs, model: &Path, threads: usize) -> Result<u8> {
    let mut report = serde_json::Map::new();
    if !args.ingest.is_empty() {
        let r = crate::bench_docs::ingest(model, &args.ingest, args.repetitions)?;
        if !args.json {
            println!(
                "ingest: {} files ({} refused), {} PDF pages in {:.2} s — {:.0} documents/min, {:.0} pages/s",
                r.files, r.failed, r.pages, r.seconds, r.documents_per_minute, r.pages_per_second
            );
        }
        report.insert("ingest".into(), serde_json::to_value(r)?);
    }
    if let Some(file) = &args.summary {
        let config = EngineConfig {
            threads: Some(threads),
            context_size: global.ctx_size,
            parallel: args.parallel.first().copied().unwrap_or(4),
            chat_template: global.chat_template.clone(),
            ..EngineConfig::new(model)
        };
        let r = crate::bench_docs::summary(config, file, args.chunk_tokens).await?;
        if !args.json {
            println!(
                "summary map of {} ({} chunks, {} slots): batched {:.1} s, one at a time {:.1} s — {:.2}x",
                file.display(),
                r.chunks,
                r.slots,
                r.batched_map_seconds,
                r.sequential_map_seconds,
                r.speedup
            );
        }
        report.insert("summary".into(), serde_json::to_value(r)?);
    }
    let json = serde_json::Value::Object(report);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(0)
}
