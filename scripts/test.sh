#!/usr/bin/env bash
# The test command (README, .ci/run): brings up everything the tests need on a bare machine
# (scripts/stack.sh up: Docker engine, qemu, registries, moto, base images), compiles, then runs
# the unit and integration suites and ends with one "N passed, N failed" line.
#   bash scripts/test.sh            all suites
#   bash scripts/test.sh unit       only the unit tests (no services needed)
#   FAAS_TEST_NO_BUILD=1            skip the compile step (the caller just did it)
set -uo pipefail
# The AWS SDK's notice that its 2027 releases need Node 22: faas supports Node 20 (see README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/.."

suites=${1:-"unit integration e2e"}
if [ "$suites" != unit ] && [[ $suites != test/fixtures/* ]]; then
  eval "$(bash scripts/stack.sh up)" || { echo "test: the stack did not come up" >&2; exit 1; }
else
  [ -d node_modules ] || npm ci --no-fund --no-audit --loglevel=error
fi
[ -n "${FAAS_TEST_NO_BUILD:-}" ] || { npm run -s build && npm run -s typecheck; } || exit 1
# Lint and format are part of the test: a finding fails the run before any suite starts.
npm run -s lint && npm run -s format:check -- --log-level warn || { echo "test: lint or format findings (npm run lint; npm run format)" >&2; exit 1; }

passed=0; failed=0; status=0
for suite in $suites; do
  # A suite is a folder under test/ (unit, integration, e2e) or a path to one.
  dir=test/$suite; [ -d "$dir" ] || dir=$suite
  [ -d "$dir" ] || continue
  echo "== $suite"
  log=$(mktemp)
  # uvu-hooks: an exception in a before/after hook fails the run instead of vanishing.
  node --import tsx --import ./test/helpers/uvu-hooks.ts ./node_modules/uvu/bin.js "$dir" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  # A suite whose "(passed / total)" has fewer ✘ than missing passes lost tests without a failure
  # report: uvu swallowed an exception thrown in a hook (also for suites the preload cannot wrap).
  # A file's marks may span lines (tests that print), so they count from its previous total on.
  swallowed=0
  marks=0
  while IFS= read -r line; do
    marks=$((marks + $(grep -o '✘' <<<"$line" | wc -l)))
    [[ $line =~ \(([0-9]+)\ /\ ([0-9]+)\) ]] || continue
    missing=$((BASH_REMATCH[2] - BASH_REMATCH[1] - marks))
    [ "$missing" -gt 0 ] && swallowed=$((swallowed + missing))
    marks=0
  done <<<"$plain"
  if [ "$swallowed" -gt 0 ]; then
    echo "test: $swallowed test(s) in $suite never ran and reported no failure: an exception in a before/after hook (see above)" >&2
    status=1
  fi
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
