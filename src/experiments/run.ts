import {mkdir, stat, writeFile} from 'node:fs/promises'
import {cpus, hostname} from 'node:os'
import {basename, join, resolve} from 'node:path'

import {runBench} from '../bench/bench.js'
import {reconfigurerOf} from '../bench/reconfigure.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {
  type BenchmarkManifest,
  type FunctionManifest,
  loadBenchmark,
  resolveEnv,
  selectFunctions,
} from '../core/manifest.js'
import {checkFunctionName} from '../core/names.js'
import {benchmarksDir} from '../core/paths.js'
import {resolvePolicies} from '../core/policies.js'
import {lambdaArchitecture, type Platform} from '../core/platform.js'
import type {Settings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {buildBenchmark, type BuiltImage} from '../images/build.js'
import {createTarget} from '../targets/index.js'
import type {FunctionSpec, KeepWarm, RunTarget} from '../targets/target.js'
import {interleave} from './interleave.js'
import {reportExperiment, type ExperimentRecord, type ExperimentReport} from './results.js'
import {loadExperiment, type Experiment} from './spec.js'

export interface ExperimentRunOptions {
  /** An experiment file, or a results folder to rerun (its rerun.json: same images, seeds and configuration). */
  file: string
  target: 'local' | 'aws'
  /** Overrides the file's repeat. */
  repeat?: number
  /** Results folder (default experiment-results/<name>-<time>). */
  out?: string
  baseImage?: string
  registry?: string
  /** Leave the variants' functions deployed afterwards. */
  keep?: boolean
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-')

/** The experiment to run: a file, or a results folder's rerun.json. */
async function resolveInput(file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined)
  if (info?.isDirectory()) {
    const rerun = join(file, 'rerun.json')
    if (!(await stat(rerun).catch(() => undefined))) {
      throw new UserError(`${file} is a folder without rerun.json, so not an experiment's results.`, {
        code: 'NO_EXPERIMENT',
        fix: 'Give an experiment file (experiments/*/experiment.yaml) or a folder written by faas experiment run.',
      })
    }
    return rerun
  }
  return file
}

/**
 * `faas experiment run`: builds each variant's image, deploys each under its own function name,
 * runs the same load on each in interleaved order, and writes the results folder with the
 * comparison and its report.
 */
export async function runExperiment(
  settings: Settings,
  options: ExperimentRunOptions,
  emit: Emit,
  signal?: AbortSignal,
): Promise<ExperimentReport & {dir: string}> {
  const experiment = await loadExperiment(await resolveInput(options.file), benchmarksDir())
  const manifest = await loadBenchmark(experiment.benchmarkName, experiment.benchmarkRoot)
  const fn = selectFunctions(manifest, [experiment.function ?? manifest.entry])[0]!
  const platform = experiment.platform ?? settings.platform
  const repeat = options.repeat ?? experiment.repeat
  const functionName = (variant: string) => checkFunctionName(`${experiment.name}-${variant}`)
  const dir = resolve(options.out ?? join('experiment-results', `${experiment.name}-${stamp()}`))
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, basename(experiment.file)), experiment.text)

  const engine = new DockerEngine()
  const target = await createTarget(options.target, settings, {maxInFlight: experiment.load.maxInFlight})
  const images = await variantImages({experiment, manifest, fn, platform, engine, target}, options, emit, signal)

  const specs = variantSpecs(experiment, manifest, fn, images, functionName)
  const checked = target.preflight ? await target.preflight(specs) : specs
  for (const spec of checked) await target.deploy(spec, emit)

  const record = experimentRecord(experiment, options.target, {manifest, fn, platform, repeat, images, checked})
  // A rerun takes the same images (by ID or digest), seeds and configuration.
  await writeFile(
    join(dir, 'rerun.json'),
    JSON.stringify(rerunConfig(experiment, record, manifest.dir), null, 2) + '\n',
  )

  const reconfigurer = experiment.load.coldStarts ? reconfigurerOf(target) : undefined
  const keepWarm = await startKeepWarm(experiment, record, target, emit)
  try {
    for (const slot of interleave(
      experiment.variants.map((v) => v.name),
      repeat,
    )) {
      if (signal?.aborted) break
      const runDir = join(dir, 'variants', slot.variant, `run-${String(slot.index).padStart(3, '0')}`)
      const seed = experiment.seed + slot.index
      emit({
        kind: 'start',
        subject: 'experiment',
        message: `Run ${slot.index + 1}: ${slot.variant} (repeat ${slot.repeat + 1}/${repeat})`,
      })
      record.runs.push({...slot, seed, dir: runDir.slice(dir.length + 1)})
      await runBench(
        {
          functions: [functionName(slot.variant)],
          payload: JSON.stringify(experiment.load.payload ?? {}),
          rps: experiment.load.rps,
          durationS: experiment.load.time,
          warmupS: experiment.load.warmup,
          distribution: experiment.load.distribution,
          seed,
          maxInFlight: experiment.load.maxInFlight,
          outDir: runDir,
          latf: 'lat.csv',
          architecture: record.architecture,
          coldStarts: experiment.load.coldStarts,
        },
        {
          invoke: (request) => target.invoke(request),
          reconfigure: reconfigurer?.reconfigure,
          restore: reconfigurer?.restore,
          emit,
          signal,
        },
      )
    }
  } finally {
    await keepWarm.stop()
    record.interrupted = Boolean(signal?.aborted)
    record.finishedAt = new Date().toISOString()
    await writeFile(join(dir, 'experiment.json'), JSON.stringify(record, null, 2) + '\n')
    if (!options.keep)
      await target
        .destroy(
          specs.map((s) => s.name),
          {roles: true},
          emit,
        )
        .catch((error) =>
          emit({
            kind: 'warn',
            subject: 'experiment',
            message: `could not remove the variants' functions: ${(error as Error).message}`,
          }),
        )
  }
  const report = await reportExperiment(dir, emit)
  return {...report, dir}
}

