#!/usr/bin/env bash
# Nightly database backup, run by root from cron.
set -euo pipefail

db="${1:?usage: backup.sh DATABASE}"
dest="/srv/backups/${db}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
tmp="/tmp/${db}-backup.dump"

mkdir -p "$dest"
pg_dump --format=custom "$db" > "$tmp"
gzip -c "$tmp" > "${dest}/${db}-${stamp}.dump.gz"
rm -f "$tmp"
find "$dest" -name "${db}-*.dump*" -mtime +14 -delete
echo "backup of ${db} written to ${dest}"
