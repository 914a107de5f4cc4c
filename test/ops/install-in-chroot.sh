#!/usr/bin/env bash
# `npm run test:ops`: runs ops/install.sh in a fresh Debian 13 root, as a new box would, then checks what
# a user would notice: /healthz, a GraphQL query, HTTPS through Caddy, PostgreSQL and Redis on loopback
# only and behind passwords, prices arriving, a backup that restores, and a second install that changes
# nothing it should keep.
#
# How: debootstrap builds a minimal trixie root once (cached under .data/ops-test); every run copies it,
# copies this checkout in, and runs the install in new PID, mount and network namespaces. The services it
# starts live and die with those namespaces, its loopback is its own (no clash with this machine's
# PostgreSQL or Redis), and its only way out is test/ops/egress-proxy.ts, which lets through Debian's
# archive and the npm registry and nothing else. Needs root; takes minutes (not part of `npm test`).
#
# Environment: OPS_TEST_CACHE (default .data/ops-test), OPS_TEST_KEEP=1 keeps the run's root for a look,
# OPS_TEST_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${OPS_TEST_CACHE:-$REPO/.data/ops-test}
MIRROR=${OPS_TEST_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
cd "$REPO"

# ------------------------------------------------------------------------------------- outer half
log() { printf '\n== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "test:ops needs root (chroot, namespaces, mounts)" >&2; exit 1; }
missing=()
for tool in debootstrap unshare ip ss curl chroot; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap util-linux iproute2 curl >/dev/null
fi
started=$(date +%s)

# One pristine Debian 13 root, built once and kept (it is plain files: no mounts live in the cache).
mkdir -p "$CACHE"
BASE=$CACHE/base-$SUITE
if [ ! -f "$BASE/.complete" ]; then
  log "building a Debian 13 root with debootstrap (once; cached in $BASE)"
  rm -rf "$BASE.partial"
  debootstrap --variant=minbase "$SUITE" "$BASE.partial" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
  touch "$BASE.partial/.complete"
  mv "$BASE.partial" "$BASE"
fi
debootstrap_s=$(($(date +%s) - started))

RUN_ID=$(date -u +%Y%m%dT%H%M%S)-$$
WORK=$CACHE/run-$RUN_ID
ROOT=$WORK/root
SOCKET=$WORK/egress.sock
proxy_pid=''

# shellcheck disable=SC2317 # called through trap or check
cleanup() {
  local rc=$?
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  if [ -d "$WORK" ]; then
    if findmnt -rn -o TARGET | grep -q "^$WORK/"; then
      echo "test:ops: something is still mounted under $WORK; not deleting it" >&2
    elif [ "${OPS_TEST_KEEP:-}" = 1 ]; then
      echo "test:ops: kept $WORK (install logs, root)"
    else
      mkdir -p "$CACHE/last-run"
      cp "$WORK"/*.log "$CACHE/last-run/" 2>/dev/null || true
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

log "fresh root for this run: $ROOT"
mkdir -p "$WORK"
cp -a "$BASE" "$ROOT"
rm -f "$ROOT/.complete"
# As Debian's cloud images have it: the release, its updates and its security archive.
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# No init system runs in a chroot: packages must not try to start their services (install.sh does).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
printf 'nameserver 127.0.0.1\n' >"$ROOT/etc/resolv.conf" # nothing to resolve: the proxy does it
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"

# Where this machine reaches the npm registry through a TLS-inspecting egress, it trusts that egress's CA
# through NODE_EXTRA_CA_CERTS; the install under test gets the same bundle, for node and for curl (a real
# box needs nothing of this).
host_ca=''
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$ROOT/etc/ssl"
  cp "$NODE_EXTRA_CA_CERTS" "$ROOT/etc/ssl/ops-test-host-ca.crt"
  host_ca=/etc/ssl/ops-test-host-ca.crt
fi

log "copying the checkout into the root (/srv/stockstreamer)"
mkdir -p "$ROOT/srv/stockstreamer"
tar -C "$REPO" -cf - --exclude=./node_modules --exclude=./.data --exclude=./dist --exclude=./.git \
  --exclude=./test-results --exclude=./ops/cdk.out . | tar -C "$ROOT/srv/stockstreamer" -xf -

log "egress proxy: Debian's archive and the npm registry only"
registry_host=$(cd "$REPO" && npm config get registry | sed -E 's#^https?://([^/:]+).*#\1#')
mirror_host=$(sed -E 's#^https?://([^/:]+).*#\1#' <<<"$MIRROR")
EGRESS_LOG=$WORK/egress.log node --import tsx "$REPO/test/ops/egress-proxy.ts" proxy "$SOCKET" \
  "$mirror_host" "$registry_host" >"$WORK/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 50); do [ -S "$SOCKET" ] && break; sleep 0.2; done
[ -S "$SOCKET" ] || { cat "$WORK/proxy.log" >&2; exit 1; }
chmod 0600 "$SOCKET"

log "running the install in new PID, mount and network namespaces"
inner_rc=0
unshare --pid --fork --kill-child --mount --propagation private --net \
  env HOST_CA="$host_ca" bash "$REPO/test/ops/box-checks.sh" "$ROOT" "$WORK" "$SOCKET" ||
  inner_rc=$?

printf '\n--- egress (requests per kind and host)\n'
awk '{ print $2, $3 }' "$WORK/egress.log" 2>/dev/null | sort | uniq -c | sort -rn || true
printf '\n--- total %d s (debootstrap or cache %d s)\n' "$(($(date +%s) - started))" "$debootstrap_s"
exit "$inner_rc"
