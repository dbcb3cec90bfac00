//! `bantam bench download FILE`: the model manager's download speed. The file is served
//! from a loopback server in this process, so the figure is Bantam's own overhead (HTTP,
//! hashing, writing, llama.cpp's load check) next to `curl` on the same server.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use bantam_core::units::human_bytes;
use bantam_core::Store;
use bantam_fetch::{Downloader, Phase};
use bantam_testkit::{FileServer, ServeOptions};
use serde_json::json;
use tokio::sync::watch;

#[derive(clap::Args, Debug)]
pub struct DownloadArgs {
    /// The file to serve and download (a GGUF: the download ends with llama.cpp's check)
    pub file: PathBuf,
    /// Runs of each (best of), at most 5
    #[arg(short = 'r', long, default_value_t = 3)]
    pub repetitions: usize,
    /// One JSON object instead of lines
    #[arg(long)]
    pub json: bool,
}

/// Best of `repetitions` runs each, Bantam's downloader then curl, same file, same server.
pub async fn run(args: &DownloadArgs) -> Result<u8> {
    let (file, repetitions, json_out) = (args.file.as_path(), args.repetitions.clamp(1, 5), args.json);
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
