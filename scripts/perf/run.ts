// map-reduce end to end on the local target (issue: faas run). Needs the stack: `bash scripts/stack.sh up`.
//   node --import tsx scripts/perf/run.ts [--platform linux/amd64]
// For 16 MiB of input with 1, 2 and 4 mappers: a first run from a stopped local service (every
// environment cold), then the same run again (warm), with total and per-phase times.
// Smoke mode (FAAS_PERF_SMOKE=1): 1 MiB, 1 mapper, on the host's own architecture (no emulation) unless --platform.
import {arch} from 'node:os'

import {silent} from '../../src/core/events.js'
import {parsePlatform} from '../../src/core/platform.js'
import {loadSettings} from '../../src/core/settings.js'
import {stopLocalService} from '../../src/local/service-process.js'
import {runBenchmark} from '../../src/run/run.js'
import {sized} from './lib/smoke.js'

const at = process.argv.indexOf('--platform')
const native = arch() === 'arm64' ? 'linux/arm64' : 'linux/amd64'
const platform = parsePlatform(at > 0 ? process.argv[at + 1]! : sized('linux/arm64', native))
const inputMb = sized(16, 1)
const settings = loadSettings()
const run = async (label: string, mappers: number, reducers: number) => {
  const started = performance.now()
  const record = await runBenchmark(
    settings,
    {
      benchmark: 'map-reduce',
      target: 'local',
      platform,
      tag: 'perf',
      baseImage: 'local',
      seed: 1,
      params: {'input-mb': inputMb, shards: 16, mappers, reducers},
    },
    silent,
  )
  const wall = (performance.now() - started) / 1000
  const p = record.phasesMs as Record<string, number>
  console.log(
    `${label} ${platform}, ${inputMb} MiB, ${mappers} mapper(s)/${reducers} reducer(s): ${wall.toFixed(1)} s wall, ` +
      `correct=${record.correct}; ` +
      `driver ${p['function.total']} ms (list ${p['function.list']}, map ${p['function.map']}, ` +
      `reduce ${p['function.reduce']}); ` +
      `build ${p.build}, deploy ${p.deploy}, upload ${p.upload}, invoke ${p.invoke}, verify ${p.verify} ms; cold ` +
      `starts ${record.coldStarts}/${record.invocations.length}`,
  )
  return wall
}

const shapes = sized(
  [
    [1, 1],
    [2, 2],
    [4, 2],
  ] as const,
  [[1, 1]] as const,
)
for (const [mappers, reducers] of shapes) {
  await stopLocalService()
  const first = await run('first', mappers, reducers)
  const again = await run('warm ', mappers, reducers)
  console.log(`  warm rerun / first run: ${(again / first).toFixed(2)}`)
}
await stopLocalService()
