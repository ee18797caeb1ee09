import {IAMClient} from '@aws-sdk/client-iam'
import {SchedulerClient} from '@aws-sdk/client-scheduler'
import {mkdir, stat, writeFile} from 'node:fs/promises'
import {cpus, hostname} from 'node:os'
import {basename, join, resolve} from 'node:path'

import {clientConfig, createAwsClients} from '../aws/clients.js'
import {getFunction} from '../aws/lambda.js'
import {deleteKeepWarmSchedule, ensureKeepWarmSchedule, type KeepWarmSchedule} from '../aws/scheduler.js'
import {runBench} from '../bench/bench.js'
import {reconfigurerOf} from '../bench/reconfigure.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {loadBenchmark, resolveEnv, selectFunctions} from '../core/manifest.js'
import {checkFunctionName} from '../core/names.js'
import {benchmarksDir} from '../core/paths.js'
import {resolvePolicies} from '../core/policies.js'
import {lambdaArchitecture} from '../core/platform.js'
import type {Settings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {buildBenchmark} from '../images/build.js'
import {pushBenchmark} from '../images/push.js'
import {resolveRegistry} from '../images/registry.js'
import {ensureLocalService, health} from '../local/service-process.js'
import {ensureLocalS3} from '../storage/local-s3.js'
import {createTarget} from '../targets/index.js'
import type {FunctionSpec, Target} from '../targets/target.js'
import {interleave} from './interleave.js'
import {startPinger, type Pinger} from './keep-warm.js'
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
  // Images: the variant's own, or built from the benchmark with its build args (one tag per variant).
  const images = new Map<string, {image: string; imageId: string; architecture: string; digest?: string; uri: string}>()
  for (const variant of experiment.variants) {
    if (signal?.aborted) break
    if (variant.image) {
      const info = await engine.inspectImage(variant.image)
      if (!info && options.target === 'local') {
        throw new UserError(`Variant ${variant.name}'s image ${variant.image} is not in the Docker engine.`, {
          code: 'NO_IMAGE',
          fix: 'Build it, or give buildArgs instead of image so faas builds it.',
        })
      }
      images.set(variant.name, {
        image: variant.image,
        imageId: info?.id ?? variant.image,
        architecture: info?.architecture ?? platform.split('/')[1]!,
        uri: variant.image,
      })
      continue
    }
    const tag = `${experiment.name}-${variant.name}`
    const [built] = await buildBenchmark(
      engine,
      manifest,
      {functions: [fn], platform, tag, baseImage: options.baseImage, buildArgs: variant.buildArgs},
      emit,
    )
    // The local target runs the image by ID: what was measured is exactly what the record names.
    images.set(variant.name, {
      image: built!.image,
      imageId: built!.imageId,
      architecture: built!.architecture,
      uri: options.target === 'local' ? built!.imageId : built!.image,
    })
  }
  if (options.target === 'aws') {
    const registry = await resolveRegistry(settings, options.registry)
    for (const variant of experiment.variants.filter((v) => !v.image)) {
      const [pushed] = await pushBenchmark(
        engine,
        settings,
        manifest,
        {functions: [fn], tag: `${experiment.name}-${variant.name}`, registry},
        emit,
      )
      const current = images.get(variant.name)!
      images.set(variant.name, {...current, uri: pushed!.uri, digest: pushed!.digest})
    }
  } else {
    await ensureLocal(
      settings,
      experiment,
      manifest.functions.some((f) => f.policies.includes('access_s3')),
      options.baseImage,
      engine,
      emit,
    )
  }

  const target = await createTarget(options.target, settings, {maxInFlight: experiment.load.maxInFlight})
  const policies = resolvePolicies(fn.policies)
  const specs: FunctionSpec[] = experiment.variants.map((variant) => {
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
  const checked = target.preflight ? await target.preflight(specs) : specs
  for (const spec of checked) await target.deploy(spec, emit)

  const record: ExperimentRecord = {
    name: experiment.name,
    file: experiment.file,
    target: options.target,
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
  // A rerun takes the same images (by ID or digest), seeds and configuration.
  await writeFile(
    join(dir, 'rerun.json'),
    JSON.stringify(rerunConfig(experiment, record, manifest.dir, options.target), null, 2) + '\n',
  )

  const reconfigurer = experiment.load.coldStarts ? reconfigurerOf(target) : undefined
  const keepWarm = await startKeepWarm(experiment, record, target, settings, options.target, emit)
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

/**
 * The local service with the local S3 store (always: a service an experiment starts then serves every
 * later experiment too) and the idle timeout the experiment needs; a running service that lacks either
 * is reported, not restarted under someone's feet.
 */
async function ensureLocal(
  settings: Settings,
  experiment: Experiment,
  needsS3: boolean,
  baseImage: string | undefined,
  engine: DockerEngine,
  emit: Emit,
): Promise<void> {
  const s3Endpoint = await ensureLocalS3(engine, {baseImage}, emit)
  const idleTimeoutS = experiment.local?.idleTimeout
  const url = await ensureLocalService(settings, {s3Endpoint, idleTimeoutS}, emit)
  const running = await health(url)
  const stopIt = (needed: string) =>
    `Stop it (faas local stop) so the experiment starts one ${needed}, or run on another FAAS_LOCAL_PORT.`
  if (needsS3 && running?.s3Endpoint !== s3Endpoint) {
    throw new UserError(
      `Experiment ${experiment.name}'s functions use S3, but the local service running at ${url} gives ` +
        `functions ${running?.s3Endpoint ? `S3 at ${running.s3Endpoint}` : 'no S3 endpoint'}, not the local store ` +
        `at ${s3Endpoint}.`,
      {
        code: 'NO_LOCAL_S3',
        fix: stopIt('with the local S3 store'),
      },
    )
  }
  if (idleTimeoutS !== undefined) {
    const runningS = typeof running?.idleTimeoutMs === 'number' ? running.idleTimeoutMs / 1000 : undefined
    if (runningS !== idleTimeoutS) {
      throw new UserError(
        `Experiment ${experiment.name} needs the local service to reclaim idle environments after ${idleTimeoutS} ` +
          `s, but the one running ` +
          `at ${url} ${runningS === undefined ? 'does not say its idle timeout' : `keeps them ${runningS} s`}.`,
        {
          code: 'IDLE_TIMEOUT_MISMATCH',
          fix: stopIt(`with --idle-timeout ${idleTimeoutS}`),
        },
      )
    }
  }
}

/** Keep-warm schedules: a pinger per variant on the local target; an EventBridge Scheduler schedule on AWS. */
async function startKeepWarm(
  experiment: Experiment,
  record: ExperimentRecord,
  target: Target,
  settings: Settings,
  kind: 'local' | 'aws',
  emit: Emit,
): Promise<{stop: () => Promise<void>}> {
  const pingers: Array<{variant: string; pinger: Pinger}> = []
  const schedules: KeepWarmSchedule[] = []
  const clients =
    kind === 'aws'
      ? {scheduler: new SchedulerClient(clientConfig(settings)), iam: new IAMClient(clientConfig(settings))}
      : undefined
  const stop = async () => {
    for (const {variant, pinger} of pingers) {
      const stats = await pinger.stop()
      const entry = record.variants.find((v) => v.name === variant)!.keepWarm!
      entry.pings = stats.pings
      entry.pingErrors = stats.errors
    }
    for (const schedule of schedules) {
      await deleteKeepWarmSchedule(clients!, schedule)
      emit({kind: 'done', subject: 'keep-warm', message: `Removed schedule ${schedule.name}`})
    }
  }
  try {
    for (const variant of experiment.variants) {
      if (!variant.keepWarm) continue
      const name = record.variants.find((v) => v.name === variant.name)!.function
      const payload = variant.keepWarm.payload ?? {'faas-keep-warm': true}
      if (kind === 'local') {
        const pinger = startPinger((request) => target.invoke(request), {name, everyS: variant.keepWarm.every, payload})
        pingers.push({variant: variant.name, pinger})
        // The first ping starts the environment the schedule then keeps warm, before any measured call.
        await pinger.first
        emit({kind: 'done', subject: 'keep-warm', message: `Pinging ${name} every ${variant.keepWarm.every} s`})
      } else {
        const fnInfo = await getFunction(createAwsClients(settings).lambda, name)
        const schedule = await ensureKeepWarmSchedule(clients!, {
          name: `${name}-keep-warm`,
          functionArn: fnInfo!.arn,
          everyS: variant.keepWarm.every,
          payload,
        })
        schedules.push(schedule)
        record.variants.find((v) => v.name === variant.name)!.keepWarm!.expression = schedule.expression
        emit({kind: 'done', subject: 'keep-warm', message: `Schedule ${schedule.name}: ${schedule.expression}`})
      }
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
function rerunConfig(experiment: Experiment, record: ExperimentRecord, benchmarkDir: string, kind: 'local' | 'aws') {
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
        image:
          kind === 'aws' && v.digest ? `${record.variants[i]!.uri.replace(/:[^:/]+$/, '')}@${v.digest}` : v.imageId,
      }
    }),
    load: experiment.load,
    metric: experiment.metric.map((m) => `${m.name}:${m.statistic}`),
    compare: experiment.pairs,
    ...(experiment.local ? {local: experiment.local} : {}),
  }
}
