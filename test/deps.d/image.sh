#!/usr/bin/env bash
# Image tests (test/image/): mmdebstrap makes the local Debian base of
# deploy/Dockerfile (deploy/make-base.sh), docker-compose (Debian's 1.29)
# brings up deploy/compose.yaml.
set -euo pipefail
missing=()
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
