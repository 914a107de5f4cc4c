#!/usr/bin/env bash
# One pg_dump of the stockstreamer database into /var/backups/stockstreamer, then drops dumps older than
# 7 days. Run by stockstreamer-backup.service (as the postgres user, over the local socket), nightly.
# By hand: sudo systemctl start stockstreamer-backup   (or: sudo -u postgres ops/backup.sh)
set -euo pipefail
umask 077

db=${STOCKSTREAMER_DB:-stockstreamer}
dir=${STOCKSTREAMER_BACKUP_DIR:-/var/backups/stockstreamer}
keep_days=${STOCKSTREAMER_BACKUP_KEEP_DAYS:-7}
[[ "$keep_days" =~ ^[1-9][0-9]*$ ]] || { echo "backup.sh: STOCKSTREAMER_BACKUP_KEEP_DAYS must be a whole number of days" >&2; exit 1; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$dir/$db-$stamp.dump
# Custom format: compressed, and pg_restore can pick tables from it. Written aside, then renamed, so a
# dump that is in the folder is a whole one.
pg_dump --format=custom --no-password --file "$out.partial" "$db"
mv "$out.partial" "$out"

# Files from the last $keep_days days stay (find's -mtime counts whole days, rounding down).
find "$dir" -maxdepth 1 -type f \( -name "$db-*.dump" -o -name "$db-*.dump.partial" \) -mtime +"$((keep_days - 1))" -print -delete |
  sed 's/^/removed old backup /'
echo "backup written: $out ($(du -h "$out" | cut -f1))"
