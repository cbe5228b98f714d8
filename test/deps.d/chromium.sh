#!/usr/bin/env bash
# Web page tests: Debian's chromium, driven by playwright-core through
# executablePath /usr/bin/chromium (no browser download). Idempotent and fast
# when it is already installed.
set -euo pipefail

if ! [ -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
