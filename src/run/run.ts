import {cpus, hostname, totalmem} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {writeJsonFile} from '../core/files.js'
import {type BenchmarkManifest, deployedName, loadBenchmark} from '../core/manifest.js'
import {faasHome} from '../core/paths.js'
import {lambdaArchitecture, type Platform} from '../core/platform.js'
import {fromOutcome, type InvocationRecord} from '../core/records.js'
import type {Settings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {buildBenchmark, type BuiltImage} from '../images/build.js'
import {deploy, planDeploy} from '../services/deploy.js'
import {createTarget} from '../targets/index.js'
import {type Driven, driveChecked, driveUnchecked, startChecker} from './drive.js'

export interface RunOptions {
  benchmark: string
  target: 'local' | 'aws'
  platform: Platform
  tag: string
  baseImage?: string
  registry?: string
  bucket?: string
  /** Seed of the generated input (the checker's). */
  seed: number
  /** Run flags as given (e.g. {"mappers": 8}), for the benchmark's checker, which applies its defaults and limits. */
  params?: Record<string, unknown>
  /** The event instead of the manifest's payload. */
  payload?: unknown
  /** Where the run record goes; ~/.faas/runs/<run id>.json when absent. */
  recordPath?: string
}

type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>

/** Times phases into `phases` (a phase met twice adds up), announcing each. */
function phaseTimer(emit: Emit): {phases: Record<string, number>; timed: Timed} {
  const phases: Record<string, number> = {}
  // Calls of one phase may overlap (a checker's invoke_many): a phase's time is the wall time it had work in flight,
  // and its start line is printed when it goes from idle to busy, not once per call.
  const busy = new Map<string, {active: number; since: number}>()
  const timed: Timed = async (phase, work) => {
    const state = busy.get(phase) ?? {active: 0, since: 0}
    busy.set(phase, state)
    if (state.active++ === 0) {
      state.since = performance.now()
      emit({kind: 'start', subject: phase, message: `${phase[0]!.toUpperCase()}${phase.slice(1)}…`})
    }
    try {
      return await work()
    } finally {
      if (--state.active === 0) phases[phase] = (phases[phase] ?? 0) + Math.round(performance.now() - state.since)
    }
  }
  return {phases, timed}
}

/**
 * `faas run`: the benchmark's checker (if its folder has one) first refuses what it cannot check; then build,
 * publish (AWS), deploy (skipping what is in place), and drive: the checker generates the seeded input, has faas
 * invoke the entry and store objects for it, and checks the answer against its own reference (src/run/drive.ts).
 * Without a checker the entry is invoked with the payload, unchecked. Either way a run record (JSON) is written.
 */
export async function runBenchmark(settings: Settings, options: RunOptions, emit: Emit) {
  const manifest = await loadBenchmark(options.benchmark)
  const payload = options.payload ?? manifest.payload
  // Everything deploy would refuse (policies, tag, limits) is refused before the build, not after it.
  const target = await createTarget(options.target, settings)
  await planDeploy(target, settings, {benchmark: manifest.dir, tag: options.tag, registry: options.registry})
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${manifest.name}`
  const {phases, timed} = phaseTimer(emit)
  const engine = new DockerEngine()
  const checker = manifest.check
    ? await timed('check', () =>
        startChecker(engine, manifest, {...options, payload, params: options.params ?? {}}, emit),
      )
    : undefined
  try {
    const images = await timed('build', () =>
      buildBenchmark(
        engine,
        manifest,
        {functions: manifest.functions, platform: options.platform, tag: options.tag, baseImage: options.baseImage},
        emit,
      ),
    )
    // Pushed to ECR on AWS; locally the S3 store and the service started. Either way, the run's S3 and bucket.
    const [prepared] = await target.prepare(
      {
        manifest,
        engine,
        builds: [{tag: options.tag, functions: manifest.functions, images}],
        registry: options.registry,
        baseImage: options.baseImage,
        timed,
      },
      emit,
    )
    const digests = Object.fromEntries(prepared!.flatMap((p) => (p.digest ? [[p.function, p.digest]] : [])))
    const storage = await target.storage({bucket: options.bucket})
    const deployed = await timed('deploy', () =>
      deploy(
        target,
        settings,
        {
          benchmark: manifest.dir,
          tag: options.tag,
          registry: options.registry,
          architecture: lambdaArchitecture(images[0]!.architecture),
        },
        emit,
      ),
    )
    const entry = deployedName(manifest.name, manifest.entry)
    const invoke = (event: unknown) =>
      timed('invoke', async () => {
        const outcome = await target.invoke({name: entry, payload: JSON.stringify(event), logTail: true})
        if (outcome.functionError) {
          throw new UserError(`The run failed: ${entry} returned an error: ${describeError(outcome.payload)}`, {
            code: 'FUNCTION_ERROR',
            fix:
              `See its log with \`faas invoke --target ${options.target} --function_name ${entry} --log\`, fix ` +
              `the handler, and run again.`,
          })
        }
        return outcome
      })
    let driven: Driven
    try {
      driven = checker
        ? await driveChecked(checker, {
            seed: options.seed,
            runId,
            payload,
            invoke,
            storage,
            tables: manifest.tables.map((t) => t.name),
            api: deployed.api,
          })
        : await driveUnchecked(payload, invoke)
    } catch (error) {
      throw await target.runFailed(
        deployed.functions.map((f) => f.name),
        error,
        emit,
      )
    }
    const record = runRecord({settings, options, manifest, runId, entry, images, digests, deployed, driven, phases})
    return await saved(record, options.recordPath ?? join(faasHome(), 'runs', `${runId}.json`), driven.wrong)
  } finally {
    await checker?.checker.stop()
  }
}

