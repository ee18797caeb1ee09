// Build-and-publish figures (issue: build and publish). Needs the stack: `bash scripts/stack.sh up`.
//   node --import tsx scripts/perf/images.ts
// Prints: concurrent vs. sequential cold builds of map-reduce's three arm64 images (wall-time ratio),
// a rebuild with nothing changed (time, steps run), and a second push of unchanged images (time, bytes).
// Smoke mode (FAAS_PERF_SMOKE=1): the driver's image alone.
import {silent} from '../../src/core/events.js'
import {loadBenchmark} from '../../src/core/manifest.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {buildBenchmark} from '../../src/images/build.js'
import {pushBenchmark} from '../../src/images/push.js'
import {SMOKE} from './lib/smoke.js'

const engine = new DockerEngine()
const whole = await loadBenchmark('map-reduce')
const manifest = SMOKE ? {...whole, functions: whole.functions.filter((f) => f.name === 'driver')} : whole
const count = manifest.functions.length
const registry = process.env.FAAS_TEST_REGISTRY ?? '127.0.0.1:5000'
const tag = 'perf'
const options = {platform: 'linux/arm64' as const, tag, baseImage: 'local'}
const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

// Warm the base image and BuildKit's context transfer once so both timings start equal.
await buildBenchmark(engine, manifest, {...options, functions: manifest.functions}, silent)

const sequential = await seconds(async () => {
  for (const fn of manifest.functions)
    await buildBenchmark(engine, manifest, {...options, functions: [fn], noCache: true}, silent)
})
const concurrent = await seconds(() =>
  buildBenchmark(engine, manifest, {...options, functions: manifest.functions, noCache: true}, silent),
)
console.log(
  `cold build, ${count} arm64 image(s): sequential ${sequential.toFixed(2)} s, ` +
    `concurrent ${concurrent.toFixed(2)} s, ratio ${(sequential / concurrent).toFixed(2)}x`,
)

let stepsRun = -1
const rebuild = await seconds(async () => {
  const built = await buildBenchmark(engine, manifest, {...options, functions: manifest.functions}, silent)
  stepsRun = built.reduce((n, image) => n + image.stepsRun.length, 0)
})
console.log(`rebuild with nothing changed: ${rebuild.toFixed(2)} s, ${stepsRun} step(s) run`)

const settings = loadSettings()
const push = (label: string) =>
  seconds(async () => {
    const pushed = await pushBenchmark(
      engine,
      settings,
      manifest,
      {functions: manifest.functions, tag, registry},
      silent,
    )
    const bytes = pushed.reduce((n, image) => n + image.bytesPushed, 0)
    const skipped = pushed.filter((image) => image.skipped).length
    console.log(`${label}: ${(bytes / 1e6).toFixed(1)} MB sent, ${skipped}/${count} skipped as already held`)
  })
const first = await push('first push')
console.log(`first push: ${first.toFixed(2)} s`)
const second = await push('second push of unchanged images')
console.log(`second push of unchanged images: ${second.toFixed(2)} s`)
