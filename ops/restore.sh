#!/usr/bin/env bash
# Restores a backup made by ops/backup.sh into a FRESH database, checks it, and (with --swap) makes it the
# live one. The current database is never overwritten: with --swap it is kept under another name.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: sudo ops/restore.sh [--into NAME] [--swap] [DUMP]

  DUMP         a file written by ops/backup.sh (default: the newest in /var/backups/stockstreamer)
  --into NAME  the new database to restore into (default: stockstreamer_restored_<UTC timestamp>);
               it must not exist yet
  --swap       then stop the app, rename the live database to stockstreamer_before_<timestamp>,
               give the restored one its name, and start the app again (needs systemd)
USAGE
}

live=${STOCKSTREAMER_DB:-stockstreamer}
owner=${STOCKSTREAMER_DB_OWNER:-stockstreamer}
backup_dir=${STOCKSTREAMER_BACKUP_DIR:-/var/backups/stockstreamer}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
into=''
swap=0
dump=''
while [ $# -gt 0 ]; do
  case "$1" in
    --into) into=${2:?--into needs a database name}; shift 2 ;;
    --swap) swap=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) dump=$1; shift ;;
  esac
done

die() {
  echo "restore.sh: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || die "run me as root (sudo $0)"
into=${into:-${live}_restored_$stamp}
into=${into,,}
[[ "$into" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "--into must be a plain database name (letters, digits, _), got '$into'"
[ "$into" != "$live" ] || die "restore into a fresh database, not the live one; use --swap to make it live"

if [ -z "$dump" ]; then
  dump=$(find "$backup_dir" -maxdepth 1 -type f -name "$live-*.dump" -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
  [ -n "$dump" ] || die "no backups in $backup_dir; pass the file to restore"
fi
[ -r "$dump" ] || die "cannot read $dump"

as_postgres() { runuser -u postgres -- "$@"; }
psql_q() { as_postgres psql -X -q -v ON_ERROR_STOP=1 "$@"; }
exists=$(psql_q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$into'")
[ -z "$exists" ] || die "database $into already exists; pick another with --into"

echo "restoring $dump into the new database $into"
psql_q -d postgres -c "CREATE DATABASE $into OWNER $owner"
# The dump is read on stdin, so the postgres user needs no access to wherever the file is. Objects are
# created as the app's role, so the app can use the restored database as it is.
if ! as_postgres pg_restore --exit-on-error --no-owner --role="$owner" --dbname="$into" <"$dump"; then
  psql_q -d postgres -c "DROP DATABASE IF EXISTS $into" || true
  die "pg_restore failed; the new database was dropped and nothing else was touched"
fi

echo "restored. rows per table in $into:"
for table in stock_prices stock_image_urls stock_highlow symbols; do
  count=$(psql_q -d "$into" -tAc "SELECT count(*) FROM $table" 2>/dev/null || echo '(missing)')
  printf '  %-18s %s\n' "$table" "$count"
done
latest=$(psql_q -d "$into" -tAc "SELECT max(time) FROM stock_prices" 2>/dev/null || true)
echo "  newest price at     ${latest:-(none)}"

if [ "$swap" = 0 ]; then
  cat <<EOF

The live database ($live) is untouched. To make the restored copy live instead:
  sudo $0 --swap $dump     (restores again into a new database, then swaps)
or by hand: stop stockstreamer.target, rename the databases with ALTER DATABASE, start it again.
EOF
  exit 0
fi

[ -d /run/systemd/system ] || die "--swap needs systemd to stop and start the app; the restored copy is in $into"
before=${live}_before_$stamp
echo "swapping: $live -> $before, $into -> $live"
systemctl stop stockstreamer-api.service stockstreamer-worker.service
psql_q -d postgres <<SQL
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('$live', '$into') AND pid <> pg_backend_pid();
ALTER DATABASE $live RENAME TO $before;
ALTER DATABASE $into RENAME TO $live;
SQL
systemctl start stockstreamer.target
echo "done: $live is the restored copy; the previous one is $before (drop it when you are sure)"
