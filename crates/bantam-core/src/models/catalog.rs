//! The model catalogue (`models/catalog.toml`, compiled in): the small models Bantam
//! recommends, with tier, what each is good for, file name, URL, size and licence.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const CATALOG: &str = include_str!("../../../../models/catalog.toml");

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
    pub shape: super::gguf::Shape,
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
