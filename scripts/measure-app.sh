#!/usr/bin/env bash
# Surveyor app figures (release build). They go to BENCHMARKS.md by hand, with the date, the
# machine and its load (printed first and last). Nothing here asserts a time.
#
#  1. size of the release binary (as is, and stripped) and of the .deb;
#  2. time to first window: from exec of the binary to its "SIPAS Field" window being mapped
#     (xdotool --onlyvisible), under an Xvfb started here, with a fresh SIPAS_DB and fresh XDG
#     folders each launch (a first start on a new device); $SIPAS_RUNS launches (default 5);
#  3. memory at the first screen: VmRSS and its anonymous part RssAnon (heaps, JavaScript heap)
#     of the app process and of the WebKit processes it starts, $SIPAS_SETTLE s (default 5)
#     after the window maps, at every launch. The sum of VmRSS counts the libraries the
#     processes share up to three times, the sum of RssAnon leaves file pages out; the truth
#     is in between. (Pss and USS would split or drop shared pages, but they move with
#     whatever else on the machine maps the same libraries, e.g. other WebKit test runs.)
#  4. memory after filling one form: `cargo bench --bench app_rss` (drives the window with
#     WebDriver, see benches/app_rss.rs).
#
# Binary measured: $SIPAS_APP_BIN if set; else the one inside $SIPAS_DEB or the newest
# target/release/bundle/deb/*.deb (built first with `npx tauri build --bundles deb` when
# SIPAS_BUILD_DEB=1); else `cargo build --release -p sipas-field` is run and
# target/release/sipas-field measured. The .deb is the shipped build (Tauri's
# custom-protocol feature; the bundler patches the binary), so it is preferred.
#
# Other settings: SIPAS_RSS_PROFILE (cargo profile of the app_rss driver, default bench; `dev`
# reuses the test build: the app measured is the release binary either way), SIPAS_RUNS (launches, default 5), SIPAS_SETTLE (seconds before each memory
# reading, default 5), SIPAS_RSS_RUNS (interviews in app_rss, default 3), SIPAS_COMMIT (label
# printed when the tree is not a git checkout, e.g. a `git archive` export).
#
# Why not `xdotool search --sync`: it polls only every 0.5 s (a window mapped at 0.3 / 0.7 /
# 1.1 s was reported at 0.51 / 1.01 / 1.51 s), so this script polls `xdotool search` itself
# every 5 ms; one poll takes about 20 ms, which is the resolution of the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
# xdotool finds the window; it is not part of scripts/setup.sh (only this script needs it).
command -v xdotool >/dev/null || { apt-get install -y -q xdotool >/dev/null || sudo apt-get install -y -q xdotool >/dev/null; }
RUNS=${SIPAS_RUNS:-5}
SETTLE=${SIPAS_SETTLE:-5}
TARGET=${CARGO_TARGET_DIR:-target}

echo "=== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)"
echo "load: $(uptime | sed 's/.*load average: //')"
if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src-tauri ui crates || echo ' (with uncommitted changes in src-tauri/ui/crates)')"
else
  echo "commit: ${SIPAS_COMMIT:-not a git checkout}"
fi

