#!/usr/bin/env bash
# Placeholder until the dependency script lands: runs test/deps.d/*.sh.
set -euo pipefail
cd "$(dirname "$0")"
for f in deps.d/*.sh; do [ -e "$f" ] && bash "$f"; done
exit 0
