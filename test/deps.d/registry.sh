#!/usr/bin/env bash
# Registry and image-resolution tests: docker-registry (CNCF distribution),
# htpasswd, openssl, and a running Docker engine holding local/busybox:1.
# Idempotent and fast when everything is already there.
set -euo pipefail

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /bin/busybox ] || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect local/busybox:1 >/dev/null 2>&1; then
  r=$(mktemp -d)
  mkdir -p "$r/bin"
  cp /bin/busybox "$r/bin/"
  for c in sh echo cat ls; do ln -s busybox "$r/bin/$c"; done
  tar -C "$r" -c . | docker import - local/busybox:1 >/dev/null
  rm -rf "$r"
fi
