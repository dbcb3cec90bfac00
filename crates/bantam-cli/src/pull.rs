//! `bantam models pull` and `bantam models downloads`: a download in the foreground with a
//! progress line (or JSON Lines), Ctrl-C to pause, the same command to resume.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use bantam_core::store::DownloadStatus;
use bantam_core::units::human_bytes;
use bantam_fetch::{DownloadError, DownloadUpdate, Downloader, Origin, Phase, Progress};
use serde_json::json;
use tokio::sync::watch;

use crate::context::Context;
use crate::exit;

pub async fn pull(ctx: &Context, name: &str, sha256: Option<&str>, origin: Origin, json: bool) -> Result<u8> {
    match fetch(ctx, name, sha256, origin, json).await? {
        Fetched::Done(_) => Ok(0),
        Fetched::Paused => Ok(exit::INTERRUPTED),
        Fetched::Failed(e) => fail(json, &e),
    }
}

pub enum Fetched {
    Done(PathBuf),
    Paused,
    Failed(DownloadError),
}

/// One download in the foreground, with its progress line; prints the path when done.
pub async fn fetch(ctx: &Context, name: &str, sha256: Option<&str>, origin: Origin, json: bool) -> Result<Fetched> {
    let dl = Downloader::new(ctx.store.clone(), ctx.data.models_dir())?;
    let new = match dl.resolve_from(name, sha256, origin) {
        Ok(n) => n,
        Err(e) => return Ok(Fetched::Failed(e)),
    };
    let row = ctx.store.queue_download(&new).await?;
    let target = dl.final_path(&row);
    if row.status == DownloadStatus::Done && target.is_file() {
        if json {
            println!(
                "{}",
                json!({"event": "done", "path": target, "already": true, "sha256": row.sha256})
            );
        } else {
            eprintln!("already downloaded");
            println!("{}", target.display());
        }
        return Ok(Fetched::Done(target));
    }
    // Ours now: the app's queue only takes queued downloads.
    ctx.store
        .set_download_status(row.id, DownloadStatus::Downloading)
        .await?;
    let (stop, cancel) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(true);
        }
    });
    let mut line = Line::new(json);
    let result = dl.run(&row, cancel, |p| line.show(p)).await;
    ctrl_c.abort();
    line.end();
    match result {
        Ok(path) => {
            let done = ctx.store.download(row.id).await?;
            if json {
                println!(
                    "{}",
                    json!({"event": "done", "path": path, "sha256": done.sha256, "bytes": done.total_bytes})
                );
            } else {
                eprintln!("downloaded and verified (sha256 {})", done.sha256.unwrap_or_default());
                println!("{}", path.display());
            }
            Ok(Fetched::Done(path))
        }
        Err(DownloadError::Cancelled) => {
            let row = ctx.store.download(row.id).await?;
            let total = row
                .total_bytes
                .map(|t| human_bytes(t as u64))
                .unwrap_or_else(|| "?".into());
            if json {
                println!(
                    "{}",
                    json!({"event": "paused", "downloaded": row.downloaded_bytes, "total": row.total_bytes})
                );
            } else {
                eprintln!(
                    "paused at {} of {total}; run the same command to resume",
                    human_bytes(row.downloaded_bytes as u64)
                );
            }
            Ok(Fetched::Paused)
        }
        Err(e) => Ok(Fetched::Failed(e)),
    }
}

pub fn fail(json: bool, e: &DownloadError) -> Result<u8> {
    if json {
        println!(
            "{}",
            json!({"event": "failed", "error": {"kind": e.kind(), "message": e.to_string()}})
        );
    } else {
        eprintln!("error: {e}");
    }
    Ok(exit::ERROR)
}

pub async fn downloads(ctx: &Context, json: bool, clear: bool) -> Result<u8> {
    let dl = Downloader::new(ctx.store.clone(), ctx.data.models_dir())?;
    let rows = ctx.store.list_downloads().await?;
    if clear {
        let mut n = 0;
        for row in rows.iter().filter(|r| r.status != DownloadStatus::Done) {
            dl.forget(row).await?;
            n += 1;
        }
        eprintln!("removed {n} unfinished downloads");
        return Ok(0);
    }
    let updates: Vec<DownloadUpdate> = rows.iter().map(DownloadUpdate::from_row).collect();
    if json {
        println!("{}", serde_json::to_string(&updates)?);
        return Ok(0);
    }
    if updates.is_empty() {
        eprintln!("no downloads yet: `bantam models pull ID`");
    }
    for u in updates {
        let size = u.total.map(human_bytes).unwrap_or_else(|| "?".into());
        let state = match u.status {
            DownloadStatus::Done => format!("done, {size}"),
            DownloadStatus::Failed => format!("failed: {}", u.error.unwrap_or_default()),
            s => format!(
                "{} at {} of {size}",
                format!("{s:?}").to_lowercase(),
                human_bytes(u.downloaded)
            ),
        };
        println!("{:>4}  {:<44} {state}", u.id, u.file_name);
    }
    Ok(0)
}

/// The progress display: one rewritten line on a terminal, JSON Lines with --json, and a
/// line every ten seconds otherwise (logs stay short).
struct Line {
    json: bool,
    tty: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Line {
    fn new(json: bool) -> Self {
        Self {
            json,
            tty: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    fn show(&mut self, p: &Progress) {
        if let Some(notice) = &p.notice {
            self.end();
            eprintln!("note: {notice}");
        }
        if self.json {
            let value = json!({"event": "progress", "phase": p.phase, "downloaded": p.downloaded,
                "total": p.total, "rate": p.rate.round(), "eta_seconds": p.eta_seconds.map(f64::round),
                "resumed_from": p.resumed_from});
            println!("{value}");
            return;
        }
        let due = self.last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10));
        if !self.tty && !due && p.phase == Phase::Downloading {
            return;
        }
        self.last = Some(Instant::now());
        let text = match p.phase {
            Phase::Checking => format!("checking the {} already here", human_bytes(p.downloaded)),
            Phase::Verifying => "verifying sha256".to_string(),
            Phase::Done => "done".to_string(),
            Phase::Downloading => {
                let of = p.total.map(|t| format!(" of {}", human_bytes(t))).unwrap_or_default();
                let pct = p
                    .total
                    .filter(|t| *t > 0)
                    .map(|t| format!("{:>3}% ", p.downloaded * 100 / t))
                    .unwrap_or_default();
                let eta = p
                    .eta_seconds
                    .map(|s| format!(", {}s left", s.round()))
                    .unwrap_or_default();
                format!(
                    "{pct}{}{of} at {}/s{eta}",
                    human_bytes(p.downloaded),
                    human_bytes(p.rate as u64)
                )
            }
        };
        if self.tty {
            eprint!("\r\x1b[2K{} {text}", p.file_name);
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else {
            eprintln!("{} {text}", p.file_name);
        }
    }

    fn end(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}