type VariantImage = {image: string; imageId: string; architecture: string; digest?: string; uri: string}

/**
 * Each variant's image: its own, or built from the benchmark with its build args (one tag per variant), then made
 * runnable by the target (pushed on AWS, by ID locally).
 */
async function variantImages(
  context: {
    experiment: Experiment
    manifest: BenchmarkManifest
    fn: FunctionManifest
    platform: Platform
    engine: DockerEngine
    target: RunTarget
  },
  options: ExperimentRunOptions,
  emit: Emit,
  signal?: AbortSignal,
): Promise<Map<string, VariantImage>> {
  const {experiment, manifest, fn, platform, engine, target} = context
  const images = new Map<string, VariantImage>()
  const builds: Array<{variant: string; tag: string; functions: FunctionManifest[]; images: BuiltImage[]}> = []
  for (const variant of experiment.variants) {
    if (signal?.aborted) break
    if (variant.image) {
      const info = await target.inspectImage(engine, variant.image, `Variant ${variant.name}`)
      images.set(variant.name, {
        image: variant.image,
        imageId: info?.id ?? variant.image,
        architecture: info?.architecture ?? platform.split('/')[1]!,
        uri: variant.image,
      })
      continue
    }
    const tag = `${experiment.name}-${variant.name}`
    const built = await buildBenchmark(
      engine,
      manifest,
      {functions: [fn], platform, tag, baseImage: options.baseImage, buildArgs: variant.buildArgs},
      emit,
    )
    builds.push({variant: variant.name, tag, functions: [fn], images: built})
    const {image, imageId, architecture} = built[0]!
    images.set(variant.name, {image, imageId, architecture, uri: image})
  }
  const prepared = await target.prepare(
    {
      manifest,
      engine,
      builds,
      registry: options.registry,
      baseImage: options.baseImage,
      service: {
        experiment: experiment.name,
        needsS3: manifest.functions.some((f) => f.policies.includes('access_s3')),
        idleTimeoutS: experiment.local?.idleTimeout,
      },
    },
    emit,
  )
  // What each variant is deployed from: the pushed image by digest (AWS), the image by ID (local).
  builds.forEach((build, i) => {
    const current = images.get(build.variant)!
    images.set(build.variant, {...current, uri: prepared[i]![0]!.uri, digest: prepared[i]![0]!.digest})
  })
  return images
}

