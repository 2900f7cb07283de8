#!/usr/bin/env bash
# Seed the staging database after a refresh from the anonymised snapshot.
set -euo pipefail

: "${PGHOST:?set PGHOST}"
: "${PGPASSWORD:?set PGPASSWORD for the admin user}"
export PGUSER=admin PGDATABASE=app

psql -v ON_ERROR_STOP=1 -f db/seed/reference-data.sql
psql -v ON_ERROR_STOP=1 -c "ANALYZE"
echo "staging seeded"
