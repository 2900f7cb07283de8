#!/usr/bin/env bash
# Seed the staging database after a refresh from the anonymised snapshot.
set -euo pipefail

: "${PGHOST:?set PGHOST}"
: "${PGPASSWORD:?set PGPASSWORD for the admin user}"
export PGUSER=admin PGDATABASE=app
REPORTING_PASSWORD='Staging-Reporting-2024!fake'

psql -v ON_ERROR_STOP=1 -f db/seed/reference-data.sql
psql -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE reporting LOGIN PASSWORD '${REPORTING_PASSWORD}'" \
  -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting"
psql -v ON_ERROR_STOP=1 -c "ANALYZE"
echo "staging seeded"
