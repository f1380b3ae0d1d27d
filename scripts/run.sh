#!/usr/bin/env bash
# The one run command: set-up, then the central server with demo data on http://127.0.0.1:8080
# (embedded SQLite in ./sipas-demo/), and the SIPAS Field desktop app beside it when there is a
# display. Without a display it runs the server demo alone (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked -p sipas-server -p sipas-field
mkdir -p sipas-demo
LISTEN="${SIPAS_LISTEN:-127.0.0.1:8080}"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display: starting the server demo only. Dashboard: http://$LISTEN/dashboard/"
  exec target/debug/sipas-server --demo --database sipas-demo/server.db --listen "$LISTEN"
fi

target/debug/sipas-server --demo --database sipas-demo/server.db --listen "$LISTEN" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
sleep 1
echo "run: server on http://$LISTEN (dashboard /dashboard/); enrol the app with the code printed above"
SIPAS_DB="$PWD/sipas-demo/app.db" target/debug/sipas-field
