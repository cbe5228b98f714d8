#!/usr/bin/env bash
# The test command (`npm test`): starts the real dependencies the suite uses,
# checks the contracts and types, compiles dist/ (the CLI that tests spawn
# runs from it), then runs every *.test.ts with node:test on Node 24 LTS,
# and the CLI tests (bin/) once more on each other supported line: Node 20
# (the oldest) and 22.
# Where the machine's node is another major, test/node-runtimes.sh fetches
# the binary from the npm registry into ~/.cache/buildplane/.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/node-runtimes.sh

bash test/deps.sh
suite_node=$(node_bin_dir "${BUILDPLANE_TEST_NODE:-24}")
other_nodes=()
for major in ${BUILDPLANE_OTHER_NODES:-20 22}; do other_nodes+=("$(node_bin_dir "$major")"); done
sqlite_for_nodes "$suite_node" "${other_nodes[@]}"
export PATH="$suite_node:$PATH"
echo "run-tests: suite on Node $(node --version), CLI tests also on Node $(for n in "${other_nodes[@]}"; do "$n/node" --version; done | paste -sd, -)" >&2

npx buf lint
npx tsc -p . --noEmit
npm run --silent build

# Node 20's --test does not expand globs: pass the files explicitly.
# Every test has a time limit, so a hang fails the suite instead of stalling
# it: 10 minutes, above the slowest test on a loaded 2-core machine (a
# 200,000-entry archive confined at about 100 s); tests set tighter ones.
mapfile -t files < <(find app bin libs services test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"

mapfile -t cli_files < <(find bin -name '*.test.ts' | sort)
for other in "${other_nodes[@]}"; do
  PATH="$other:$PATH" node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${cli_files[@]}"
done
