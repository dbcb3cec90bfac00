#!/usr/bin/env bash
# The document metadata set: real documents written by others, in eight languages, from
# Debian packages (translated manuals and FAQs, Python's HOWTOs, the common licences).
# Nothing is installed: the .deb archives are unpacked into the folder. The labels are
# eval/document-labels.jsonl; the corpus of scripts/fetch-corpus.sh holds the rest.
#   usage: eval/fetch-documents.sh [DEST]   (default: ~/.cache/bantam/eval-documents; prints it)
set -euo pipefail
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/bantam/eval-documents}
stamp=$dest/.complete-v1
if [[ -f $stamp ]]; then echo "$dest"; exit 0; fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo "fetching the document metadata set…" >&2
pkgs=(debian-faq-de debian-faq-fr debian-faq-it debian-faq-nl debian-faq-pt debian-faq-ru
      maint-guide-es maint-guide-ja maint-guide-vi python3.11-doc base-files)
apt-get download -q "${pkgs[@]}" >&2 2>/dev/null || {
    apt-get update -q >&2
    apt-get download -q "${pkgs[@]}" >&2
}
for deb in ./*.deb; do dpkg-deb -x "$deb" pkg; done
doc=pkg/usr/share/doc
for l in de fr it nl pt ru; do
    cp "$doc/debian/FAQ/$l/basic-defs.$l.html" "$dest/debian-faq-basic-defs.$l.html"
done
for l in es ja vi; do
    gunzip -c "$doc/maint-guide-$l/maint-guide.$l.txt.gz" >"$dest/maint-guide.$l.txt"
done
for h in sorting logging regex unicode sockets argparse; do
    cp "$doc/python3.11/html/howto/$h.html" "$dest/python-howto-$h.html"
done
for l in Apache-2.0 GPL-3 MPL-2.0 LGPL-2.1 CC0-1.0 Artistic; do
    cp "pkg/usr/share/common-licenses/$l" "$dest/license-$l.txt"
done
printf '%s\n' "Debian FAQ translations (debian-faq-*), Debian New Maintainers' Guide translations" \
    "(maint-guide-*): GPL-2+ / MIT-style, see each package's copyright file. Python HOWTOs" \
    "(python3.11-doc): Python Software Foundation License Version 2. The licence texts" \
    "(base-files /usr/share/common-licenses) are the licences themselves, verbatim copying" \
    "permitted." >"$dest/SOURCE.txt"
touch "$stamp"
echo "$dest"
