#!/usr/bin/env bash
# Source-checkout tests: git with `git daemon` and `git http-backend` (both in Debian's git package).
set -euo pipefail
if ! command -v git >/dev/null 2>&1 || [ ! -x /usr/lib/git-core/git-daemon ] || [ ! -x /usr/lib/git-core/git-http-backend ]; then
  apt-get update -qq
  apt-get install -y -qq git >/dev/null
fi