/** One function per variant: the benchmark function's settings, with the variant's overrides. */
function variantSpecs(
  experiment: Experiment,
  manifest: BenchmarkManifest,
  fn: FunctionManifest,
  images: Map<string, VariantImage>,
  functionName: (variant: string) => string,
): FunctionSpec[] {
  const policies = resolvePolicies(fn.policies)
  return experiment.variants.map((variant) => {
    const image = images.get(variant.name)!
    return {
      name: functionName(variant.name),
      image: {uri: image.uri, digest: image.digest, architecture: lambdaArchitecture(image.architecture)},
      handler: variant.handler,
      memoryMb: variant.memory ?? fn.memoryMb,
      timeoutS: variant.timeout ?? fn.timeoutS,
      env: {...resolveEnv(manifest, fn), ...variant.env},
      policies,
    }
  })
}

/** The experiment record as deployed (what each variant runs), before any run. */
function experimentRecord(
  experiment: Experiment,
  target: 'local' | 'aws',
  deployed: {
    manifest: BenchmarkManifest
    fn: FunctionManifest
    platform: Platform
    repeat: number
    images: Map<string, VariantImage>
    checked: FunctionSpec[]
  },
): ExperimentRecord {
  const {manifest, fn, platform, repeat, images, checked} = deployed
  return {
    name: experiment.name,
    file: experiment.file,
    target,
    startedAt: new Date().toISOString(),
    interrupted: false,
    seed: experiment.seed,
    confidence: experiment.confidence,
    repeat,
    platform,
    architecture: checked[0]!.image.architecture,
    benchmark: {name: manifest.name, dir: manifest.dir, function: fn.name},
    load: experiment.load,
    metrics: experiment.metric,
    pairs: experiment.pairs,
    variants: experiment.variants.map((variant, i) => ({
      name: variant.name,
      function: checked[i]!.name,
      image: images.get(variant.name)!.image,
      imageId: images.get(variant.name)!.imageId,
      uri: checked[i]!.image.uri,
      digest: checked[i]!.image.digest ?? images.get(variant.name)!.digest,
      memoryMb: checked[i]!.memoryMb,
      handler: variant.handler,
      env: variant.env ?? {},
      keepWarm: variant.keepWarm ? {everyS: variant.keepWarm.every} : undefined,
    })),
    runs: [],
    machine: {host: hostname(), cpus: cpus().length, node: process.version},
  }
}

/** Keep-warm schedules, one per variant that asks: the target's (a pinger locally, EventBridge Scheduler on AWS). */
async function startKeepWarm(
  experiment: Experiment,
  record: ExperimentRecord,
  target: RunTarget,
  emit: Emit,
): Promise<{stop: () => Promise<void>}> {
  const running: Array<{variant: ExperimentRecord['variants'][number]; schedule: KeepWarm}> = []
  const stop = async () => {
    for (const {variant, schedule} of running) {
      const stats = await schedule.stop()
      if (stats) Object.assign(variant.keepWarm!, {pings: stats.pings, pingErrors: stats.errors})
    }
  }
  try {
    for (const variant of experiment.variants) {
      if (!variant.keepWarm) continue
      const entry = record.variants.find((v) => v.name === variant.name)!
      const payload = variant.keepWarm.payload ?? {'faas-keep-warm': true}
      const schedule = await target.keepWarm({name: entry.function, everyS: variant.keepWarm.every, payload}, emit)
      running.push({variant: entry, schedule})
      if (schedule.expression) entry.keepWarm!.expression = schedule.expression
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  return {stop}
}

/**
 * The experiment as run: images pinned by ID (local) or digest (AWS), the benchmark by absolute path, the same seed.
 */
function rerunConfig(experiment: Experiment, record: ExperimentRecord, benchmarkDir: string) {
  return {
    name: experiment.name,
    ...(experiment.description ? {description: experiment.description} : {}),
    benchmark: benchmarkDir,
    ...(experiment.function ? {function: experiment.function} : {}),
    platform: record.platform,
    seed: experiment.seed,
    confidence: experiment.confidence,
    repeat: record.repeat,
    variants: experiment.variants.map((variant, i) => {
      const {buildArgs: _built, ...rest} = variant
      const v = record.variants[i]!
      return {
        ...rest,
        // Only a pushed image has a digest.
        image: v.digest ? `${v.uri.replace(/:[^:/]+$/, '')}@${v.digest}` : v.imageId,
      }
    }),
    load: experiment.load,
    metric: experiment.metric.map((m) => `${m.name}:${m.statistic}`),
    compare: experiment.pairs,
    ...(experiment.local ? {local: experiment.local} : {}),
  }
}