interface RecordParts {
  settings: Settings
  options: RunOptions
  manifest: BenchmarkManifest
  runId: string
  entry: string
  images: BuiltImage[]
  digests: Record<string, string>
  deployed: {functions: Array<{name: string; action: string; changed: unknown}>}
  driven: Driven
  phases: Record<string, number>
}

/** The run record (~/.faas/runs/<id>.json): its fields and their order are part of faas's interface. */
function runRecord({
  settings,
  options,
  manifest,
  runId,
  entry,
  images,
  digests,
  deployed,
  driven,
  phases,
}: RecordParts) {
  // The entry's calls as faas saw them, then the calls the functions made, in the one record vocabulary.
  const invocations: InvocationRecord[] = [
    ...driven.outcomes.map((outcome, seq) => fromOutcome({seq, phase: 'measure', function: entry}, outcome)),
    ...driven.invocations.map((i, n) => ({...i, seq: driven.outcomes.length + n})),
  ]
  return {
    runId,
    benchmark: manifest.name,
    target: options.target,
    correct: driven.correct,
    differences: driven.differences,
    config: {...driven.config, tag: options.tag, platform: options.platform},
    verified: driven.verified,
    environment: {
      host: hostname(),
      cpus: cpus().length,
      memoryBytes: totalmem(),
      node: process.version,
      region: settings.region,
    },
    images: images.map((i) => ({
      function: i.function,
      image: i.image,
      imageId: i.imageId,
      architecture: i.architecture,
      digest: digests[i.function],
    })),
    deploy: deployed.functions.map((f) => ({name: f.name, action: f.action, changed: f.changed})),
    phasesMs: {...phases, ...driven.phasesMs},
    words: driven.words,
    bytes: driven.bytes,
    output: driven.output,
    invocations,
    coldStarts: invocations.filter((i) => i.cold).length,
    /** Some call ran under emulation (the local service, an image of another architecture than the host's). */
    emulated: invocations.some((i) => i.emulated),
  }
}

/** Writes the record; a wrong answer is a user error naming what differed, after the record is kept. */
async function saved<R extends {correct: boolean; differences: string[]}>(record: R, path: string, wrong?: string) {
  await writeJsonFile(path, record)
  if (!record.correct) {
    throw new UserError(`The run finished but ${wrong ?? 'its answer is wrong'}: ${record.differences.join('; ')}.`, {
      code: 'WRONG_ANSWER',
      fix: `The run record is in ${path}.`,
    })
  }
  return {...record, recordPath: path}
}

function describeError(payload: string): string {
  try {
    const error = JSON.parse(payload) as {errorType?: string; errorMessage?: string}
    return `${error.errorType ?? 'Error'}: ${error.errorMessage ?? payload}`
  } catch {
    return payload
  }
}
