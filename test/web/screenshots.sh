#!/usr/bin/env bash
# `npm run screenshots`: runs the web page's browser tests with
# WEB_SCREENSHOTS_DIR set, so each page they visit (builds list, a running,
# a finished and a failed build, apps, pool, the token gate, and the same in
# Firefox) is saved as a PNG under docs/screenshots/ (or the folder given).
# Needs what the tests need: test/deps.sh's engine, registry and browsers.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-docs/screenshots}"
mkdir -p "$out"
rm -f "$out"/*.png
npm run --silent build
WEB_SCREENSHOTS_DIR="$(cd "$out" && pwd)" node --import tsx --test --test-concurrency=1 --test-timeout=600000 \
  test/web/web-page.test.ts test/web/web-pool.test.ts test/web/web-firefox.test.ts
ls -1 "$out"/*.png
