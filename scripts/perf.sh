#!/usr/bin/env bash
# Runs every benchmark script in scripts/perf (or those named: `npm run perf -- images local`) against
# the development stack, printing their figures. Nothing here asserts: figures are for reading.
set -euo pipefail
# The AWS SDK's notice that its 2027 releases need Node 22: faas supports Node 20 (see README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/.."
eval "$(bash scripts/stack.sh up)"
npm run -s build
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls scripts/perf/*.ts | xargs -n1 basename | sed 's/\.ts$//'))
for name in "${names[@]}"; do
  echo "== perf: $name"
  node --import tsx "scripts/perf/$name.ts"
done
