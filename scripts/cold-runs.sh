#!/usr/bin/env bash
# The README's main job, cold, N times: the local service is stopped before each run, so every function
# starts in a new environment. Prints each run's outcome and time, then the pass rate (issue 9's check).
#   bash scripts/cold-runs.sh 10
#   bash scripts/cold-runs.sh 5 --busy      one core kept busy by a loop throughout
# Uses its own FAAS_HOME and ports, so it does not touch a service you run on the defaults.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:-10}; busy=${2:-}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash scripts/cold-runs.sh N [--busy]" >&2; exit 2; }
export FAAS_HOME=${FAAS_HOME:-$(mktemp -d)} FAAS_LOCAL_PORT=${FAAS_LOCAL_PORT:-9291} FAAS_LOCAL_S3_PORT=${FAAS_LOCAL_S3_PORT:-9292}
hog=
if [ "$busy" = --busy ]; then (while :; do :; done) & hog=$!; fi
logs=$(mktemp -d)
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; ./bin/run.js local stop >/dev/null 2>&1; true' EXIT

passed=0
for i in $(seq 1 "$n"); do
  ./bin/run.js local stop >/dev/null 2>&1
  start=$(date +%s)
  if ./bin/run.js run map-reduce --base-image local >"$logs/run-$i.log" 2>&1; then
    passed=$((passed + 1)); outcome=pass
  else
    outcome="FAIL (see $logs/run-$i.log)"
  fi
  echo "run $i: $outcome in $(($(date +%s) - start)) s"
done
echo "$passed/$n cold runs passed"
[ "$passed" -eq "$n" ]
