/**
 * What `faas tune --parallel` costs in wall time on the local target (figures printed, never asserted):
 *   node --import tsx scripts/perf/tune.ts [--values 128,256,512,1024,1769,3008] [--num 20]
 * First each power value tuned on its own (one value, --num calls at once), then all values in one tune with
 * --parallel; the wall time of the whole against the slowest single value's own. Trivial handler, so the time
 * is the service's: publishing, cold starts of each version's environments, the calls. The machine's CPU over the
 * single values bounds what the whole can take: the same work, all at once, on this machine's cores.
 */
import {parseArgs} from 'node:util'

import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {deploy} from '../../src/services/deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {tune, type TuneRequest} from '../../src/tune/tune.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {CORES, machineBusySeconds} from './lib/machine-cpu.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    values: {type: 'string', default: sized('128,256,512,1024,1769,3008', '128,256')},
    num: {type: 'string', default: sized('20', '5')},
  },
})
const powerValues = values.values.split(',').map(Number)
const num = Number(values.num)
const engine = new DockerEngine()
const quiet = () => {}

const image = await fixtureImage(engine)
const service = await new LocalService(engine, {port: 0, idleTimeoutMs: 600_000}).start()
try {
  const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}), {
    endpoint: service.url,
    credentials: service.credentials,
    engine,
  })
  const [repository, tag] = image.split(':') as [string, string]
  const settings = loadSettings({...process.env, FAAS_TARGET: 'local'})
  const request = (name: string, memory: number[]): TuneRequest => ({
    functionName: name,
    powerValues: memory,
    num,
    payload: '{}',
    strategy: 'cost',
    balancedWeight: 0.5,
    parallel: true,
    discardTopBottom: 0.2,
    autoOptimize: false,
    alias: 'live',
  })
  // One function per run, so no run finds another's environments warm.
  const fresh = async (name: string) => {
    await deploy(
      target,
      settings,
      {repository, tag, functionName: name, policies: [], env: {}, handler: 'handler.trivial'},
      quiet,
    )
    return name
  }
  const single: number[] = []
  // The machine's CPU over each single value's tune (the engine's and the containers' included): how much of the
  // machine one value's environments already take, so what all of them at once need at least.
  const singleBusyS: number[] = []
  for (const memory of powerValues) {
    const name = await fresh(`tune-one-${memory}`)
    const [t, busy] = [performance.now(), machineBusySeconds()]
    await tune(target, request(name, [memory]), quiet)
    single.push(performance.now() - t)
    singleBusyS.push(machineBusySeconds() - busy)
  }
  const t = performance.now()
  await tune(target, request(await fresh('tune-all'), powerValues), quiet)
  const all = performance.now() - t
  const slowest = Math.max(...single)
  console.log(`faas tune --parallel on the local target — ${powerValues.length} power values × ${num} calls`)
  console.log(`  single values: ${single.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`)
  console.log(
    `  all values in one tune ${(all / 1000).toFixed(1)} s, slowest single ${(slowest / 1000).toFixed(1)} s, ` +
      `ratio ${(all / slowest).toFixed(2)} x`,
  )
  const busyS = singleBusyS.reduce((a, b) => a + b, 0)
  const busyShare = busyS / ((single.reduce((a, b) => a + b, 0) / 1000) * CORES)
  console.log(
    `  the single values kept the machine ${(busyShare * 100).toFixed(0)} % busy (${busyS.toFixed(1)} CPU-s in ` +
      `all); the same work at once takes at least ${(busyS / CORES).toFixed(1)} s on ${CORES} cores, ` +
      `${(busyS / CORES / (slowest / 1000)).toFixed(2)} x the slowest single`,
  )
} finally {
  await service.close()
}
process.exit(0)
