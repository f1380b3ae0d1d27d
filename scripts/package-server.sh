#!/usr/bin/env bash
# Builds sipas-server (profile release-server) and its Debian package:
#   $CARGO_TARGET_DIR/release/bundle/server/sipas-server_<version>_<arch>.deb   (target/ by default)
# with /usr/bin/sipas-server, the systemd units (sipas-server.service; sipas-server-backup.service
# and .timer, off until enabled), /etc/sipas-server/config.toml (a conffile), the system user
# `sipas` and /var/lib/sipas-server made by the postinst. Files: packaging/server/.
# Then checks the package: dpkg-deb --info / --contents, and `systemd-analyze verify` of the units
# (inside the unpacked package) when systemd-analyze is there. Prints the .deb's path and size last.
#
# SIPAS_SERVER_BIN=<binary> packages that binary instead of building one (e.g. a debug build, to
# check the packaging quickly).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
PKG=packaging/server
VERSION=$(awk -F'"' '/^\[workspace.package\]/ { ws = 1 } ws && /^version *=/ { print $2; exit }' Cargo.toml)
ARCH=$(dpkg --print-architecture)
[ -n "$VERSION" ] || { echo "package-server: no [workspace.package] version in Cargo.toml" >&2; exit 1; }

if [ -n "${SIPAS_SERVER_BIN:-}" ]; then
  BIN=$SIPAS_SERVER_BIN
else
  # Profile release-server (Cargo.toml): opt-level 3, thin LTO, stripped.
  cargo build --profile release-server --locked -p sipas-server
  BIN=$TARGET/release-server/sipas-server
fi
[ -x "$BIN" ] || { echo "package-server: no executable at $BIN" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/root
install -D -m 0755 "$BIN" "$ROOT/usr/bin/sipas-server"
install -D -m 0644 "$PKG/sipas-server.service" "$ROOT/lib/systemd/system/sipas-server.service"
install -D -m 0644 "$PKG/sipas-server-backup.service" "$ROOT/lib/systemd/system/sipas-server-backup.service"
install -D -m 0644 "$PKG/sipas-server-backup.timer" "$ROOT/lib/systemd/system/sipas-server-backup.timer"
install -D -m 0755 "$PKG/sipas-server-backup" "$ROOT/usr/lib/sipas-server/sipas-server-backup"
install -D -m 0640 "$PKG/config.toml" "$ROOT/etc/sipas-server/config.toml"
install -D -m 0644 README.md "$ROOT/usr/share/doc/sipas-server/README.md"
install -D -m 0644 crates/server/API.md "$ROOT/usr/share/doc/sipas-server/API.md"
cat >"$ROOT/usr/share/doc/sipas-server/copyright" <<'COPY'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: SIPAS Field (sipas-server)

Files: *
License: MIT OR Apache-2.0
COPY

# The newest glibc symbol version the binary needs.
GLIBC=$(objdump -T "$ROOT/usr/bin/sipas-server" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
mkdir -p "$ROOT/DEBIAN"
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: sipas-server
Version: $VERSION
Architecture: $ARCH
Maintainer: SIPAS Field maintainers <sipas-field@localhost>
Depends: libc6 (>= ${GLIBC:-2.34}), libgcc-s1, passwd
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Homepage: https://github.com/sipas-field/sipas-field
Description: SIPAS Field central server (sync API, rounds, review, SIPAS index)
 The server of SIPAS Field, offline-first collection of the SIPAS citizen
 satisfaction survey: device sync, rounds and sample frames, review and
 spot checks, the SIPAS index and reports, the web dashboard. SQLite (default)
 or PostgreSQL. Runs as the system user sipas under systemd; configuration in
 /etc/sipas-server/config.toml; "sipas-server backup" copies the SQLite
 database while the server runs.
CONTROL
echo "/etc/sipas-server/config.toml" >"$ROOT/DEBIAN/conffiles"
install -m 0755 "$PKG/postinst" "$PKG/prerm" "$PKG/postrm" "$ROOT/DEBIAN/"

OUT_DIR=$TARGET/release/bundle/server
mkdir -p "$OUT_DIR"
DEB=$OUT_DIR/sipas-server_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null

# ---- checks
INFO=$(dpkg-deb --info "$DEB"); CONTENTS=$(dpkg-deb --contents "$DEB")
grep -q "Package: sipas-server" <<<"$INFO"
grep -q "Version: $VERSION" <<<"$INFO"
for f in postinst prerm postrm conffiles; do grep -q " $f" <<<"$INFO" || { echo "package-server: no $f" >&2; exit 1; }; done
for f in ./usr/bin/sipas-server ./lib/systemd/system/sipas-server.service ./etc/sipas-server/config.toml \
         ./lib/systemd/system/sipas-server-backup.timer ./usr/lib/sipas-server/sipas-server-backup; do
  grep -q " $f\$" <<<"$CONTENTS" || { echo "package-server: $f missing from the package" >&2; exit 1; }
done
grep -q "^-rwxr-xr-x root/root .* ./usr/bin/sipas-server$" <<<"$CONTENTS" ||
  { echo "package-server: /usr/bin/sipas-server is not root-owned 0755" >&2; exit 1; }
# The packaged server reads the packaged configuration file.
CHECK=$STAGE/check
dpkg-deb -x "$DEB" "$CHECK"
"$CHECK/usr/bin/sipas-server" --version | grep -q "sipas-server $VERSION"
sh -n "$CHECK/usr/lib/sipas-server/sipas-server-backup"
for s in postinst prerm postrm; do sh -n "$PKG/$s"; done
if command -v systemd-analyze >/dev/null 2>&1; then
  # The units as packaged, with their programs pointed into the unpacked package (verify checks
  # that ExecStart= is executable); the user sipas need not exist here.
  UNITS=$STAGE/units; mkdir -p "$UNITS"
  for u in sipas-server.service sipas-server-backup.service sipas-server-backup.timer; do
    sed -e "s#/usr/bin/sipas-server#$CHECK/usr/bin/sipas-server#g" \
        -e "s#/usr/lib/sipas-server/#$CHECK/usr/lib/sipas-server/#g" \
        "$CHECK/lib/systemd/system/$u" >"$UNITS/$u"
  done
  OUT=$(cd "$UNITS" && systemd-analyze verify --man=no sipas-server.service \
          sipas-server-backup.service sipas-server-backup.timer 2>&1) ||
    { echo "package-server: systemd-analyze verify failed:" >&2; echo "$OUT" >&2; exit 1; }
  [ -z "$OUT" ] || { echo "package-server: systemd-analyze verify warned:"; echo "$OUT"; exit 1; }
  echo "systemd-analyze verify: the three units are clean"
else
  echo "systemd-analyze not installed: unit files not verified"
fi
echo "$INFO" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Installed-Size\):/  \1:/p'
echo "built $DEB ($(stat -c %s "$DEB") bytes)"
