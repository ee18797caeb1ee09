import type {S3Client} from '@aws-sdk/client-s3'
import {cpus, hostname, totalmem} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {writeJsonFile} from '../core/files.js'
import {deployedName, loadBenchmark} from '../core/manifest.js'
import {faasHome} from '../core/paths.js'
import {lambdaArchitecture, type Platform} from '../core/platform.js'
import type {Settings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {buildBenchmark} from '../images/build.js'
import {deploy, planDeploy} from '../services/deploy.js'
import {ensureBucket} from '../storage/s3.js'
import {createTarget} from '../targets/index.js'
import type {InvokeOutcome} from '../core/invoke.js'
import {fromOutcome, microseconds, type InvocationRecord} from '../core/records.js'
import {checkMapReduceParams, type MapReduceParams, prepareInput, verifyOutput} from './map-reduce.js'
import {type Workload, type WorkloadContext, workloadOf} from './workloads.js'

export interface RunOptions extends MapReduceParams {
  benchmark: string
  target: 'local' | 'aws'
  platform: Platform
  tag: string
  baseImage?: string
  registry?: string
  bucket?: string
  /** The event for payload-driven workloads instead of the manifest's payload. */
  payload?: unknown
  /** Where the run record goes; ~/.faas/runs/<run id>.json when absent. */
  recordPath?: string
}

/**
 * `faas run`: build, publish (AWS), deploy (skipping what is in place), then drive the benchmark:
 * a word-count workload uploads a generated corpus, invokes the entry function and checks the
 * answer against a reference computed here; the other checked workloads (src/run/workloads.ts) do
 * the same for their benchmark; without a workload, the entry is invoked with the manifest's payload.
 * Either way a run record (JSON) is written.
 */
export async function runBenchmark(settings: Settings, options: RunOptions, emit: Emit) {
  const manifest = await loadBenchmark(options.benchmark)
  if (manifest.workload === 'word-count') checkMapReduceParams(options)
  else if (manifest.workload) workloadOf(manifest.workload).check(options.payload ?? manifest.payload)
  // Everything deploy would refuse (policies, tag, limits) is refused before the build, not after it.
  const target = await createTarget(options.target, settings)
  await planDeploy(target, settings, {benchmark: manifest.name, tag: options.tag, registry: options.registry})
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${manifest.name}`
  const phases: Record<string, number> = {}
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    emit({kind: 'start', subject: phase, message: `${phase[0]!.toUpperCase()}${phase.slice(1)}…`})
    try {
      return await work()
    } finally {
      phases[phase] = Math.round(performance.now() - started)
    }
  }
  // buildBenchmark checks the engine answers before anything else touches it.
  const engine = new DockerEngine()

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
        benchmark: manifest.name,
        tag: options.tag,
        registry: options.registry,
        architecture: lambdaArchitecture(images[0]!.architecture),
      },
      emit,
    ),
  )
  const entry = deployedName(manifest.name, manifest.entry)
  const invoke = (payload: unknown) =>
    timed('invoke', async () => {
      const outcome = await target.invoke({name: entry, payload: JSON.stringify(payload), logTail: true})
      if (outcome.functionError) {
        throw new UserError(`The run failed: ${entry} returned an error: ${describeError(outcome.payload)}`, {
          code: 'FUNCTION_ERROR',
          fix:
            `See its log with \`faas invoke --target ${options.target} --function_name ${entry} --log\`, fix the ` +
            `handler, and run again.`,
        })
      }
      return outcome
    })

  const payload = options.payload ?? manifest.payload
  let workload:
    | Awaited<ReturnType<typeof runWordCount>>
    | Awaited<ReturnType<typeof runPayload>>
    | Awaited<ReturnType<typeof runChecked>>
  try {
    if (manifest.workload === 'word-count') workload = await runWordCount(storage, options, runId, invoke, timed)
    else if (manifest.workload)
      workload = await runChecked(
        workloadOf(manifest.workload).run,
        {invoke, timed, storage: bucketReady(storage), payload, seed: options.seed, runId},
        entry,
      )
    else workload = await runPayload(payload, invoke)
  } catch (error) {
    throw await target.runFailed(
      deployed.functions.map((f) => f.name),
      error,
      emit,
    )
  }
  // The entry call as faas saw it, then the calls the functions made, in the one record vocabulary.
  const invocations = [
    fromOutcome({seq: 0, phase: 'measure', function: entry}, workload.outcome),
    ...workload.invocations.map((i, n) => ({...i, seq: n + 1})),
  ]
  const record = {
    runId,
    benchmark: manifest.name,
    target: options.target,
    correct: workload.correct,
    differences: workload.differences,
    config: {
      ...(manifest.workload === 'word-count'
        ? {
            inputMb: options.inputMb,
            shards: options.shards,
            seed: options.seed,
            mappers: options.mappers,
            reducers: options.reducers,
            bucket: storage.bucket,
          }
        : (workload.config ?? {payload})),
      tag: options.tag,
      platform: options.platform,
    },
    verified: workload.verified,
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
    phasesMs: {...phases, ...workload.functionPhasesMs},
    words: workload.words,
    bytes: workload.bytes,
    output: workload.output,
    invocations,
    coldStarts: invocations.filter((i) => i.cold).length,
    /** Some call ran under emulation (the local service, an image of another architecture than the host's). */
    emulated: invocations.some((i) => i.emulated),
  }
  const recordPath = options.recordPath ?? join(faasHome(), 'runs', `${runId}.json`)
  await writeJsonFile(recordPath, record)
  if (!record.correct) {
    throw new UserError(
      `The run finished but ${manifest.workload === 'word-count' ? 'the word counts are' : 'its answer is'} ` +
        `wrong: ${record.differences.join('; ')}.`,
      {
        code: 'WRONG_ANSWER',
        fix: `The run record is in ${recordPath}.`,
      },
    )
  }
  return {...record, recordPath}
}

