#!/usr/bin/env bash
# The observability tests check /metrics with `promtool check metrics` and
# scrape it with a real Prometheus they start themselves (Debian's package;
# its own service is not used).
set -euo pipefail
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
# The package starts its own server on :9090 where systemd or an init script
# runs; the tests do not need it, and it would hold the port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi
