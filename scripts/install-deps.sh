#!/usr/bin/env bash
# Installs the system packages Bantam needs (Debian/Ubuntu): to build the engine and the
# desktop app, and with --test also what the end-to-end tests drive the app with.
# Idempotent: only calls apt when something is missing.
set -euo pipefail

# llama.cpp (cmake, bindgen's libclang) and the test-model fetcher (pip).
packages=(cmake clang libclang-dev pkg-config python3-pip)
# The OS keyring (Secret Service over D-Bus) for mail account passwords.
packages+=(libdbus-1-dev)
# The desktop app: WebKitGTK, the tray (appindicator), icons, the hotkey (xdo).
packages+=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev)
if [[ "${1:-}" == "--test" ]]; then
    # A display, a session bus and WebDriver for the app's end-to-end tests.
    # qpdf makes the password-protected PDFs of the ingest tests; the mail tests run
    # their own Dovecot IMAP server on loopback (with an openssl-made certificate) and a
    # private GNOME Keyring for the account passwords.
    packages+=(xvfb xdotool dbus dbus-x11 webkit2gtk-driver qpdf dovecot-imapd openssl gnome-keyring dunst)
    # The API's tests: the official openai client in a venv, and curl.
    packages+=(python3-venv curl)
fi
# The UI build needs Node.js; use the one on PATH when there is one.
if ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi

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
# The tests start their own Dovecot; the system one the package may have started is not
# needed (only when this script just installed it).
if [[ " ${missing[*]} " == *" dovecot-imapd "* ]]; then
    $sudo systemctl disable --now dovecot >/dev/null 2>&1 || $sudo service dovecot stop >/dev/null 2>&1 || true
fi
