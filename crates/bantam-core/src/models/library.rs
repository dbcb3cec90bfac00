//! The model library: the models on this machine and which one is used. Importing a file
//! (checked by llama.cpp first), making one the default, deleting a
//! downloaded one (never the one in use, never a file outside the models folder), and the
//! Models view's listing. The CLI and the app both go through it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::catalog::{catalog, CatalogEntry};
use super::fit::{estimate_file, judge, judge_entry, recommend, Budget, Verdict};
use super::gguf::ModelFileInfo;
use crate::engine::inspect_model;
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::store::settings::keys;
use crate::store::{ImportedModel, Store};
use crate::units::human_params;

#[derive(Clone)]
pub struct ModelLibrary {
    store: Store,
    models_dir: PathBuf,
}

/// One row of the Models view and `bantam models list`: a catalogue model (downloaded or
/// not) or an imported file, with its memory verdict for this machine.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelListing {
    /// Catalogue id, or the file's stem for imported models.
    pub id: String,
    pub name: String,
    /// `tiny` / `small` / `workhorse`, or `imported`.
    pub tier: String,
    pub params: String,
    pub quantization: String,
    pub size_bytes: u64,
    pub license: Option<String>,
    pub best_for: Option<String>,
    /// Where the file is, when it is on this machine.
    pub path: Option<PathBuf>,
    /// The model loaded when none is named.
    pub default: bool,
    /// The suggestion for its tier on this machine.
    pub recommended: bool,
    /// A catalogue model that can be downloaded (it has a URL or PyPI wheels, or a mirror
    /// is set).
    pub downloadable: bool,
    pub fit: Option<Verdict>,
}

impl ModelLibrary {
    pub fn new(store: Store, models_dir: impl Into<PathBuf>) -> Self {
        Self {
            store,
            models_dir: models_dir.into(),
        }
    }

    pub fn models_dir(&self) -> &Path {
        &self.models_dir
    }

    /// The default model in the settings, if one is set.
    pub async fn default_model(&self) -> Result<Option<PathBuf>> {
        self.store.get_setting(keys::DEFAULT_MODEL).await
    }

    /// The model to use when none is given: the default from settings, else a catalogue
    /// file already in the models folder (the catalogue's default first).
    pub async fn model_to_load(&self) -> Result<Option<PathBuf>> {
        if let Some(path) = self.default_model().await? {
            return Ok(Some(path));
        }
        let mut entries = catalog()?;
        entries.sort_by_key(|e| !e.default);
        Ok(entries
            .iter()
            .map(|e| e.local_path(&self.models_dir))
            .find(|p| p.is_file()))
    }

    /// Registers a GGUF file from anywhere on disk, once llama.cpp has loaded its header
    /// and vocabulary (what it cannot load is refused with its reason).
    pub async fn import(&self, path: &Path) -> Result<(ImportedModel, ModelFileInfo)> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let info = inspect_model(&path).await?;
        let model = self.store.upsert_model(&path, &info).await?;
        Ok((model, info))
    }

    /// Imports (checks) the file and makes it the default model.
    pub async fn set_default(&self, path: &Path) -> Result<(ImportedModel, ModelFileInfo)> {
        let imported = self.import(path).await?;
        self.store.set_setting(keys::DEFAULT_MODEL, &imported.0.path()).await?;
        Ok(imported)
    }

    /// A catalogue id (its file must be downloaded) or a path to a GGUF file.
    pub fn resolve(&self, model: &str) -> Result<PathBuf> {
        if let Some(entry) = catalog()?.into_iter().find(|e| e.id == model) {
            let path = entry.local_path(&self.models_dir);
            if !path.is_file() {
                return Err(Error::NotDownloaded { id: model.to_string() });
            }
            return Ok(path);
        }
        let path = PathBuf::from(model);
        Ok(std::fs::canonicalize(&path).unwrap_or(path))
    }

    /// Deletes a downloaded catalogue model's file and its download record; never the
    /// model `in_use`. Its file is always inside the models folder (catalogue file names
    /// are plain names).
    pub async fn delete(&self, id: &str, in_use: Option<&Path>) -> Result<()> {
        let entry: CatalogEntry = catalog()?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| Error::NotFound {
                what: "catalogue model",
                id: id.to_string(),
            })?;
        let path = entry.local_path(&self.models_dir);
        if in_use == Some(path.as_path()) {
            return Err(Error::ModelInUse { path });
        }
        if let Some(row) = self.store.download_by_file(&entry.file).await? {
            self.store.delete_download(row.id).await?;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The catalogue and the imported models, judged against `hw` at `budget`.
    pub async fn listing(&self, hw: &Hardware, budget: &Budget, mirror: bool) -> Result<Vec<ModelListing>> {
        let (store, models_dir) = (&self.store, self.models_dir.as_path());
        let default: Option<PathBuf> = store.get_setting(keys::DEFAULT_MODEL).await?;
        let judged: Vec<_> = catalog()?
            .into_iter()
            .map(|e| {
                let v = judge_entry(&e, models_dir, hw, budget);
                (e, v)
            })
            .collect();
        let recommended: Vec<String> = recommend(&judged).into_iter().map(|(_, e)| e.id.clone()).collect();
        let mut rows: Vec<ModelListing> = judged
            .iter()
            .map(|(e, v)| {
                let path = e.local_path(models_dir);
                let on_disk = path.is_file();
                ModelListing {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    tier: format!("{:?}", e.tier).to_lowercase(),
                    params: e.params.clone(),
                    quantization: e.quantization.clone(),
                    size_bytes: e.size_bytes,
                    license: Some(e.license.clone()),
                    best_for: Some(e.best_for.clone()),
                    default: default.as_ref() == Some(&path),
                    recommended: recommended.contains(&e.id),
                    downloadable: e.url.is_some() || e.pypi.is_some() || mirror,
                    fit: Some(v.clone()),
                    path: on_disk.then_some(path),
                }
            })
            .collect();
        for m in store.list_models().await? {
            let path = m.path();
            if rows.iter().any(|r| r.path.as_ref() == Some(&path)) {
                continue;
            }
            let fit = estimate_file(&path, budget).ok().flatten().map(|e| judge(e, hw));
            rows.push(ModelListing {
                id: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                name: m.name.clone(),
                tier: "imported".into(),
                params: human_params(m.parameters.max(0) as u64),
                quantization: m.quantization.clone(),
                size_bytes: m.size_bytes.max(0) as u64,
                license: None,
                best_for: None,
                default: default.as_ref() == Some(&path),
                recommended: false,
                downloadable: false,
                fit,
                path: path.is_file().then_some(path),
            });
        }
        Ok(rows)
    }
}
