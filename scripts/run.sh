#!/usr/bin/env bash
# The one run command: set-up, then the SIPAS Field app (with a display) or the headless demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked -p sipas-field
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec target/debug/sipas-field
else
  echo "run: no display found; starting the app under Xvfb (screenshot in artifacts/run.png)"
  mkdir -p artifacts
  exec xvfb-run -a -s "-screen 0 1280x800x24" target/debug/sipas-field
fi
