//! The app's download queue: one download at a time, in the order asked, others waiting;
//! pause, resume and remove; every change broadcast as a [`DownloadUpdate`]. Downloads a
//! quit or crash interrupted go back in the queue at the next start.

use std::sync::{Arc, Mutex};

use bantam_core::store::{DownloadRow, DownloadStatus, NewDownload};
use serde::Serialize;
use tokio::sync::{broadcast, watch, Notify};

use crate::download::{Downloader, Phase, Progress};
use crate::error::{DownloadError, Result};

/// One download's state for the UI: the row's status plus live progress while running.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DownloadUpdate {
    pub id: i64,
    pub file_name: String,
    pub catalog_id: Option<String>,
    pub status: DownloadStatus,
    pub phase: Option<Phase>,
    pub downloaded: u64,
    pub total: Option<u64>,
    pub rate: f64,
    pub eta_seconds: Option<f64>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub error_kind: Option<String>,
}

impl DownloadUpdate {
    pub fn from_row(row: &DownloadRow) -> Self {
        Self {
            id: row.id,
            file_name: row.file_name.clone(),
            catalog_id: row.catalog_id.clone(),
            status: row.status,
            phase: None,
            downloaded: row.downloaded_bytes.max(0) as u64,
            total: row.total_bytes.map(|t| t as u64),
            rate: 0.0,
            eta_seconds: None,
            notice: None,
            error: row.error.clone(),
            error_kind: row.error_kind.clone(),
        }
    }

    fn progress(row: &DownloadRow, p: &Progress) -> Self {
        Self {
            status: DownloadStatus::Downloading,
            phase: Some(p.phase),
            downloaded: p.downloaded,
            total: p.total,
            rate: p.rate,
            eta_seconds: p.eta_seconds,
            notice: p.notice.clone(),
            ..Self::from_row(row)
        }
    }
}

struct Inner {
    downloader: Downloader,
    updates: broadcast::Sender<DownloadUpdate>,
    wake: Notify,
    /// The running download and the switch that pauses it.
    current: Mutex<Option<(i64, watch::Sender<bool>)>>,
}

#[derive(Clone)]
pub struct DownloadQueue {
    inner: Arc<Inner>,
}

impl DownloadQueue {
    /// Starts the queue's worker on the current tokio runtime; interrupted downloads are
    /// queued again first.
    pub async fn start(downloader: Downloader) -> Result<Self> {
        downloader.store().requeue_interrupted_downloads().await?;
        let (updates, _) = broadcast::channel(256);
        let queue = Self {
            inner: Arc::new(Inner {
                downloader,
                updates,
                wake: Notify::new(),
                current: Mutex::new(None),
            }),
        };
        let worker = queue.clone();
        tokio::spawn(async move { worker.work().await });
        Ok(queue)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DownloadUpdate> {
        self.inner.updates.subscribe()
    }

    pub fn downloader(&self) -> &Downloader {
        &self.inner.downloader
    }

    pub async fn list(&self) -> Result<Vec<DownloadUpdate>> {
        Ok(self
            .inner
            .downloader
            .store()
            .list_downloads()
            .await?
            .iter()
            .map(DownloadUpdate::from_row)
            .collect())
    }

    /// Queues a catalogue model or URL (see [`Downloader::resolve`]).
    pub async fn pull(&self, name_or_url: &str, sha256: Option<&str>) -> Result<DownloadUpdate> {
        let new = self.inner.downloader.resolve(name_or_url, sha256)?;
        self.enqueue(&new).await
    }

    pub async fn enqueue(&self, new: &NewDownload) -> Result<DownloadUpdate> {
        let row = self.inner.downloader.store().queue_download(new).await?;
        // A finished download whose file was deleted is fetched again.
        let row = if row.status == DownloadStatus::Done && !self.inner.downloader.final_path(&row).is_file() {
            self.inner.downloader.forget(&row).await?;
            self.inner.downloader.store().queue_download(new).await?
        } else {
            row
        };
        self.announce(&row);
        self.inner.wake.notify_one();
        Ok(DownloadUpdate::from_row(&row))
    }

    /// Pauses a running or queued download; its partial file stays for a resume.
    pub async fn pause(&self, id: i64) -> Result<()> {
        if self.stop_current(id) {
            return Ok(());
        }
        let store = self.inner.downloader.store();
        let row = store.download(id).await?;
        if row.status == DownloadStatus::Queued {
            store.set_download_status(id, DownloadStatus::Paused).await?;
            self.announce(&store.download(id).await?);
        }
        Ok(())
    }

    /// Queues a paused or failed download again; it resumes from its partial file.
    pub async fn resume(&self, id: i64) -> Result<DownloadUpdate> {
        let row = self.inner.downloader.store().download(id).await?;
        self.enqueue(&NewDownload {
            url: row.url,
            file_name: row.file_name,
            catalog_id: row.catalog_id,
            sha256: row.sha256,
        })
        .await
    }

    /// Stops a download and deletes its partial file and its entry.
    pub async fn remove(&self, id: i64) -> Result<()> {
        let store = self.inner.downloader.store();
        let row = store.download(id).await?;
        if self.stop_current(id) {
            // Wait for the worker to let go of the partial file.
            let mut updates = self.subscribe();
            while self.current_id() == Some(id) {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(200), updates.recv()).await;
            }
        }
        self.inner.downloader.forget(&row).await?;
        Ok(())
    }

    fn current_id(&self) -> Option<i64> {
        self.inner
            .current
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|(id, _)| *id))
    }

    fn stop_current(&self, id: i64) -> bool {
        let current = self.inner.current.lock().ok();
        match current.as_ref().and_then(|c| c.as_ref()) {
            Some((running, stop)) if *running == id => {
                let _ = stop.send(true);
                true
            }
            _ => false,
        }
    }

    fn announce(&self, row: &DownloadRow) {
        let _ = self.inner.updates.send(DownloadUpdate::from_row(row));
    }

    async fn work(self) {
        loop {
            let store = self.inner.downloader.store();
            let claimed = match store.claim_download().await {
                Ok(row) => row,
                Err(e) => {
                    tracing::warn!("download queue: {e}");
                    None
                }
            };
            let Some(row) = claimed else {
                self.inner.wake.notified().await;
                continue;
            };
            let (stop, cancel) = watch::channel(false);
            if let Ok(mut current) = self.inner.current.lock() {
                *current = Some((row.id, stop));
            }
            self.announce(&row);
            let updates = self.inner.updates.clone();
            let result = self
                .inner
                .downloader
                .run(&row, cancel, |p| {
                    let _ = updates.send(DownloadUpdate::progress(&row, p));
                })
                .await;
            if let Ok(mut current) = self.inner.current.lock() {
                *current = None;
            }
            match &result {
                Ok(path) => tracing::info!("downloaded {}", path.display()),
                Err(DownloadError::Cancelled) => {}
                Err(e) => tracing::warn!("download {} failed: {e}", row.file_name),
            }
            // Gone when it was removed while it ran.
            if let Ok(row) = store.download(row.id).await {
                self.announce(&row);
            }
        }
    }
}