type Invoke = (payload: unknown) => Promise<InvokeOutcome>

/** One call the map-reduce driver made and timed (benchmarks/map-reduce/driver). */
interface DriverInvocation {
  function: string
  request_id?: string
  start: number
  end: number
  cold?: boolean
  duration_ms?: number
  billed_duration_ms?: number
  init_duration_ms?: number
  memory_size_mb?: number
  max_memory_used_mb?: number
  /** The function ran under CPU emulation (the local target's foreign architecture). */
  emulated?: boolean
}
type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>

async function runWordCount(
  storage: {s3: S3Client; bucket: string},
  options: RunOptions,
  runId: string,
  invoke: Invoke,
  timed: Timed,
) {
  const {s3, bucket} = storage
  const input = await timed('upload', async () => {
    await ensureBucket(s3, bucket, (await s3.config.region()) ?? 'us-east-1')
    return prepareInput(s3, bucket, options)
  })
  const outcome = await invoke({
    bucket,
    input_prefix: input.prefix,
    job: `jobs/${runId}`,
    mappers: options.mappers,
    reducers: options.reducers,
  })
  const output = JSON.parse(outcome.payload)
  const verification = await timed('verify', () => verifyOutput(s3, bucket, output.outputs, input.shards))
  return {
    outcome,
    correct: verification.correct,
    differences: verification.differences,
    verified: 'word counts equal to the count made here' as string | undefined,
    config: undefined as Record<string, unknown> | undefined,
    words: {total: verification.totalWords, distinct: verification.distinctWords},
    bytes: {
      input: input.inputBytes,
      uploaded: input.uploadedBytes,
      functionsRead: output.bytes.read as number,
      functionsWritten: output.bytes.written as number,
    },
    functionPhasesMs: Object.fromEntries(
      Object.entries(output.phases_ms as Record<string, number>).map(([k, v]) => [`function.${k}`, v]),
    ),
    output: {job: output.job, outputs: output.outputs},
    // The driver's own calls of mappers and reducers, timed by the driver.
    invocations: (output.invocations as DriverInvocation[]).map((i, seq): InvocationRecord => ({
      seq,
      phase: 'measure',
      function: i.function,
      requestId: i.request_id,
      startUs: Math.round(i.start * 1e6),
      endUs: Math.round(i.end * 1e6),
      clientLatencyUs: Math.round((i.end - i.start) * 1e6),
      providerDurationUs: microseconds(i.duration_ms),
      billedDurationUs: microseconds(i.billed_duration_ms),
      initDurationUs: microseconds(i.init_duration_ms),
      cold: Boolean(i.cold),
      memoryMb: i.memory_size_mb,
      maxMemoryUsedMb: i.max_memory_used_mb,
      ...(i.emulated ? {emulated: true} : {}),
    })),
  }
}

/** The bucket, made on first use: only the workloads that keep input in S3 ask for it. */
function bucketReady(storage: {s3: S3Client; bucket: string}) {
  let ready: Promise<unknown> | undefined
  return async () => {
    ready ??= storage.s3.config
      .region()
      .then((region) => ensureBucket(storage.s3, storage.bucket, region ?? 'us-east-1'))
    await ready
    return storage
  }
}

/** A checked workload's calls of the entry, as the run record keeps them. */
async function runChecked(workload: Workload['run'], context: WorkloadContext, entry: string) {
  const result = await workload(context)
  return {
    outcome: result.outcomes[0]!,
    correct: result.correct,
    differences: result.differences,
    verified: result.verified,
    config: result.config,
    words: undefined,
    bytes: undefined,
    functionPhasesMs: {},
    output: result.output,
    invocations: result.outcomes
      .slice(1)
      .map((outcome, seq) => fromOutcome({seq, phase: 'measure', function: entry}, outcome)),
  }
}

async function runPayload(payload: unknown, invoke: Invoke) {
  const outcome = await invoke(payload)
  return {
    outcome,
    correct: true,
    verified: undefined,
    config: undefined,
    differences: [] as string[],
    words: undefined,
    bytes: undefined,
    functionPhasesMs: {},
    output: JSON.parse(outcome.payload || 'null') as unknown,
    invocations: [] as InvocationRecord[],
  }
}

function describeError(payload: string): string {
  try {
    const error = JSON.parse(payload) as {errorType?: string; errorMessage?: string}
    return `${error.errorType ?? 'Error'}: ${error.errorMessage ?? payload}`
  } catch {
    return payload
  }
}
