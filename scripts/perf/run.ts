// map-reduce end to end on the local target (issue: faas run). Needs the stack: `bash scripts/stack.sh up`.
//   node --import tsx scripts/perf/run.ts [--platform linux/amd64]
// Prints total and per-phase times for 16 MiB of input with 1, 2 and 4 mappers, then a repeated
// (warm) run against the first one.
import {silent} from '../../src/core/events.js'
import {parsePlatform} from '../../src/core/platform.js'
import {loadSettings} from '../../src/core/settings.js'
import {runBenchmark} from '../../src/run/run.js'

const at = process.argv.indexOf('--platform')
const platform = parsePlatform(at > 0 ? process.argv[at + 1]! : 'linux/arm64')
const settings = loadSettings()
const run = async (mappers: number, reducers: number) => {
  const started = performance.now()
  const record = await runBenchmark(
    settings,
    {benchmark: 'map-reduce', target: 'local', platform, tag: 'perf', baseImage: 'local', inputMb: 16, shards: 16, seed: 1, mappers, reducers},
    silent,
  )
  const wall = (performance.now() - started) / 1000
  const p = record.phasesMs as Record<string, number>
  console.log(
    `${platform} 16 MiB, ${mappers} mapper(s), ${reducers} reducer(s): ${wall.toFixed(1)} s wall, correct=${record.correct}, ` +
      `driver total ${p['function.total']} ms (map ${p['function.map']}, reduce ${p['function.reduce']}), ` +
      `build ${p.build}, deploy ${p.deploy}, upload ${p.upload}, invoke ${p.invoke}, verify ${p.verify} ms, cold starts ${record.coldStarts}/${record.invocations.length}`,
  )
  return wall
}

const first = await run(1, 1)
await run(2, 2)
await run(4, 2)
const again = await run(1, 1)
console.log(`repeated run (warm, 1 mapper): ${again.toFixed(1)} s vs first ${first.toFixed(1)} s (${(again / first).toFixed(2)}x)`)
