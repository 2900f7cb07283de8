#!/usr/bin/env bash
# Compress yesterday's logs and remove those older than the retention period.
set -euo pipefail

log_dir="${LOG_DIR:-/var/log/app}"
keep_days="${KEEP_DAYS:-30}"

case "$keep_days" in
  ''|*[!0-9]*) echo "KEEP_DAYS must be a number of days" >&2; exit 2 ;;
esac

find "$log_dir" -name '*.log' -mtime +0 -print0 | xargs -0 -r gzip -9 --
find "$log_dir" -name '*.log.gz' -mtime "+${keep_days}" -delete
echo "rotated logs in ${log_dir}"
