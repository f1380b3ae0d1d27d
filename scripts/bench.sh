#!/usr/bin/env bash
# Benchmarks (release builds): server ingest throughput on SQLite and PostgreSQL against the raw
# SQLite insert ceiling; with the argument `index`, index / report latency and RSS at scale; with
# `sync`, 10,000 responses from a device store through the sync client to the server. Figures go to BENCHMARKS.md by hand, with the date and machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
eval "$(bash scripts/start-postgres.sh | tail -n 1)"
export SIPAS_TEST_DATABASE_URL
# The server as its .deb ships it (profile release-server, Cargo.toml).
cargo build --profile release-server --locked -p sipas-server --bin sipas-server --example bench_seed
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
# `bash scripts/bench.sh index`: index / report latency and server RSS at scale (issue 14).
if [ "${1:-}" = "index" ]; then
  # Above SIPAS_BENCH_HTTP_MAX responses the round is seeded through the storage layer.
  SIPAS_SERVER_BIN="$target_dir/release-server/sipas-server" \
    SIPAS_SEED_BIN="$target_dir/release-server/examples/bench_seed" \
    SIPAS_BENCH_SIZES="${SIPAS_BENCH_SIZES:-10000,100000,1000000}" \
    cargo bench --locked --bench index_scale
elif [ "${1:-}" = "sync" ]; then
  # `bash scripts/bench.sh sync`: device store -> sync client -> server, end to end (issue 14).
  # Built with the server's profile: it shares the build above.
  SIPAS_SERVER_BIN="$target_dir/release-server/sipas-server" \
    cargo bench --profile release-server --locked --bench device_sync
else
  SIPAS_SERVER_BIN="$target_dir/release-server/sipas-server" cargo bench --locked --bench ingest
fi
