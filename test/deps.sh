#!/usr/bin/env bash
# Starts every real dependency the test suite uses, on this machine or a fresh
# Debian CI machine (runs as root): Docker (dockerd), Podman's API service, a
# local base image `local/busybox:1` in both engines, a plain registry on
# 127.0.0.1:5000, PostgreSQL on 127.0.0.1:5432 with trust auth for `postgres`.
# Idempotent and quick when everything is already up; then runs
# test/deps.d/*.sh, where each area adds its own packages and daemons.
set -euo pipefail
cd "$(dirname "$0")"

STATE_DIR=/var/lib/buildplane-test
REGISTRY_ADDR=127.0.0.1:5000
PODMAN_SOCK=/run/podman/podman.sock
DOCKER_SOCK=/var/run/docker.sock
BASE_IMAGE=local/busybox:1
export DEBIAN_FRONTEND=noninteractive

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  die "test/deps.sh must run as root (it installs packages and starts daemons)"
fi

# --- packages -------------------------------------------------------------
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# package:command pairs; a package is installed only when its command is missing.
missing=()
for pair in docker.io:dockerd docker-registry:docker-registry busybox-static:busybox \
  podman:podman apache2-utils:htpasswd openssl:openssl git:git curl:curl \
  ca-certificates:update-ca-certificates iptables:iptables python3:python3 make:make g++:g++; do
  pkg=${pair%%:*} cmd=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# The base image needs the static busybox, not the dynamically linked one.
dpkg -s busybox-static >/dev/null 2>&1 || [[ " ${missing[*]} " == *" busybox-static "* ]] || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# Polls `$@` every 0.25 s until it succeeds or `timeout` seconds have passed.
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}

http_ok() { curl -fs -m 2 -o /dev/null "$@"; }

# --- Docker ---------------------------------------------------------------
docker_up() { curl -fs -m 2 --unix-socket "$DOCKER_SOCK" -o /dev/null http://docker/_ping; }

dockerd_pid=
start_dockerd() {
  log "starting dockerd $*"
  setsid dockerd "$@" >>/var/log/dockerd.log 2>&1 </dev/null &
  dockerd_pid=$!
  wait_for 60 docker_up
}

if ! docker_up; then
  # Bridge networking with iptables first; machines without a working
  # iptables get a daemon without it (containers still get a bridge).
  if ! start_dockerd; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait_for 15 sh -c "! kill -0 $dockerd_pid" || true
    start_dockerd --iptables=false || die "dockerd did not answer within 60 s: see /var/log/dockerd.log"
  fi
fi

# --- Podman's API service -------------------------------------------------
podman_up() { curl -fs -m 2 --unix-socket "$PODMAN_SOCK" -o /dev/null http://podman/_ping; }
if ! podman_up; then
  log "starting podman system service"
  mkdir -p "$(dirname "$PODMAN_SOCK")"
  rm -f "$PODMAN_SOCK"
  setsid podman system service --time=0 "unix://$PODMAN_SOCK" >>/var/log/podman-service.log 2>&1 </dev/null &
  wait_for 30 podman_up || die "podman system service did not answer within 30 s: see /var/log/podman-service.log"
fi

# --- base image -----------------------------------------------------------
make_rootfs() {
  local root=$1 bb
  bb=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n1)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  for c in sh ash echo cat ls mkdir cp mv rm ln chmod chown env test [ true false sleep touch \
    wc grep sed awk printf id head tail sort uniq tr cut find xargs tee date stat du df basename \
    dirname pwd whoami hostname uname tar gzip gunzip which expr seq yes kill ps nc wget; do
    ln -s busybox "$root/bin/$c"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

import_base() { # $1 = docker | podman
  local root
  root=$(mktemp -d)
  make_rootfs "$root"
  log "importing $BASE_IMAGE into $1"
  tar -C "$root" -c . | "$1" import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$BASE_IMAGE" >/dev/null 2>&1
  rm -rf "$root"
}

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || import_base docker
podman image exists "$BASE_IMAGE" || import_base podman

# --- registry on 127.0.0.1:5000 -------------------------------------------
if ! http_ok "http://$REGISTRY_ADDR/v2/"; then
  log "starting docker-registry on $REGISTRY_ADDR"
  mkdir -p "$STATE_DIR/registry/data"
  cat >"$STATE_DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  setsid docker-registry serve "$STATE_DIR/registry/config.yml" >>/var/log/buildplane-registry.log 2>&1 </dev/null &
  wait_for 30 http_ok "http://$REGISTRY_ADDR/v2/" || die "docker-registry did not answer on $REGISTRY_ADDR: see /var/log/buildplane-registry.log"
fi

# --- PostgreSQL on 127.0.0.1:5432 -----------------------------------------
pg_tcp_ok() { psql -h 127.0.0.1 -p 5432 -U postgres -w -tAc 'select 1' >/dev/null 2>&1; }
if ! command -v psql >/dev/null 2>&1 || ! pg_tcp_ok; then
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  command -v pg_isready >/dev/null 2>&1 || apt_install postgresql-client
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    read -r ver name < <(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }') || true
    [ -n "${ver:-}" ] || die "no PostgreSQL cluster on port 5432 (pg_lsclusters)"
    log "starting PostgreSQL $ver/$name"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
    wait_for 30 pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not answer on 127.0.0.1:5432"
  fi
  if ! pg_tcp_ok; then
    # Stock Debian asks for a scram password on loopback: tests connect as
    # postgres without one, so trust loopback connections on this test machine.
    hba=$(su postgres -c "psql -tAc 'show hba_file'")
    log "trusting loopback connections in $hba"
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
    wait_for 10 pg_tcp_ok || die "PostgreSQL on 127.0.0.1:5432 still refuses user postgres without a password"
  fi
fi

log "up: dockerd ($DOCKER_SOCK), podman service ($PODMAN_SOCK), $BASE_IMAGE in both, registry http://$REGISTRY_ADDR, postgres 127.0.0.1:5432"

# --- each area's own dependencies -----------------------------------------
for f in deps.d/*.sh; do
  [ -e "$f" ] || continue
  bash "$f"
done
exit 0
