/**
 * The benchmarks' images and cold starts (figures printed, never asserted):
 *   node --import tsx scripts/perf/benchmarks.ts [--cold 5] [--emulated-cold 3] [--only aes,chameleon] [--cnn-emulated]
 * 1. image size of each benchmark's Lambda image and of its served image (docker/Dockerfile: vSwarm's
 *    kind, gRPC + HTTP server): the layers each adds over faas's offline base, beside vSwarm's published
 *    recipe sizes where known;
 * 2. cold start (the REPORT's Init Duration) median and p90 of each benchmark on the local service,
 *    native (amd64 images on this amd64 host) and emulated (arm64 images under qemu) apart. Each cold
 *    start is forced by a configuration change (the service then starts a new environment) followed
 *    by one invocation with the benchmark's bench payload. Emulated: the service's `emulated` mark on the
 *    REPORT, or an image architecture other than the host's.
 * Everything goes through `faas run`'s service (build, deploy, checked workload — which also uploads
 * the S3 inputs the bench payloads name), so every measured image has answered correctly once.
 * cnn_serving is measured emulated only with --cnn-emulated (TensorFlow under qemu takes minutes).
 * Smoke mode (FAAS_PERF_SMOKE=1): aes alone, one native cold start, none emulated.
 */
import {mkdtempSync} from 'node:fs'
import {arch as hostArch, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {deployedName, loadBenchmark} from '../../src/core/manifest.js'
import type {Platform} from '../../src/core/platform.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {baseImageRef} from '../../src/images/base.js'
import {buildBenchmark} from '../../src/images/build.js'
import {stopLocalService} from '../../src/local/service-process.js'
import {runBenchmark} from '../../src/run/run.js'
import {stopLocalS3} from '../../src/storage/local-s3.js'
import {createTarget} from '../../src/targets/index.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    cold: {type: 'string', default: sized('5', '1')},
    'emulated-cold': {type: 'string', default: sized('3', '0')},
    only: {type: 'string', default: sized('aes,chameleon,image-rotate,cnn_serving', 'aes')},
    'cnn-emulated': {type: 'boolean', default: false},
  },
})
process.env.FAAS_HOME ??= mkdtempSync(join(tmpdir(), 'faas-perf-benchmarks-'))
process.env.FAAS_LOCAL_PORT ??= '9521'
process.env.FAAS_LOCAL_S3_PORT ??= '9522'
delete process.env.FAAS_TARGET

// vSwarm publishes its function images on Docker Hub (vhiveease/…); their sizes could not be read from
// here (no registry but the package registries is reachable), and none is quoted in vSwarm's docs.
const VSWARM_SIZES: Record<string, string> = {
  aes: 'unknown (vhiveease/aes-python: not reachable here, not quoted in vSwarm docs)',
  'image-rotate': 'unknown (vhiveease/image-rotate-python: same)',
  chameleon: 'unknown (vHive function-images/chameleon: same)',
  cnn_serving: 'unknown (vHive function-images/cnn_serving: same)',
}

const engine = new DockerEngine()
const settings = loadSettings()
const target = await createTarget('local', settings)
const host = hostArch() === 'x64' ? 'amd64' : hostArch()
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const silent = () => {}

interface Row {
  benchmark: string
  arch: string
  emulated: boolean
  imageMb: string
  addedMb: string
  servedAddedMb: string
  init: number[]
}
const rows: Row[] = []

async function measure(name: string, platform: Platform, colds: number): Promise<void> {
  const manifest = await loadBenchmark(name)
  const record = await runBenchmark(
    settings,
    {
      benchmark: name,
      target: 'local',
      platform,
      tag: 'perf',
      baseImage: 'local',
      seed: 1,
      params: {'input-mb': 1, shards: 4, mappers: 4, reducers: 2},
    },
    silent,
  )
  const image = record.images[0]!
  const built = await engine.inspectImage(image.imageId)
  const base = await engine.inspectImage(baseImageRef(platform))
  const [served] = await buildBenchmark(
    engine,
    manifest,
    {
      functions: manifest.functions.map((f) => ({...f, dockerfile: 'docker/Dockerfile'})),
      platform,
      tag: 'perf-serve',
      baseImage: 'local',
    },
    silent,
  )
  const entry = deployedName(manifest.name, manifest.entry)
  const init: number[] = []
  const marks = new Set<boolean>()
  for (let i = 0; i < colds; i++) {
    const state = await target.describe(entry)
    await target.reconfigure(entry, {env: {...state!.env, FAAS_PERF_COLD: `${Date.now()}-${i}`}})
    const outcome = await target.invoke({name: entry, payload: JSON.stringify(manifest.payload), logTail: true})
    if (outcome.functionError) throw new Error(`${entry} failed: ${outcome.payload}`)
    if (outcome.report?.initDurationMs === undefined) throw new Error(`${entry}: invocation ${i} was not cold`)
    init.push(outcome.report.initDurationMs)
    marks.add(outcome.report.emulated === true)
  }
  init.sort((a, b) => a - b)
  // The service marks figures from emulated environments; an image of another architecture than the host's is emulated
  // anyway.
  const emulated = marks.has(true) || image.architecture !== host
  rows.push({
    benchmark: name,
    arch: image.architecture,
    emulated,
    imageMb: mb(built?.sizeBytes ?? 0),
    addedMb: mb((built?.sizeBytes ?? 0) - (base?.sizeBytes ?? 0)),
    servedAddedMb: mb(served!.sizeBytes - (base?.sizeBytes ?? 0)),
    init,
  })
  console.log(
    `  ${name} ${image.architecture}: checked run ${record.correct ? 'correct' : 'WRONG'}; Init ` +
      `Duration ${init.map((x) => x.toFixed(0)).join(', ')} ms`,
  )
}

const names = values.only.split(',').map((n) => n.trim())
console.log(
  `benchmark images and cold starts — host ${host}, ${(await import('node:os')).availableParallelism()} ` +
    `cores; ${values.cold} native / ${values['emulated-cold']} emulated cold starts each`,
)
try {
  for (const name of names) await measure(name, 'linux/amd64', Number(values.cold))
  for (const name of names) {
    if ((name === 'cnn_serving' && !values['cnn-emulated']) || values['emulated-cold'] === '0') continue
    await measure(name, 'linux/arm64', Number(values['emulated-cold']))
  }
} finally {
  await stopLocalService({}, silent).catch(() => undefined)
  await stopLocalS3(engine).catch(() => undefined)
}

console.log("\nimage sizes on faas's offline base (added = image − base; served = docker/Dockerfile, gRPC + HTTP shim)")
for (const row of rows) {
  console.log(
    `  ${row.benchmark.padEnd(13)} ${row.arch.padEnd(6)} Lambda image ${row.imageMb.padStart(9)}  ` +
      `added ${row.addedMb.padStart(9)}  served added ${row.servedAddedMb.padStart(9)}   ` +
      `vSwarm: ${VSWARM_SIZES[row.benchmark] ?? 'no recipe'}`,
  )
}
console.log('\ncold start, Init Duration on the local service')
for (const emulated of [false, true]) {
  console.log(emulated ? '  emulated (arm64 under qemu):' : `  native (${host}):`)
  for (const row of rows.filter((r) => r.emulated === emulated)) {
    console.log(
      `    ${row.benchmark.padEnd(13)} median ${pct(row.init, 50).toFixed(0).padStart(6)} ms  ` +
        `p90 ${pct(row.init, 90).toFixed(0).padStart(6)} ms  (n=${row.init.length})`,
    )
  }
}
