#!/usr/bin/env bash
# Nightly database backup, run by root from cron.
set -euo pipefail

db="${1:?usage: backup.sh DATABASE}"
dest="/srv/backups/${db}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

mkdir -p "$dest"
pg_dump --format=custom "$db" > "${dest}/${db}-${stamp}.dump"
find "$dest" -name "${db}-*.dump*" -mtime +14 -delete
echo "backup of ${db} written to ${dest}"
