#!/usr/bin/env bash
# Benchmarks (release builds): server ingest throughput on SQLite and PostgreSQL against the raw
# SQLite insert ceiling. Figures go to BENCHMARKS.md by hand, with the date and machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
eval "$(bash scripts/start-postgres.sh | tail -n 1)"
export SIPAS_TEST_DATABASE_URL
cargo build --release --locked -p sipas-server
SIPAS_SERVER_BIN="$PWD/target/release/sipas-server" cargo bench --locked --bench ingest
