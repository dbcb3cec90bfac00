#!/usr/bin/env bash
# Installs the system packages Bantam needs to build (Debian/Ubuntu).
# Idempotent: only calls apt when something is missing.
set -euo pipefail

packages=(cmake clang libclang-dev pkg-config python3-pip unzip)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Some images carry a newer libpcre2 than their apt index; -dev packages then
# refuse to install unless it is pinned to the index's version.
pin=()
if candidate=$(apt-cache policy libpcre2-8-0 2>/dev/null | awk '/Candidate:/ {print $2}') &&
    installed=$(dpkg-query -W -f='${Version}' libpcre2-8-0 2>/dev/null) &&
    [[ -n "$candidate" && "$candidate" != "(none)" && "$candidate" != "$installed" ]]; then
    pin=("libpcre2-8-0=$candidate" --allow-downgrades)
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" "${pin[@]}" >&2
