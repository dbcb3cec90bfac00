//! The stored vectors of one embedding model kept in memory between searches: one
//! contiguous matrix, read again only when `embeddings_version` (moved by triggers on every
//! change, from any process) says the file changed. Reading 100k windows from SQLite took
//! ~0.7 s a search; scanning them in memory takes milliseconds (docs/search.md).

use std::sync::{Arc, Mutex};

use super::search::{from_blob, SourceKind};
use super::Store;
use crate::error::Result;

/// Where a row of the matrix came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorRow {
    pub kind: SourceKind,
    pub source_id: i64,
    pub part: i64,
    pub window: i64,
}

/// Every vector of one model, rows ordered by kind, source, part and window (a source's
/// windows are neighbours).
pub struct VectorMatrix {
    model_id: String,
    version: i64,
    dimensions: usize,
    rows: Vec<VectorRow>,
    data: Vec<f32>,
}

impl VectorMatrix {
    pub fn rows(&self) -> &[VectorRow] {
        &self.rows
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Row `i`'s vector.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.data[i * self.dimensions..(i + 1) * self.dimensions]
    }

    /// Bytes held (the vectors).
    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f32>()
    }
}

impl std::fmt::Debug for VectorMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorMatrix")
            .field("model_id", &self.model_id)
            .field("version", &self.version)
            .field("rows", &self.rows.len())
            .field("dimensions", &self.dimensions)
            .finish()
    }
}

/// The last matrix read, shared by the store's clones.
#[derive(Debug, Default, Clone)]
pub(super) struct VectorCache(Arc<Mutex<Option<Arc<VectorMatrix>>>>);

impl VectorCache {
    fn get(&self) -> Option<Arc<VectorMatrix>> {
        self.0.lock().map_or(None, |m| m.clone())
    }

    fn put(&self, matrix: Arc<VectorMatrix>) {
        if let Ok(mut m) = self.0.lock() {
            *m = Some(matrix);
        }
    }
}

impl Store {
    /// Every vector from `model_id`, from memory when nothing changed since the last read.
    pub async fn vector_matrix(&self, model_id: &str) -> Result<Arc<VectorMatrix>> {
        let version: i64 = sqlx::query_scalar("SELECT n FROM embeddings_version")
            .fetch_one(&self.pool)
            .await?;
        if let Some(m) = self
            .vectors_cache
            .get()
            .filter(|m| m.version == version && m.model_id == model_id)
        {
            return Ok(m);
        }
        // The counter and the rows from one snapshot, so a write in between is not missed.
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar("SELECT n FROM embeddings_version")
            .fetch_one(&mut *tx)
            .await?;
        let stored: Vec<(SourceKind, i64, i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT kind, source_id, part, window, vector FROM embeddings WHERE model_id = ?
             ORDER BY kind, source_id, part, window",
        )
        .bind(model_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let dimensions = stored.first().map_or(0, |r| r.4.len() / 4);
        let mut rows = Vec::with_capacity(stored.len());
        let mut data = Vec::with_capacity(stored.len() * dimensions);
        for (kind, source_id, part, window, blob) in stored {
            // One model writes one width; anything else is not comparable.
            if blob.len() != dimensions * 4 {
                continue;
            }
            rows.push(VectorRow {
                kind,
                source_id,
                part,
                window,
            });
            data.extend(from_blob(&blob));
        }
        let matrix = Arc::new(VectorMatrix {
            model_id: model_id.to_owned(),
            version,
            dimensions,
            rows,
            data,
        });
        self.vectors_cache.put(matrix.clone());
        Ok(matrix)
    }
}
