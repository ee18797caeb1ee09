#!/usr/bin/env bash
# Runs the end-to-end suite N times, each cold (the e2e ports' local service and S3 store stopped
# first, so every function starts in a new environment), and prints the pass rate. With --busy, a
# CPU hog keeps one core busy throughout (issue 9: the suite must pass on a loaded 2-core machine).
#   bash scripts/soak.sh 10
#   bash scripts/soak.sh 5 --busy
# Heavy (arm64 under emulation): on a shared machine run it under the machine-wide lock.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:-5}; busy=${2:-}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash scripts/soak.sh N [--busy]" >&2; exit 2; }
eval "$(bash scripts/stack.sh up)" || { echo "soak: the stack did not come up" >&2; exit 1; }
npm run -s build && npm run -s typecheck || exit 1

hog=
if [ "$busy" = --busy ]; then
  # One busy loop: on a 2-core machine, the other core is all the suite gets.
  (while :; do :; done) & hog=$!
fi
logs=$(mktemp -d)
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; true' EXIT

# The e2e suite's fixed ports (test/e2e/run.test.ts).
stop_e2e_service() {
  FAAS_HOME=$(mktemp -d) FAAS_LOCAL_PORT=9211 FAAS_LOCAL_S3_PORT=9212 node bin/run.js local stop >/dev/null 2>&1 || true
}

passed=0
for i in $(seq 1 "$n"); do
  stop_e2e_service
  start=$(date +%s)
  FAAS_TEST_NO_BUILD=1 bash scripts/test.sh e2e >"$logs/run-$i.log" 2>&1
  code=$?
  secs=$(( $(date +%s) - start ))
  summary=$(tail -1 "$logs/run-$i.log")
  if [ "$code" -eq 0 ]; then passed=$((passed + 1)); verdict=pass; else verdict=FAIL; fi
  printf 'soak: run %d/%d %s in %ds (%s)%s\n' "$i" "$n" "$verdict" "$secs" "$summary" "$([ "$code" -ne 0 ] && echo ", log: $logs/run-$i.log")"
done
stop_e2e_service
printf 'soak: %d of %d passed (%d%%)%s\n' "$passed" "$n" $((100 * passed / n)) "$([ -n "$hog" ] && echo ', one core kept busy')"
[ "$passed" -eq "$n" ]
