#!/usr/bin/env bash
# Installs everything SIPAS Field needs on a fresh Debian 12 machine (idempotent, quick when done).
# Needs root (or sudo) for apt. Rust (cargo) and Node.js (npm) are expected on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config libssl-dev file curl
  # SQLCipher (encrypted device store) builds a vendored OpenSSL: needs perl and make
  perl make
  # Tauri 2 / WebKitGTK (see shared/reference/TAURI-ON-THIS-MACHINE.md)
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  # real-window tests under Xvfb, driven over WebDriver; browser tests of the dashboard
  xvfb xauth webkit2gtk-driver chromium
  # the results test renders the printed scorecard (PDF) to PNG
  poppler-utils
  # server tests run against a real PostgreSQL
  postgresql
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust with rustup first" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true

if [ -f package.json ] && [ ! -d node_modules ]; then
  # not `npm ci`: the registry here has only the Linux optional packages of @tauri-apps/cli
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup: ok"
