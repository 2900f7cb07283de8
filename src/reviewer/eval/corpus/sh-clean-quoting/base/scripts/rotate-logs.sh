#!/bin/sh
# Compress yesterday's logs and remove those older than the retention period.

log_dir=${LOG_DIR:-/var/log/app}
keep_days=${KEEP_DAYS:-30}

for f in $(find $log_dir -name '*.log' -mtime +0); do
  gzip -9 $f
done

find $log_dir -name '*.log.gz' -mtime +$keep_days -exec rm {} \;
echo rotated logs in $log_dir
