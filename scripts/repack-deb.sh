#!/usr/bin/env bash
# Recompresses a .deb built by `npx tauri build --bundles deb` with xz (issue 14, app size).
# Tauri's bundler writes data.tar.gz; dpkg reads xz natively (Debian's own packages use it), and
# the app's binary compresses to about three quarters of its gzip size. The files, their modes,
# the control file and md5sums stay exactly as the bundler wrote them; only the compression
# changes. Usage: bash scripts/repack-deb.sh <file.deb>   (rewritten in place)
set -euo pipefail
DEB=${1:?usage: repack-deb.sh <file.deb>}
[ -f "$DEB" ] || { echo "repack-deb: no such file: $DEB" >&2; exit 1; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
before=$(stat -c %s "$DEB")
dpkg-deb -R "$DEB" "$WORK/root"
dpkg-deb --root-owner-group -Zxz -z9 -b "$WORK/root" "$WORK/out.deb" >/dev/null
# The same files in the same modes, or the original stays.
listing() {  # mode, size, path (without ./ and a trailing /), sorted; the root entry left out
  dpkg-deb -c "$1" | awk '{p=$6; for (i = 7; i <= NF; i++) p = p " " $i; sub(/^\.\//, "", p); sub(/\/$/, "", p);
                           if (p != "" && p != ".") print $1, $3, p}' | sort
}
diff <(listing "$DEB") <(listing "$WORK/out.deb") >&2 \
  || { echo "repack-deb: the repacked package lists other files; $DEB left as it was" >&2; exit 1; }
mv "$WORK/out.deb" "$DEB"
echo "repacked $DEB with xz: $before -> $(stat -c %s "$DEB") bytes"
