#!/usr/bin/env bash
# The RPC tests make their TLS certificates with openssl.
set -euo pipefail
if ! command -v openssl >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl
fi
