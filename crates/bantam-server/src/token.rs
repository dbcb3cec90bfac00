//! The bearer token: made at first start, kept in the data directory readable by the
//! user alone (0600), the same on every start so configured clients keep working.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The token's file name in the data directory.
pub const TOKEN_FILE: &str = "api-token";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read or write the API token at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("the API token file {0} is empty or not a token; delete it to make a new one")]
    Corrupt(PathBuf),
}

/// The token in `dir`, made now if there is none.
pub fn load_or_create_token(dir: &Path) -> Result<String, TokenError> {
    let path = dir.join(TOKEN_FILE);
    let io = |source| TokenError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim().to_string();
            if token.len() < 16 || !token.chars().all(|c| c.is_ascii_graphic()) {
                return Err(TokenError::Corrupt(path));
            }
            restrict(&path).map_err(io)?;
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = new_token()?;
            let mut file = create_private(&path).map_err(io)?;
            file.write_all(format!("{token}\n").as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(token)
        }
        Err(e) => Err(io(e)),
    }
}

/// `bnt-` and 48 hex digits (192 random bits).
fn new_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(format!(
        "bnt-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

/// A token file others can read is made private again.
#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Compares in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create_token(dir.path()).expect("made");
        assert!(first.starts_with("bnt-") && first.len() == 52, "{first}");
        assert_eq!(load_or_create_token(dir.path()).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(TOKEN_FILE);
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            load_or_create_token(dir.path()).expect("read again");
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a readable token is made private again");
        }
        std::fs::write(dir.path().join(TOKEN_FILE), "\n").expect("blank");
        assert!(matches!(load_or_create_token(dir.path()), Err(TokenError::Corrupt(_))));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same("bnt-abc", "bnt-abc"));
        assert!(!same("bnt-abc", "bnt-abd"));
        assert!(!same("bnt-abc", "bnt-ab"));
    }
}
