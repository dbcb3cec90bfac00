//! Where Bantam keeps its files: the platform's data directory (XDG on Linux,
//! Application Support on macOS), overridable with `BANTAM_DATA_DIR` or `--data-dir`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "BANTAM_DATA_DIR";

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `explicit` (a flag) wins over the environment, which wins over the platform default.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self> {
        let root = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
                Some(v) => PathBuf::from(v),
                None => directories::ProjectDirs::from("", "", "bantam")
                    .ok_or(Error::NoDataDir)?
                    .data_dir()
                    .to_path_buf(),
            },
        };
        Ok(Self { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Creates the directory tree if needed.
    pub fn ensure(&self) -> Result<()> {
        for dir in [self.root.clone(), self.models_dir()] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("bantam.sqlite3")
    }

    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    pub fn chat_history_file(&self) -> PathBuf {
        self.root.join("chat_history.txt")
    }
}

/// The small model the tests and benchmarks run on: `BANTAM_TEST_MODEL`, or the file
/// `models/fetch-test-model.sh` puts in the repository's `models/`. Panics with the fix
/// when it is missing (test code only).
pub fn test_model() -> PathBuf {
    let path = std::env::var_os("BANTAM_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    assert!(
        path.is_file(),
        "test model missing at {}: run models/fetch-test-model.sh",
        path.display()
    );
    path
}

/// Where scripts/fetch-corpus.sh put the corpus: `BANTAM_CORPUS`, else `corpus/` in the
/// source tree this was built from.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("BANTAM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus"))
}

/// Whether the corpus there is complete and current.
pub fn corpus_complete(path: &Path) -> bool {
    path.join(".complete-v3").is_file()
}

/// The document test corpus (`scripts/fetch-corpus.sh`), for tests and benchmarks.
pub fn test_corpus() -> PathBuf {
    let path = corpus_dir();
    assert!(
        corpus_complete(&path),
        "document corpus missing at {}: run scripts/fetch-corpus.sh",
        path.display()
    );
    path
}