WORK=$(mktemp -d)
XVFB_PID=""
APP_PID=""
cleanup() {
  if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; fi
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the binary
DEB=""
if [ -n "${SIPAS_APP_BIN:-}" ]; then
  BIN=$SIPAS_APP_BIN
  echo "binary: $BIN (SIPAS_APP_BIN)"
else
  if [ "${SIPAS_BUILD_DEB:-0}" = 1 ]; then
    npx tauri build --bundles deb
    bash scripts/repack-deb.sh "$(ls -t "$TARGET"/release/bundle/deb/*.deb | head -n 1)"
  fi
  DEB=${SIPAS_DEB:-$(ls -t "$TARGET"/release/bundle/deb/*.deb 2>/dev/null | head -n 1 || true)}
  if [ -n "$DEB" ]; then
    dpkg-deb -x "$DEB" "$WORK/deb"
    BIN="$WORK/deb/usr/bin/sipas-field"
    echo "binary: usr/bin/sipas-field from $DEB (built $(date -u -r "$DEB" '+%Y-%m-%d %H:%M UTC'))"
    NEWER=$(find src-tauri/src src-tauri/tauri.conf.json src-tauri/Cargo.toml ui crates/*/src \
              -newer "$DEB" -type f 2>/dev/null | head -n 5 || true)
    if [ -n "$NEWER" ]; then
      echo "WARNING: the .deb is older than these sources (set SIPAS_BUILD_DEB=1 to rebuild it):"
      sed 's/^/  /' <<<"$NEWER"
    fi
  else
    cargo build --release --locked -p sipas-field
    BIN="$TARGET/release/sipas-field"
    echo "binary: $BIN (cargo build --release)"
  fi
fi
[ -x "$BIN" ] || { echo "no executable at $BIN" >&2; exit 1; }

# ---- sizes
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
BIN_BYTES=$(stat -c %s "$BIN")
strip -o "$WORK/stripped" "$BIN"
STRIPPED_BYTES=$(stat -c %s "$WORK/stripped")
echo
echo "release binary: $BIN_BYTES bytes ($(mib "$BIN_BYTES") MiB); stripped: $STRIPPED_BYTES bytes ($(mib "$STRIPPED_BYTES") MiB)"
if [ -n "$DEB" ]; then
  DEB_BYTES=$(stat -c %s "$DEB")
  echo ".deb: $DEB_BYTES bytes ($(mib "$DEB_BYTES") MiB)  [$(basename "$DEB")]"
else
  echo ".deb: not built (SIPAS_BUILD_DEB=1 builds it)"
fi

# ---- an X server of our own
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do [ -s "$WORK/display" ] && break; sleep 0.05; done
[ -s "$WORK/display" ] || { echo "Xvfb did not start" >&2; cat "$WORK/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(cat "$WORK/display")"

# tree PID: PID and all its descendants.
tree() {
  echo "$1"
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}

# ---- launches: time to first window, memory at the first screen
echo
echo "launches ($RUNS; fresh SIPAS_DB and XDG folders each; memory read ${SETTLE}s after the window maps):"
: >"$WORK/times"
: >"$WORK/mem"
for i in $(seq "$RUNS"); do
  run="$WORK/run$i"
  mkdir -p "$run/cache" "$run/config" "$run/data"
  t0=$(date +%s%N)
  SIPAS_DB="$run/sipas-field.db" XDG_CACHE_HOME="$run/cache" XDG_CONFIG_HOME="$run/config" \
    XDG_DATA_HOME="$run/data" "$BIN" >"$run/app.log" 2>&1 &
  APP_PID=$!
  until xdotool search --onlyvisible --name '^SIPAS Field$' >/dev/null 2>&1; do
    if ! kill -0 "$APP_PID" 2>/dev/null; then
      echo "the app exited before showing its window:" >&2
      cat "$run/app.log" >&2
      exit 1
    fi
    if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -ge 60 ]; then
      echo "no window after 60 s" >&2
      exit 1
    fi
    sleep 0.005
  done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  echo "$ms" >>"$WORK/times"
  sleep "$SETTLE"
  PIDS=$(tree "$APP_PID")
  line=""
  for p in $PIDS; do
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")
    anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$p/status")
    echo "$i $comm $rss $anon" >>"$WORK/mem"
    line="$line $comm=$((rss / 1024))/$((anon / 1024))"
  done
  echo "  run $i: window after $ms ms; MiB VmRSS/RssAnon:$line"
  kill "$APP_PID"
  wait "$APP_PID" 2>/dev/null || true
  APP_PID=""
  # The WebKit processes end with the app; wait for them (and end any that do not).
  for _ in $(seq 100); do
    alive=""
    for p in $PIDS; do if kill -0 "$p" 2>/dev/null; then alive="$alive $p"; fi; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for p in $alive; do kill "$p" 2>/dev/null || true; done
done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "time to first window (ms): min $(sort -n "$WORK/times" | head -n 1), median $(median <"$WORK/times"), all: $(tr '\n' ' ' <"$WORK/times")"
echo "memory at the first screen, median of $RUNS launches (MiB, VmRSS / RssAnon):"
for who in sipas-field WebKitWebProces WebKitNetworkPr; do
  rss=$(awk -v w="$who" '$2 == w { print $3 }' "$WORK/mem" | median)
  anon=$(awk -v w="$who" '$2 == w { print $4 }' "$WORK/mem" | median)
  printf '  %-22s %8.1f / %8.1f\n' "$who" "$(awk -v k="${rss:-0}" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="${anon:-0}" 'BEGIN { print k / 1024 }')"
done
others=$(awk '$2 != "sipas-field" && $2 != "WebKitWebProces" && $2 != "WebKitNetworkPr" { print $2 }' "$WORK/mem" | sort -u | tr '\n' ' ')
[ -n "$others" ] && echo "  (other processes, counted in the total: $others)"
rss=$(awk '{ s[$1] += $3 } END { for (r in s) print s[r] }' "$WORK/mem" | median)
anon=$(awk '{ s[$1] += $4 } END { for (r in s) print s[r] }' "$WORK/mem" | median)
printf '  %-22s %8.1f / %8.1f\n' "all processes" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
  "$(awk -v k="$anon" 'BEGIN { print k / 1024 }')"

# ---- memory after filling one form (WebDriver)
echo
echo "memory through one interview (cargo bench --bench app_rss, WebDriver):"
if ! SIPAS_APP_BIN="$(realpath "$BIN")" SIPAS_SETTLE_MS=$((SETTLE * 1000)) \
    cargo bench --locked --profile "${SIPAS_RSS_PROFILE:-bench}" --bench app_rss; then
  echo "app_rss FAILED (see above); the figures before it stand"
fi

echo
echo "load at the end: $(uptime | sed 's/.*load average: //')"
