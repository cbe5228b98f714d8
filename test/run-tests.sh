#!/usr/bin/env bash
# The test command (`npm test`): starts the real dependencies the suite uses,
# checks the contracts and types, compiles dist/ (the CLI that tests spawn
# runs from it), then runs every *.test.ts with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/deps.sh
npx buf lint
npx tsc -p . --noEmit
npm run --silent build

# Node 20's --test does not expand globs: pass the files explicitly.
# Every test has a time limit, so a hang fails the suite instead of stalling
# it: 10 minutes, above the slowest test on a loaded 2-core machine (a
# 200,000-entry archive confined at about 100 s); tests set tighter ones.
mapfile -t files < <(find app bin libs services test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
