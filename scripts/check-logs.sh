#!/usr/bin/env bash
# Fails if any log written during the tests holds personal data or a credential.
#
# Checks every file under "$SIPAS_ARTIFACTS/logs" (default <repo>/artifacts/logs): the
# sipas-server logs that crates/testkit/src/server.rs captures (server-<pid>.log, written at
# RUST_LOG=debug or more), those of the dashboard tests' `--demo` servers that
# tests-ui/support.mjs captures (server-dashboard-<pid>.log, also at debug) and the desktop
# app's logs (app-*.log) when present. With SIPAS_REQUIRE_DASHBOARD_LOGS=1 (scripts/test.sh,
# which runs this after the dashboard tests) a run without dashboard server logs fails.
# Looks for:
#   * the fixture's contact data (crates/testkit/src/fixture.rs): names "… Bảo Mật …",
#     addresses "… Hàng Bạc", phones "0912345…"; the demo data's contacts
#     (crates/server/src/demo.rs): addresses "Số … phố Demo" and the four invented names;
#   * bearer tokens (43 characters of base64url) and "Bearer …" headers;
#   * enrolment codes (10 characters of 2-9 and A-Z without I, L, O, with a digit and a letter);
#   * JSON password fields.
# Prints only file:line and the kind of finding (never the line: it may be personal data).
# Usage: bash scripts/check-logs.sh [LOG_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C.UTF-8

dir="${1:-${SIPAS_ARTIFACTS:-$PWD/artifacts}/logs}"
if [ ! -d "$dir" ]; then
  echo "check-logs: no log directory $dir (run the tests first)" >&2
  exit 1
fi
mapfile -t files < <(find "$dir" -type f | sort)
servers=$(printf '%s\n' "${files[@]}" | grep -c '/server-[^/]*\.log$' || true)
if [ "$servers" -eq 0 ]; then
  echo "check-logs: no server-*.log in $dir: the tests captured no server log, so there is nothing to check" >&2
  exit 1
fi

dashboards=$(printf '%s\n' "${files[@]}" | grep -c '/server-dashboard-[^/]*\.log$' || true)
if [ "${SIPAS_REQUIRE_DASHBOARD_LOGS:-0}" = 1 ] && [ "$dashboards" -eq 0 ]; then
  echo "check-logs: no server-dashboard-*.log in $dir: the dashboard tests' server logs were not captured" >&2
  exit 1
fi

found=0
report() { # kind, grep output lines "file:line:..."
  local kind=$1
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    local file=${hit%%:*} rest=${hit#*:}
    echo "check-logs: $file:${rest%%:*}: $kind" >&2
    found=1
  done
}

for f in "${files[@]}"; do
  for needle in "Bảo Mật" "Hàng Bạc" "0912345" "phố Demo" "Nguyễn Văn An" "Trần Thị Bình" \
    "Lê Văn Cường" "Phạm Thị Dung"; do
    report "fixture personal data (\"$needle\")" < <(grep -HnF -- "$needle" "$f" || true)
  done
  report "bearer token (43 base64url characters)" \
    < <(grep -HnP '(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_=-])' "$f" || true)
  report "Authorization: Bearer header" < <(grep -HniP 'bearer\s+[A-Za-z0-9._~+/-]{8,}' "$f" || true)
  report "enrolment code" \
    < <(grep -HnP '(?<![A-Za-z0-9])(?=[2-9A-HJKMNP-Z]*[2-9])(?=[2-9A-HJKMNP-Z]*[A-HJKMNP-Z])[2-9A-HJKMNP-Z]{10}(?![A-Za-z0-9])' "$f" || true)
  report "password field" < <(grep -HniP '"(password|mat_khau)"\s*:\s*"' "$f" || true)
done

lines=$(cat "${files[@]}" | wc -l)
if [ "$found" -ne 0 ]; then
  echo "check-logs: FAILED: personal data or credentials in the logs above ($dir)" >&2
  exit 1
fi
echo "check-logs: ${#files[@]} log files ($servers server, $dashboards of them dashboard), $lines lines: no personal data, tokens, codes or passwords"
