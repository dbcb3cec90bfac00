#!/usr/bin/env bash
# The document test corpus: real files written by others, from Debian documentation
# packages (PDF, HTML, text) and PyPI source packages (DOCX, Markdown, email). Nothing
# is installed: the .deb and sdist archives are unpacked into the corpus folder.
#   usage: scripts/fetch-corpus.sh [DEST]   (default: corpus/ in the repository; prints it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/corpus}
stamp=$dest/.complete-v3
if [[ -f $stamp ]]; then echo "$dest"; exit 0; fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo "fetching the document corpus…" >&2
# apt-get download writes as the _apt user when it can; a root-owned temp dir is fine.
apt-get download -q debian-faq maint-guide debian-policy libpython3.11-testsuite >&2 2>/dev/null || {
    apt-get update -q >&2
    apt-get download -q debian-faq maint-guide debian-policy libpython3.11-testsuite >&2
}
for deb in ./*.deb; do dpkg-deb -x "$deb" pkg; done
doc=pkg/usr/share/doc
cp "$doc/maint-guide/maint-guide.en.pdf" "$dest/maint-guide.en.pdf"
gunzip -c "$doc/debian-policy/fhs/fhs-3.0.pdf.gz" >"$dest/fhs-3.0.pdf"
gunzip -c "$doc/debian/FAQ/debian-faq.en.pdf.gz" >"$dest/debian-faq.en.pdf"
gunzip -c "$doc/debian/FAQ/debian-faq.en.txt.gz" >"$dest/debian-faq.en.txt"
cp "$doc/debian/FAQ/basic-defs.en.html" "$dest/debian-faq-basic-defs.en.html"
cp "$doc/maint-guide/html/first.en.html" "$dest/maint-guide-first.en.html"

python3 -m pip download -q --no-deps --no-binary :all: --disable-pip-version-check \
    python-docx==1.2.0 mail-parser==4.8.0 -d sdist >&2
tar xzf sdist/python_docx-1.2.0.tar.gz
tar xzf sdist/mail_parser-4.8.0.tar.gz
files=python_docx-1.2.0/features/steps/test_files
cp "$files/doc-coreprops.docx" "$files/blk-paras-and-tables.docx" "$files/par-known-styles.docx" "$dest/"
cp python_docx-1.2.0/README.md "$dest/python-docx-README.md"
for m in mail_test_1 mail_test_2 mail_test_3 mail_outlook_1; do
    cp "mail_parser-4.8.0/tests/mails/$m" "$dest/$m.eml"
done
# Every email of mail-parser's test set (Apache-2.0), malformed ones included, for triage.
mkdir -p "$dest/mail"
for m in mail_parser-4.8.0/tests/mails/*; do
    cp "$m" "$dest/mail/$(basename "$m").eml"
done
cp mail_parser-4.8.0/LICENSE.txt "$dest/mail/LICENSE-mail-parser.txt"
# CPython's email test messages (PSF license): real mail from mailing lists and mailers,
# for the 64-message triage benchmark. A folder of their own: the tests use mail/.
mkdir -p "$dest/mail-python"
for m in pkg/usr/lib/python3.11/test/test_email/data/msg_*.txt; do
    cp "$m" "$dest/mail-python/python-$(basename "$m" .txt).eml"
done
printf '%s\n' "CPython's Lib/test/test_email/data/msg_*.txt, from Debian's libpython3.11-testsuite" \
    "package. Copyright Python Software Foundation; Python Software Foundation License" \
    "Version 2 (https://docs.python.org/3/license.html)." >"$dest/mail-python/SOURCE.txt"
touch "$stamp"
echo "$dest"
