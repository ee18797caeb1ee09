#!/usr/bin/env bash
# The test command (README, .ci/run): brings up everything the tests need on a bare machine
# (scripts/stack.sh up: Docker engine, qemu, registries, moto, base images), compiles, then runs
# the unit and integration suites and ends with one "N passed, N failed" line.
#   bash scripts/test.sh            all suites
#   bash scripts/test.sh unit       only the unit tests (no services needed)
set -uo pipefail
cd "$(dirname "$0")/.."

suites=${1:-"unit integration e2e"}
if [ "$suites" != unit ]; then
  eval "$(bash scripts/stack.sh up)" || { echo "test: the stack did not come up" >&2; exit 1; }
else
  [ -d node_modules ] || npm ci --no-fund --no-audit --loglevel=error
fi
npm run -s build && npm run -s typecheck || exit 1

passed=0; failed=0; status=0
for suite in $suites; do
  [ -d "test/$suite" ] || continue
  echo "== $suite"
  log=$(mktemp)
  node --import tsx ./node_modules/uvu/bin.js "test/$suite" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  total=$(grep -oP 'Total:\s+\K\d+' <<<"$plain" | tail -1)
  ok=$(grep -oP 'Passed:\s+\K\d+' <<<"$plain" | tail -1)
  total=${total:-0}; ok=${ok:-0}
  passed=$((passed + ok)); failed=$((failed + total - ok))
  # A suite that crashed before uvu's totals still counts as a failure.
  if [ "$code" -ne 0 ]; then status=1; [ "$total" -eq "$ok" ] && failed=$((failed + 1)); fi
  rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
