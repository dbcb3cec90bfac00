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
