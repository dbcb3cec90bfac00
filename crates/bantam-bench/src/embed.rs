//! `bantam bench embed`: sentence embeddings through Bantam's embedder, texts per second
//! batched (one call for all) and one at a time, next to llama.cpp's `llama-embedding` on
//! the same GGUF and threads. The anchor is timed twice in this run — once on every text,
//! once on one — and the difference is its rate, so its model load does not count.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bantam_core::embed::{EmbedConfig, Embedder};
use clap::Args;
use serde::Serialize;

use crate::Output;

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// The embedding model (a GGUF with pooling, e.g. from models/fetch-embedding-model.sh)
    #[arg(long, value_name = "GGUF")]
    pub embed_model: PathBuf,
    /// Texts to embed (sentences of about 25 words)
    #[arg(long, default_value_t = 256)]
    pub texts: usize,
    /// CPU threads for both (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// llama.cpp's llama-embedding (default: from ~/.cache/bantam-anchor)
    #[arg(long, value_name = "PATH")]
    pub anchor: Option<PathBuf>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Serialize)]
struct Report {
    model: String,
    threads: usize,
    texts: usize,
    batched_per_s: f64,
    one_at_a_time_per_s: f64,
    llama_embedding_per_s: Option<f64>,
    ratio_to_llama_embedding: Option<f64>,
    anchor: Option<String>,
}

const WORDS: [&str; 24] = [
    "the",
    "invoice",
    "meeting",
    "garden",
    "report",
    "quietly",
    "arrived",
    "before",
    "lunch",
    "with",
    "several",
    "questions",
    "about",
    "budget",
    "river",
    "train",
    "delayed",
    "because",
    "of",
    "snow",
    "and",
    "a",
    "new",
    "policy",
];

/// Deterministic sentences of 20–30 words, each different.
fn sentences(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let len = 20 + i % 11;
            let words: Vec<&str> = (0..len).map(|j| WORDS[(i * 7 + j * j * 3 + j) % WORDS.len()]).collect();
            format!("Note {i}: {}.", words.join(" "))
        })
        .collect()
}

pub async fn run(args: &EmbedArgs) -> Result<u8> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let texts = sentences(args.texts.max(2));
    let anchor = args
        .anchor
        .clone()
        .or_else(|| crate::anchor::default_anchor("llama-embedding"));
    // The anchor first, alone on the cores.
    let llama = match &anchor {
        Some(bin) => Some(anchor_rate(bin, args, threads, &texts)?),
        None => {
            eprintln!(
                "no llama-embedding found: EXTRA=1 scripts/anchor/build-llama-tools.sh builds it (or pass --anchor)"
            );
            None
        }
    };
    let embedder = Embedder::start(EmbedConfig {
        threads: Some(threads),
        ..EmbedConfig::new(&args.embed_model)
    })
    .await?;
    embedder.embed(texts[..8].to_vec()).await?; // warm-up
    let started = Instant::now();
    embedder.embed(texts.clone()).await?;
    let batched = texts.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for t in &texts {
        embedder.embed_one(t).await?;
    }
    let single = texts.len() as f64 / started.elapsed().as_secs_f64();
    let report = Report {
        model: embedder.info().name.clone(),
        threads,
        texts: texts.len(),
        batched_per_s: batched,
        one_at_a_time_per_s: single,
        llama_embedding_per_s: llama,
        ratio_to_llama_embedding: llama.map(|l| batched / l),
        anchor: anchor.map(|a| a.display().to_string()),
    };
    if !args.out.json {
        println!("{} · {} threads · {} texts", report.model, threads, report.texts);
        println!("  batched          {batched:8.1} texts/s");
        println!(
            "  one at a time    {single:8.1} texts/s  ({:.2}× batched)",
            single / batched
        );
        if let Some(l) = llama {
            println!(
                "  llama-embedding  {l:8.1} texts/s  (Bantam batched {:.2}×)",
                batched / l
            );
        }
    }
    args.out.write(&report)?;
    Ok(0)
}

/// llama-embedding's texts per second: on all texts and on one, the difference.
fn anchor_rate(bin: &std::path::Path, args: &EmbedArgs, threads: usize, texts: &[String]) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let time = |texts: &[String]| -> Result<f64> {
        let file = dir.path().join("texts.txt");
        std::fs::write(&file, texts.join("\n"))?;
        let started = Instant::now();
        let out = Command::new(bin)
            .arg("-m")
            .arg(&args.embed_model)
            .arg("-f")
            .arg(&file)
            .args([
                "-t",
                &threads.to_string(),
                "-b",
                "512",
                "-ub",
                "512",
                "--embd-normalize",
                "2",
            ])
            .args(["--embd-output-format", "json"])
            .output()
            .with_context(|| format!("starting {}", bin.display()))?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                bin.display(),
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
            );
        }
        Ok(started.elapsed().as_secs_f64())
    };
    let one = time(&texts[..1])?;
    let all = time(texts)?;
    Ok((texts.len() - 1) as f64 / (all - one).max(1e-6))
}
