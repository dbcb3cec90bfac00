//! `bantam bench tasks`: the tasks' throughput, each Bantam's way against the plain way.
//! Ingest is extraction + token-aware chunking (no model run), as documents per minute
//! and pages per second; the summary bench times the map stage of one long document with
//! every chunk in the engine's batch against one chunk at a time; triage runs the same
//! mail one at a time (whole prompts, then the shared prefix reused) and batched. Each
//! run is on a fresh store, so nothing is cached.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use bantam_core::engine::Tokenizer;
use bantam_core::ingest::{self, Chunker};
use bantam_core::mail::{read_source, MailSource};
use bantam_core::tasks::documents::{DocumentEvent, DocumentOptions, DocumentService, SummaryLength, Target};
use bantam_core::tasks::triage::{DecidedBy, TriageOptions, TriageService};
use bantam_core::{Engine, EngineConfig, Store};
use serde::Serialize;
use serde_json::json;

use crate::{Output, Setup};

#[derive(clap::Args, Debug)]
pub struct TasksArgs {
    /// Document ingest throughput (extract + chunk) over these files
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub ingest: Vec<PathBuf>,
    /// Map stage of this long document's summary, batched vs one chunk at a time
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Chunk size for --summary
    #[arg(long, default_value_t = 512, value_name = "TOKENS")]
    pub chunk_tokens: usize,
    /// Email triage of these .eml files, one message at a time vs batched
    #[arg(long, num_args = 1.., value_name = "FILE.eml")]
    pub triage: Vec<PathBuf>,
    /// Engine slots for --summary (default 4) and --triage (default: as many as triage
    /// keeps in flight)
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    /// Repetitions of the ingest run (best of)
    #[arg(short = 'r', long, default_value_t = 3)]
    pub repetitions: usize,
    #[command(flatten)]
    pub output: Output,
}

pub async fn run(setup: &Setup, args: &TasksArgs) -> Result<u8> {
    if args.ingest.is_empty() && args.summary.is_none() && args.triage.is_empty() {
        anyhow::bail!("nothing to measure: give --ingest FILE…, --summary FILE or --triage FILE.eml…");
    }
    let json_out = args.output.json;
    let mut report = serde_json::Map::new();
    if !args.ingest.is_empty() {
        let r = ingest(&setup.model, &args.ingest, args.repetitions)?;
        if !json_out {
            println!(
                "ingest: {} files ({} refused), {} PDF pages in {:.2} s — {:.0} documents/min, {:.0} pages/s",
                r.files, r.failed, r.pages, r.seconds, r.documents_per_minute, r.pages_per_second
            );
        }
        report.insert("ingest".into(), serde_json::to_value(r)?);
    }
    if let Some(file) = &args.summary {
        let config = EngineConfig {
            threads: Some(setup.threads()),
            ..setup.config(args.parallel.unwrap_or(4))
        };
        let r = summary(config, file, args.chunk_tokens).await?;
        if !json_out {
            print_summary(&r);
        }
        report.insert("summary".into(), serde_json::to_value(r)?);
    }
    if !args.triage.is_empty() {
        let slots = args.parallel.unwrap_or(TriageOptions::default().window);
        let engine = Engine::start(setup.config(slots)).await?;
        let r = triage(engine, &args.triage).await?;
        if !json_out {
            print_triage(&r);
        }
        report.insert("triage".into(), r);
    }
    args.output.write(&serde_json::Value::Object(report))?;
    Ok(0)
}

