//! `bantam bench --download FILE` and `bantam bench --fit`: the model manager's numbers.
//! Downloads are served from a loopback server in this process, so the figure is
//! Bantam's own overhead (HTTP, hashing, writing) next to `curl` on the same server.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result};
use bantam_core::fit::{check_estimate, Budget};
use bantam_core::Store;
use bantam_fetch::testkit::{FileServer, ServeOptions};
use bantam_fetch::{Downloader, Phase};
use serde_json::json;
use tokio::sync::watch;

use crate::models::human_bytes;

/// Best of `repetitions` runs each, Bantam's downloader then curl, same file, same server.
pub async fn download(file: &Path, repetitions: usize, json_out: bool) -> Result<u8> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file needs a name")?
        .to_string();
    let size = std::fs::metadata(file)?.len();
    let server = FileServer::start(
        &[(&name, file)],
        ServeOptions {
            ranges: true,
            ..Default::default()
        },
    )
    .await?;
    let url = server.url(&name);
    let mut bantam = Vec::new();
    let mut transfer = Vec::new();
    let mut curl = Vec::new();
    for _ in 0..repetitions.max(1) {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("bench.sqlite3")).await?;
        let dl = Downloader::new(store.clone(), dir.path())?;
        store.queue_download(&dl.resolve(&url, None)?).await?;
        let row = store.claim_download().await?.context("queued download")?;
        let (_stop, cancel) = watch::channel(false);
        let start = Instant::now();
        let mut received = None;
        // Includes the sha256 and llama.cpp's load check, as a user's download does.
        dl.run(&row, cancel, |p| {
            if p.phase == Phase::Verifying && received.is_none() {
                received = Some(start.elapsed().as_secs_f64());
            }
        })
        .await?;
        bantam.push(start.elapsed().as_secs_f64());
        transfer.extend(received);

        let out = dir.path().join("curl.bin");
        let start = Instant::now();
        let curl_url = url.clone();
        // A blocking wait on its own thread, so the in-process server keeps serving.
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(["-sS", "-o"])
                .arg(&out)
                .arg(&curl_url)
                .status()
        })
        .await?;
        match status {
            Ok(s) if s.success() => curl.push(start.elapsed().as_secs_f64()),
            Ok(s) => anyhow::bail!("curl failed: {s}"),
            Err(e) => {
                eprintln!("no curl ({e}): the anchor is skipped");
            }
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let rate = |secs: f64| size as f64 / secs;
    let b = rate(best(&bantam));
    let c = (!curl.is_empty()).then(|| rate(best(&curl)));
    // Received, hashed and on disk, before the final check by llama.cpp.
    let t = rate(best(&transfer));
    if json_out {
        println!(
            "{}",
            json!({"file": file, "bytes": size, "bantam_bytes_per_s": b, "curl_bytes_per_s": c,
                   "bantam_transfer_bytes_per_s": t, "ratio": c.map(|c| b / c), "repetitions": repetitions})
        );
    } else {
        println!(
            "download of {} ({}) from 127.0.0.1, best of {repetitions}",
            name,
            human_bytes(size)
        );
        println!(
            "  bantam  {}/s to a usable model (sha256 and llama.cpp's check included)",
            human_bytes(b as u64)
        );
        println!("          {}/s received, hashed and written", human_bytes(t as u64));
        if let Some(c) = c {
            println!("  curl    {}/s", human_bytes(c as u64));
            println!("  ratio   {:.2}×", b / c);
        }
    }
    Ok(0)
}

/// The memory estimate next to the resident memory loading the model really added.
pub async fn fit(model: &Path, context_size: u32, json_out: bool) -> Result<u8> {
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

/// Messages per second triaging the same mailbox three ways, each on a fresh store (so
/// nothing is cached) with the same engine: one message at a time computing every prompt
/// whole (what calling a model per message does), one at a time reusing the shared
/// instructions' KV cache, and Bantam's batched run.
pub async fn triage(engine: bantam_core::Engine, files: &[std::path::PathBuf], json_out: bool) -> Result<u8> {
    use bantam_core::mail::{read_source, MailSource};
    use bantam_core::tasks::triage::{DecidedBy, TriageOptions, TriageService};
    let messages: Vec<_> = read_source(&MailSource::Files { paths: files.to_vec() })?
        .into_iter()
        .filter_map(|r| r.ok())
        .collect();
    let modes = [
        ("one_at_a_time", "one at a time", true, false),
        (
            "one_at_a_time_prefix_reused",
            "one at a time, prefix reused",
            true,
            true,
        ),
        ("batched", "batched", false, true),
    ];
    let mut results = Vec::new();
    let mut by_model = 0usize;
    for (_, _, sequential, cache_prompt) in modes {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("bench.sqlite3")).await?;
        let options = TriageOptions {
            cache_prompt,
            ..TriageOptions::default()
        };
        let service = TriageService::new(engine.clone(), store, options);
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
    if json_out {
        let mut report = json!({"messages": messages.len(), "by_model": by_model});
        for ((key, _, _, _), (secs, failed)) in modes.iter().zip(&results) {
            report[*key] = json!({"seconds": secs, "per_s": rate(*secs), "failed": failed,
                                  "batched_speedup": secs / batched});
        }
        println!("{report}");
    } else {
        println!("triage of {} messages ({by_model} by the model)", messages.len());
        for ((_, label, _, _), (secs, failed)) in modes.iter().zip(&results) {
            println!(
                "  {:<30} {:>6.1} s  {:>5.2} messages/s  batched is {:.2}×{}",
                label,
                secs,
                rate(*secs),
                secs / batched,
                if *failed > 0 {
                    format!("  ({failed} failed)")
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(0)
}
