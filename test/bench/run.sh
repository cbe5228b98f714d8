#!/usr/bin/env bash
# The benchmark command (`npm run bench`): runs every test/bench/*.ts and
# every test/**/*.bench.ts with tsx, one after the other, and fails when one fails.
# dist/ is compiled first: the benchmarks that start `buildplane` run it.
set -euo pipefail
cd "$(dirname "$0")/../.."

npm run --silent build

shopt -s nullglob
status=0
mapfile -t extra < <(find test -name '*.bench.ts' -not -path 'test/bench/*' | sort)
for bench in test/bench/*.ts "${extra[@]}"; do
  echo "== ${bench}"
  node --import tsx "${bench}" || status=1
done
exit "${status}"
