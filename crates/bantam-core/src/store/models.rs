//! Models the user imported: a reference to a GGUF file on disk with its header facts.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::FromRow;

use super::{now_ms, Store};
use crate::error::Result;
use crate::models::gguf::ModelFileInfo;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ImportedModel {
    pub id: i64,
    pub path: String,
    pub name: String,
    pub architecture: String,
    pub parameters: i64,
    pub quantization: String,
    pub size_bytes: i64,
    pub context_length: Option<i64>,
    pub has_chat_template: bool,
    pub added_at: i64,
}

impl ImportedModel {
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.path)
    }
}

impl Store {
    /// Records a model file (again: importing twice updates the facts).
    pub async fn upsert_model(&self, path: &Path, info: &ModelFileInfo) -> Result<ImportedModel> {
        let name = info.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(sqlx::query_as(
            "INSERT INTO models (path, name, architecture, parameters, quantization, size_bytes,
                                 context_length, has_chat_template, added_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(path) DO UPDATE SET name = excluded.name, architecture = excluded.architecture,
                 parameters = excluded.parameters, quantization = excluded.quantization,
                 size_bytes = excluded.size_bytes, context_length = excluded.context_length,
                 has_chat_template = excluded.has_chat_template
             RETURNING *",
        )
        .bind(path.to_string_lossy())
        .bind(name)
        .bind(&info.architecture)
        .bind(info.parameters as i64)
        .bind(&info.quantization)
        .bind(info.file_size as i64)
        .bind(info.context_length.map(|c| c as i64))
        .bind(info.has_chat_template)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn list_models(&self) -> Result<Vec<ImportedModel>> {
        Ok(sqlx::query_as("SELECT * FROM models ORDER BY added_at, id")
            .fetch_all(&self.pool)
            .await?)
    }
}
