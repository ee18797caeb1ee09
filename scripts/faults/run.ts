// The fault matrix (issue 9): each scenario injects one fault into a real faas command (real Docker
// engine, registry, local service and S3 store; fake peers only for AWS error paths and broken
// sockets), checks what the user sees and that a rerun converges, and prints one table row.
// One file per area of faults; this runner picks scenarios by name and prints the table.
//   bash scripts/faults/run.sh            every scenario
//   bash scripts/faults/run.sh push       only scenarios whose name matches "push"
import {rmSync} from 'node:fs'

import {scenarios as aws} from './aws.js'
import {scenarios as crashes} from './crashes.js'
import {scenarios as disk} from './disk.js'
import {benchmarks, faas, oneLine, writeBenchmarks, type Outcome, type Scenario} from './harness.js'
import {scenarios as interrupts} from './interrupts.js'
import {scenarios as races} from './races.js'
import {scenarios as registry} from './registry.js'
import {scenarios as state} from './state.js'

const scenarios: Scenario[] = [...interrupts, ...crashes, ...registry, ...aws, ...races, ...disk, ...state]

const filter = process.argv[2]
const selected = scenarios.filter(
  (s) => !filter || filter.split(',').some((f) => s.name.toLowerCase().includes(f.toLowerCase())),
)
writeBenchmarks()
const rows: Array<Scenario & Outcome & {seconds: number}> = []
try {
  for (const scenario of selected) {
    const t0 = Date.now()
    process.stderr.write(`faults: ${scenario.name}…\n`)
    let outcome: Outcome
    try {
      outcome = await scenario.run()
    } catch (error) {
      outcome = {pass: false, observed: `scenario failed: ${oneLine((error as Error).message ?? String(error))}`}
    }
    rows.push({...scenario, ...outcome, seconds: Math.round((Date.now() - t0) / 1000)})
    process.stderr.write(`faults: ${outcome.pass ? 'pass' : 'FAIL'} ${scenario.name}: ${outcome.observed}\n`)
  }
} finally {
  await faas(['local', 'stop'])
  rmSync(benchmarks, {recursive: true, force: true})
}
console.log('| # | scenario | expected | observed | pass |')
console.log('|---|---|---|---|---|')
rows.forEach((r, i) =>
  console.log(
    `| ${i + 1} | ${r.name} | ${r.expected} | ${r.observed.replaceAll('|', '/')} | ${r.pass ? 'yes' : 'NO'} |`,
  ),
)
const passed = rows.filter((r) => r.pass).length
console.log(`\nfaults: ${passed} of ${rows.length} scenarios pass`)
process.exit(passed === rows.length ? 0 : 1)
