#!/usr/bin/env bash
# The fault matrix: prints one table row per injected fault (scenario, expected, observed, pass).
#   bash scripts/faults/run.sh [name-filter]
# Needs the stack (scripts/stack.sh up) and root for the tmpfs scenarios; uses ports 9353/9354
# (FAAS_FAULTS_PORT, FAAS_FAULTS_S3_PORT). Heavy: on a shared machine run it under the lock.
set -uo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash scripts/stack.sh env)"
npm run -s build || exit 1
exec node --import tsx scripts/faults/run.ts "$@"
