//! The model catalogue (`models/catalog.toml`, compiled in): the small models Bantam
//! recommends, with tier, what each is good for, file name, URL, size and licence.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const CATALOG: &str = include_str!("../../../models/catalog.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Tiny,
    Small,
    Workhorse,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    pub tier: Tier,
    pub params: String,
    pub quantization: String,
    pub file: String,
    pub url: Option<String>,
    /// Where the file comes from when not a plain URL (e.g. a PyPI wheel).
    pub source: Option<String>,
    pub size_bytes: u64,
    pub sha256: Option<String>,
    pub license: String,
    pub best_for: String,
    #[serde(default)]
    pub default: bool,
    /// Layer and head counts, for the memory estimate before the file is here.
    pub shape: crate::fit::Shape,
}

impl CatalogEntry {
    /// Where the model manager keeps this model's file.
    pub fn local_path(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }
}

#[derive(Deserialize)]
struct File {
    model: Vec<CatalogEntry>,
}

/// The model to use when none is given: the default from settings, else a catalogue
/// file already in `models_dir` (the catalogue's default first). The CLI and the app
/// both start from this.
pub async fn default_model(store: &crate::Store, models_dir: &Path) -> Result<Option<PathBuf>> {
    if let Some(path) = store
        .get_setting::<PathBuf>(crate::store::settings::keys::DEFAULT_MODEL)
        .await?
    {
        return Ok(Some(path));
    }
    let mut entries = catalog()?;
    entries.sort_by_key(|e| !e.default);
    Ok(entries.iter().map(|e| e.local_path(models_dir)).find(|p| p.is_file()))
}

/// One row of the Models view and `bantam models list`: a catalogue model (downloaded or
/// not) or an imported file, with its memory verdict for this machine.
#[derive(Debug, Clone, Serialize)]
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
    /// A catalogue model that can be downloaded (it has a URL, or a mirror is set).
    pub downloadable: bool,
    pub fit: Option<crate::fit::Verdict>,
}

/// The catalogue and the imported models, judged against `hw` at `budget`.
pub async fn listing(
    store: &crate::Store,
    models_dir: &Path,
    hw: &crate::hardware::Hardware,
    budget: &crate::fit::Budget,
    mirror: bool,
) -> Result<Vec<ModelListing>> {
    use crate::fit::{estimate_file, judge, judge_entry, recommend};
    let default: Option<PathBuf> = store.get_setting(crate::store::settings::keys::DEFAULT_MODEL).await?;
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
                downloadable: e.url.is_some() || mirror,
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

/// `135M`, `1.2B`.
pub fn human_params(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.1}B", n as f64 / 1e9)
    } else {
        format!("{}M", (n + 500_000) / 1_000_000)
    }
}

pub fn catalog() -> Result<Vec<CatalogEntry>> {
    toml::from_str::<File>(CATALOG)
        .map(|f| f.model)
        .map_err(|e| Error::Catalog(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_complete_and_has_one_default() {
        let models = catalog().unwrap();
        for wanted in [
            "llama-3.2-1b-instruct",
            "llama-3.2-3b-instruct",
            "qwen2.5-1.5b-instruct",
            "qwen2.5-3b-instruct",
            "qwen2.5-7b-instruct",
            "phi-3.5-mini-instruct",
            "gemma-3-1b-it",
            "gemma-3-4b-it",
            "smollm2-135m-instruct",
            "smollm2-360m-instruct",
            "smollm2-1.7b-instruct",
            "mistral-7b-instruct-v0.3",
        ] {
            let m = models
                .iter()
                .find(|m| m.id == wanted)
                .unwrap_or_else(|| panic!("{wanted} missing"));
            assert!(
                m.url.as_deref().is_some_and(|u| u.starts_with("https://")),
                "{wanted} has no URL"
            );
            assert!(m.file.ends_with(".gguf") && m.size_bytes > 0 && m.shape.layers > 0);
        }
        assert_eq!(models.iter().filter(|m| m.default).count(), 1);
        let test_model = models.iter().find(|m| m.source.is_some()).unwrap();
        assert_eq!(test_model.sha256.as_deref().map(str::len), Some(64));
    }
}
