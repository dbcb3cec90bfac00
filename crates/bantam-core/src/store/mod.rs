//! The store owns the SQLite database: WAL mode, foreign keys on, versioned migrations
//! embedded in the binary. Everything else reaches the data through its repositories.

mod conversations;
mod documents;
mod downloads;
mod jobs;
mod mail;
mod memories;
mod models;
mod search;
pub mod settings;
mod vectors;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use conversations::{Conversation, MessageStats, SearchHit, StoredMessage};
pub use documents::{NewDocument, StoredChunk, StoredDocument, StoredSummary};
pub use downloads::{DownloadRow, DownloadStatus, NewDownload};
pub use jobs::{Job, JobState};
pub use mail::{Correction, InboxRow, StoredTriage};
pub use memories::{Memory, MemoryStatus};
pub use models::ImportedModel;
pub use search::{query_terms, ChunkMatch, HitSource, SourceKind, StoredVector, Unembedded};
pub use vectors::{VectorMatrix, VectorRow};

use crate::error::{Error, Result};

/// Every migration, in order; applied on open.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    vectors_cache: vectors::VectorCache,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let store = Self::open_unmigrated(path).await?;
        // Two processes opening a new database at once (the app and the CLI) race on the
        // first migration; the loser's transaction rolls back, and a retry sees the
        // winner's work as applied.
        let mut tries = 0;
        loop {
            match MIGRATOR.run(&store.pool).await {
                Ok(()) => return Ok(store),
                Err(_) if tries < 3 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Opens without migrating: for tests that start from an older schema.
    pub async fn open_unmigrated(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            vectors_cache: vectors::VectorCache::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Applied migration versions, oldest first.
    pub async fn schema_versions(&self) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
