//! `bantam bench --ingest FILE… --summary FILE`: document throughput. Ingest is
//! extraction + token-aware chunking (no model run), reported as documents per minute and
//! pages per second; the summary benchmark times the map stage of one long document with
//! every chunk in the engine's batch against one chunk at a time, each on a fresh store.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use bantam_core::engine::Tokenizer;
use bantam_core::ingest::{self, Chunker};
use bantam_core::tasks::documents::{DocumentEvent, DocumentOptions, DocumentService, SummaryLength, Target};
use bantam_core::{Engine, EngineConfig, Store};
use serde::Serialize;

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

pub fn ingest(model: &std::path::Path, files: &[PathBuf], repetitions: usize) -> Result<IngestBench> {
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

pub async fn summary(config: EngineConfig, file: &std::path::Path, chunk_tokens: usize) -> Result<SummaryBench> {
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
        )
        .await?;
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
