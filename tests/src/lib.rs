//! What the end-to-end tests share: where the built binaries are, the app under Xvfb
//! (`app`), the `bantam` command with a private data directory (`cli`) and `bantam serve`
//! (`serve`), and servers written by others (`peers`).

pub mod app;
pub mod cli;
pub mod peers;
pub mod serve;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A Markdown document of three sections of about 400 words, one bird each (puffin,
/// gannet, cormorant): several parts once read in, for whole-document questions.
pub fn bird_survey() -> String {
    let mut text = String::from("# Birds of the coast\n\n");
    for (section, bird) in [("North", "puffin"), ("Middle", "gannet"), ("South", "cormorant")] {
        text.push_str(&format!("## The {section} shore\n\n"));
        for i in 0..40 {
            text.push_str(&format!(
                "On day {i} of the survey on the {section} shore the counters saw the {bird} again near the rocks. "
            ));
        }
        text.push_str("\n\n");
    }
    text
}

/// The repository.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A binary of this workspace, as `cargo build --workspace --all-targets` left it next
/// to the test binaries (`target/<profile>/`). Panics with the fix when it is missing or
/// older than the sources it is built from — a test of a stale binary would test old
/// code.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps");
    let path = dir.join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!(
            "{} is not built: run `cargo build --workspace --all-targets` first (scripts/test.sh does)",
            path.display()
        )
    });
    // The CLI is built from the crates; only the app also from src-tauri and the pages.
    let sources: &[&str] = if name == "bantam" {
        &["crates", "models"]
    } else {
        &["crates", "models", "src-tauri/src", "src-tauri/capabilities", "ui/dist"]
    };
    let newest = sources
        .iter()
        .filter_map(|d| newest_rust_or_page(&repo().join(d)))
        .max();
    if let Some((_, file)) = newest.filter(|(t, _)| *t > built) {
        panic!(
            "{} is older than {}: run `cargo build --workspace --all-targets` first",
            path.display(),
            file.display()
        );
    }
    path
}

/// The newest file under `dir` that cargo rebuilds the binaries for when it changes (it
/// tracks these by time: Rust sources, files they include, the capabilities and the
/// built pages), skipping tests and benches, which do not go into the binaries.
fn newest_rust_or_page(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if !matches!(name.to_str(), Some("tests" | "benches" | "target")) {
                    stack.push(path);
                }
                continue;
            }
            let wanted = name == "catalog.toml"
                || path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "rs" | "json" | "html" | "js" | "css"));
            if !wanted {
                continue;
            }
            if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                    newest = Some((modified, path));
                }
            }
        }
    }
    newest
}
