#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster and creates the `sipas` superuser the server's storage
# tests use (idempotent). Runs as root on Debian 12 with the `postgresql` package installed.
# Prints the line to export: SIPAS_TEST_DATABASE_URL=postgres://sipas:sipas@127.0.0.1:5432/postgres
set -euo pipefail

if ! pg_ctlcluster 15 main status >/dev/null 2>&1; then
  service postgresql start >/dev/null 2>&1 || pg_ctlcluster 15 main start
fi

# Wait until the server accepts connections (at most ~30 s).
for _ in $(seq 1 60); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
  sleep 0.5
done
su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" || { echo "start-postgres: server not ready" >&2; exit 1; }

# Create the role unless it exists ("already exists" is fine).
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'sipas'\"" | grep -q 1; then
  su postgres -c "psql -q -c \"CREATE ROLE sipas LOGIN SUPERUSER PASSWORD 'sipas'\"" 2>&1 \
    | grep -v "already exists" || true
fi

echo "export SIPAS_TEST_DATABASE_URL=postgres://sipas:sipas@127.0.0.1:5432/postgres"