/// `bench all`, after the engine rows: email triage of 64 files of real mail and a long
/// document's summary map, on the corpus of scripts/fetch-corpus.sh.
pub async fn on_corpus(setup: &Setup, output: &Output) -> Result<u8> {
    let corpus = bantam_testkit::corpus_dir();
    if !bantam_testkit::corpus_complete(&corpus) {
        eprintln!(
            "no corpus at {}: run scripts/fetch-corpus.sh for the triage and summary rows",
            corpus.display()
        );
        return Ok(0);
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
    let config = |parallel| EngineConfig {
        threads: Some(setup.threads()),
        context_size: 2048,
        ..setup.config(parallel)
    };
    println!();
    eprintln!("email triage of {} files …", mails.len());
    // As many slots as triage keeps requests in flight (`TriageOptions::window`).
    let engine = Engine::start(config(TriageOptions::default().window)).await?;
    let t = triage(engine.clone(), &mails).await?;
    engine.shutdown(std::time::Duration::ZERO).await;
    println!();
    let pdf = corpus.join("fhs-3.0.pdf");
    eprintln!("summary map of {} …", pdf.display());
    let s = summary(config(4), &pdf, 512).await?;
    if output.json {
        println!("{}", json!({ "triage": t, "summary": s }));
    } else {
        print_triage(&t);
        print_summary(&s);
    }
    Ok(0)
}

fn print_summary(r: &SummaryBench) {
    println!(
        "summary map of {} ({} chunks, {} slots): batched {:.1} s, one at a time {:.1} s — {:.2}x",
        r.file.display(),
        r.chunks,
        r.slots,
        r.batched_map_seconds,
        r.sequential_map_seconds,
        r.speedup
    );
}

#[derive(Serialize)]
pub struct IngestBench {
    pub files: usize,
    pub failed: usize,
    pub pages: usize,
    pub paged_seconds: f64,
    pub seconds: f64,
    pub documents_per_minute: f64,
    pub pages_per_second: f64,
}

fn ingest(model: &Path, files: &[PathBuf], repetitions: usize) -> Result<IngestBench> {
    let tokenizer = Tokenizer::load(model)?;
    let chunker = Chunker::default();
    let mut best: Option<IngestBench> = None;
    for _ in 0..repetitions.max(1) {
        let (mut pages, mut failed, mut paged_seconds) = (0, 0, 0.0);
        let start = Instant::now();
        for file in files {
            let t = Instant::now();
            match ingest::ingest_file(file, ingest::DEFAULT_MAX_BYTES) {
                Ok(doc) => {
                    let chunks = chunker.chunk(&doc.extracted, &tokenizer);
                    std::hint::black_box(chunks);
                    if let Some(p) = doc.extracted.pages() {
                        pages += p;
                        paged_seconds += t.elapsed().as_secs_f64();
                    }
                }
                Err(_) => failed += 1,
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let run = IngestBench {
            files: files.len(),
            failed,
            pages,
            paged_seconds,
            seconds,
            documents_per_minute: files.len() as f64 / seconds * 60.0,
            pages_per_second: if paged_seconds > 0.0 {
                pages as f64 / paged_seconds
            } else {
                0.0
            },
        };
        if best.as_ref().is_none_or(|b| run.seconds < b.seconds) {
            best = Some(run);
        }
    }
    best.ok_or_else(|| anyhow::anyhow!("no run"))
}

#[derive(Serialize)]
pub struct SummaryBench {
    pub file: PathBuf,
    pub chunks: usize,
    pub slots: usize,
    pub batched_map_seconds: f64,
    pub sequential_map_seconds: f64,
    pub speedup: f64,
    pub batched_total_seconds: f64,
    pub sequential_total_seconds: f64,
}

async fn summary(config: EngineConfig, file: &Path, chunk_tokens: usize) -> Result<SummaryBench> {
    let slots = config.parallel;
    let engine = Engine::start(config).await?;
    let mut times = Vec::new();
    for concurrency in [None, Some(1)] {
        let dir = std::env::temp_dir().join(format!("bantam-bench-{}-{}", std::process::id(), times.len()));
        let store = Store::open(&dir.join("bench.sqlite3")).await?;
        let docs = DocumentService::new(
            engine.clone(),
            store.clone(),
            DocumentOptions {
                chunk_tokens: Some(chunk_tokens),
                map_concurrency: concurrency,
                ..DocumentOptions::default()
            },
        );
        let start = Instant::now();
        let mut run = docs.summarize(Target::Path(file.to_path_buf()), SummaryLength::Short, false);
        let (mut map_start, mut map_end, mut chunks) = (None, None, 0);
        loop {
            match run.next().await {
                Some(DocumentEvent::Mapped { done, total }) => {
                    chunks = total;
                    if done == 0 {
                        map_start = Some(Instant::now());
                    }
                    if done == total {
                        map_end = Some(Instant::now());
                    }
                }
                Some(DocumentEvent::Done(_)) => break,
                Some(DocumentEvent::Failed(e)) => return Err(e.into()),
                Some(_) => {}
                None => anyhow::bail!("the summary stopped"),
            }
        }
        let total = start.elapsed().as_secs_f64();
        let map = match (map_start, map_end) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => anyhow::bail!("{} fits one chunk: no map stage to time", file.display()),
        };
        eprintln!(
            "{}: map {map:.1} s, total {total:.1} s, {chunks} chunks",
            if concurrency.is_none() {
                "batched"
            } else {
                "one at a time"
            }
        );
        times.push((map, total, chunks));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (bm, bt, chunks) = times[0];
    let (sm, st, _) = times[1];
    Ok(SummaryBench {
        file: file.to_path_buf(),
        chunks,
        slots,
        batched_map_seconds: bm,
        sequential_map_seconds: sm,
        speedup: sm / bm,
        batched_total_seconds: bt,
        sequential_total_seconds: st,
    })
}

/// The three ways triage is timed: (report key, label, one at a time, prefix reused).
const MODES: [(&str, &str, bool, bool); 3] = [
    ("one_at_a_time", "one at a time", true, false),
    (
        "one_at_a_time_prefix_reused",
        "one at a time, prefix reused",
        true,
        true,
    ),
    ("batched", "batched", false, true),
];

/// Messages per second triaging the same mailbox three ways, each on a fresh store (so
/// nothing is cached) with the same engine: one message at a time computing every prompt
/// whole (what calling a model per message does), one at a time reusing the shared
/// instructions' KV cache, and Bantam's batched run.
async fn triage(engine: Engine, files: &[PathBuf]) -> Result<serde_json::Value> {
    let messages: Vec<_> = read_source(&MailSource::Files { paths: files.to_vec() })?
        .into_iter()
        .filter_map(|r| r.ok())
        .collect();
    let mut results = Vec::new();
    let mut by_model = 0usize;
    for (_, _, sequential, cache_prompt) in MODES {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("bench.sqlite3")).await?;
        let options = TriageOptions {
            cache_prompt,
            ..TriageOptions::default()
        };
        let service = TriageService::with_options(engine.clone(), store, options);
        let mut failed = 0usize;
        by_model = 0;
        engine.forget_prompts().await?;
        let start = Instant::now();
        service
            .triage(messages.clone(), sequential, |o| match o {
                Ok(t) if t.record.decided_by == DecidedBy::Model => by_model += 1,
                Ok(_) => {}
                Err(_) => failed += 1,
            })
            .await?;
        results.push((start.elapsed().as_secs_f64(), failed));
    }
    let rate = |secs: f64| messages.len() as f64 / secs;
    let batched = results[2].0;
    let mut report = json!({"messages": messages.len(), "by_model": by_model});
    for ((key, _, _, _), (secs, failed)) in MODES.iter().zip(&results) {
        report[*key] = json!({"seconds": secs, "per_s": rate(*secs), "failed": failed,
                              "batched_speedup": secs / batched});
    }
    Ok(report)
}

fn print_triage(r: &serde_json::Value) {
    println!("triage of {} messages ({} by the model)", r["messages"], r["by_model"]);
    for (key, label, _, _) in MODES {
        let m = &r[key];
        let failed = m["failed"].as_u64().unwrap_or(0);
        println!(
            "  {:<30} {:>6.1} s  {:>5.2} messages/s  batched is {:.2}×{}",
            label,
            m["seconds"].as_f64().unwrap_or(0.0),
            m["per_s"].as_f64().unwrap_or(0.0),
            m["batched_speedup"].as_f64().unwrap_or(0.0),
            if failed > 0 {
                format!("  ({failed} failed)")
            } else {
                String::new()
            }
        );
    }
}
