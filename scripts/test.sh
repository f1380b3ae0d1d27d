#!/usr/bin/env bash
# The one test command: set-up, formatting, lints, every test (unit, integration, real window).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS; stage() { echo "=== [$((SECONDS-T0))s] $*"; }

stage "setup"
bash scripts/setup.sh

stage "PostgreSQL (the server's tests run on SQLite and on PostgreSQL)"
# Stop here when PostgreSQL does not start: without it the PostgreSQL tests would be skipped.
PG_LINE=$(bash scripts/start-postgres.sh | tail -n 1) || { echo "test: PostgreSQL did not start" >&2; exit 1; }
case "$PG_LINE" in
  "export SIPAS_TEST_DATABASE_URL="*) eval "$PG_LINE" ;;
  *) echo "test: scripts/start-postgres.sh printed no database URL: $PG_LINE" >&2; exit 1 ;;
esac
export SIPAS_TEST_DATABASE_URL
export SIPAS_REQUIRE_POSTGRES=1

stage "rustfmt"
cargo fmt --all -- --check

stage "build (all targets, one feature set)"
cargo build --workspace --all-targets --locked

stage "clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

stage "cargo test"
export SIPAS_ARTIFACTS="${SIPAS_ARTIFACTS:-$PWD/artifacts}"; mkdir -p "$SIPAS_ARTIFACTS"
# Server (and app) logs of this run only: crates/testkit/src/server.rs writes them here.
rm -rf "$SIPAS_ARTIFACTS/logs"; mkdir -p "$SIPAS_ARTIFACTS/logs"
xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace --locked --no-fail-fast

stage "eslint (dashboard modules and their tests); type check of the // @ts-check modules"
npx eslint crates/server/dashboard crates/server/public tests-ui
npx tsc -p crates/server/dashboard/jsconfig.json

stage "dashboard in headless Chromium (playwright-core, real server); app window over WebDriver"
# tests-ui/app-window.test.mjs drives the real sipas-field window (tests-ui/app-driver.mjs):
# without DISPLAY it starts its own Xvfb, so this stage needs no xvfb-run.
node --test tests-ui/

stage "no personal data in logs (cargo tests' and dashboard tests' servers)"
SIPAS_REQUIRE_DASHBOARD_LOGS=1 bash scripts/check-logs.sh

if [ "${SIPAS_SKIP_DEB:-0}" != 1 ]; then
  stage ".deb package (release build; AppImage cannot be built here)"
  npx tauri build --bundles deb
  DEB=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/bundle/deb/*.deb | head -n 1)
  # Tauri writes data.tar.gz; the shipped package is xz-compressed (issue 14, app size).
  bash scripts/repack-deb.sh "$DEB"
  ar t "$DEB" | grep -qx data.tar.xz
  INFO=$(dpkg-deb --info "$DEB"); CONTENTS=$(dpkg-deb --contents "$DEB")
  grep -q "Package: sipas-field" <<<"$INFO"
  grep -q "usr/bin/sipas-field" <<<"$CONTENTS"
  echo "built $DEB ($(stat -c %s "$DEB") bytes)"
  cp "$DEB" "$SIPAS_ARTIFACTS/"

  stage "server .deb (systemd unit, config file, user sipas; dpkg-deb and systemd-analyze checks)"
  # The package layout is checked around the debug server built above: a release-server build
  # costs ~9 CPU-minutes, too much for the CI budget. SIPAS_SERVER_DEB_RELEASE=1 builds the
  # release package as scripts/package-server.sh does by default (see README "Running a server").
  if [ "${SIPAS_SERVER_DEB_RELEASE:-0}" != 1 ]; then export SIPAS_SERVER_BIN="${CARGO_TARGET_DIR:-target}/debug/sipas-server"; fi
  # Its output goes to the log and a file (`tee /dev/stderr` would truncate a log that stderr
  # is redirected to); the package's path is read from the file.
  bash scripts/package-server.sh | tee "$SIPAS_ARTIFACTS/package-server.log"
  SERVER_DEB=$(sed -n 's/^built \(.*\.deb\) (.*/\1/p' "$SIPAS_ARTIFACTS/package-server.log")
  [ -f "$SERVER_DEB" ] || { echo "test: scripts/package-server.sh built no .deb" >&2; exit 1; }
  cp "$SERVER_DEB" "$SIPAS_ARTIFACTS/"
fi

stage "done"
