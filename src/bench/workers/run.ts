import {UserError, messageOf} from '../../core/errors.js'
import type {Emit} from '../../core/events.js'
import type {Invoke} from '../../core/invoke.js'
import type {InvocationRecord} from '../../core/records.js'
import {type LoadShape, plainArrivals} from '../arrival.js'
import {type BenchDeps, type BenchOptions, type BenchResult, prepareTrace, writeRun} from '../bench.js'
import {checkFunctionsExist} from '../check-functions.js'
import {phasesShape} from '../phases.js'
import {type Clock, systemClock} from '../runner.js'
import {arrivals} from '../schedule.js'
import {distribution, summarize} from '../stats.js'
import {evaluateThresholds} from '../thresholds.js'
import {checkShareSizes, type ClockSample, clockOffset, splitArrivals, type WorkerArrival} from './plan.js'

/** Clock calls per worker after the first (which may be a cold start, and so is not a sample). */
const CLOCK_SAMPLES = 5

export interface WorkersDeps {
  /** Invokes a worker function (always through the target's Lambda API, whatever --protocol drives). */
  invokeWorker: Invoke
  /** Refuses endpoints that cannot be driven, before any load (default: Lambda DryRun checks). */
  check?: (functions: string[]) => Promise<void>
  invoke: Invoke
  /** Deploys the trace function's copies that --trace replays on (idempotent, as deploy is). */
  deployCopies?: BenchDeps['deployCopies']
  /** Deploys (idempotently) the n worker functions and gives their names. */
  deployWorkers: (n: number) => Promise<string[]>
  /** The run's bucket, made if need be, and reading a key of it; refused when the client cannot reach it. */
  storage: () => Promise<{bucket: string; getText: (key: string) => Promise<string>}>
  emit: Emit
  clock?: Clock
}

export interface WorkerSummary {
  worker: number
  function: string
  /** The worker's clock minus the client's, µs, and the round trip it was measured with (its error ≤ rtt / 2). */
  clockOffsetUs: number
  clockRttUs: number
  count: number
  dropped: number
  achievedRps: number
  latenessUs?: ReturnType<typeof distribution>
}

/** How long before the common start the run calls go out: time for N invocations to reach warm workers. */
const leadUs = (workers: number) => 1_500_000 + 100_000 * workers

async function invokeJson(invoke: Invoke, name: string, event: unknown): Promise<Record<string, unknown>> {
  const outcome = await invoke({name, payload: JSON.stringify(event)})
  if (outcome.functionError || outcome.statusCode >= 400) {
    throw new UserError(`Load-generator worker ${name} failed: ${outcome.payload ?? `HTTP ${outcome.statusCode}`}.`, {
      code: 'WORKER_FAILED',
      fix:
        `See its log (faas invoke --function_name ${name} --log); rebuild the load-generator image (faas build ` +
        'load-generator) if it is out of date.',
    })
  }
  return JSON.parse(outcome.payload ?? '{}') as Record<string, unknown>
}

/** Each worker's clock offset, measured NTP-style; a worker that cannot write to the bucket is refused here. */
async function measureClocks(names: string[], bucket: string, deps: WorkersDeps, clock: Clock) {
  return Promise.all(
    names.map(async (name, worker) => {
      const probe = {op: 'clock', bucket, key: `faas-bench-workers/probe-${worker}`}
      const first = await invokeJson(deps.invokeWorker, name, probe)
      if (first.bucket !== 'ok') {
        throw new UserError(`Worker ${name} cannot write to the results bucket ${bucket}: ${String(first.bucket)}.`, {
          code: 'NO_RESULTS_BUCKET',
          fix:
            'Workers need the bucket from where they run: on the local target, a service started with the local ' +
            'S3 store (faas local stop, then run again so faas starts both); on AWS, the access_s3 policy.',
        })
      }
      const samples: ClockSample[] = []
      for (let i = 0; i < CLOCK_SAMPLES; i++) {
        const sendUs = clock.epochUs()
        const answer = await invokeJson(deps.invokeWorker, name, {op: 'clock'})
        samples.push({sendUs, recvUs: clock.epochUs(), workerUs: Number(answer.t)})
      }
      return clockOffset(samples)
    }),
  )
}

async function resultsBucket(deps: WorkersDeps) {
  try {
    return await deps.storage()
  } catch (error) {
    throw new UserError(`bench --workers cannot reach the run's results bucket (${messageOf(error)}).`, {
      code: 'NO_RESULTS_BUCKET',
      fix:
        'Workers write their records there: on the local target the local S3 store must run (faas starts it ' +
        'with the service); on AWS, check the credentials can create and write faas-runs-<account>-<region>.',
    })
  }
}

/** The load the workers share: a trace (its copies deployed and checked), phases, or plain rps × time. */
async function workersShape(
  options: BenchOptions,
  deps: WorkersDeps,
): Promise<{shape?: LoadShape; functions: string[]}> {
  if (options.trace) {
    const {shape, endpoints} = await prepareTrace(options, deps)
    return {shape, functions: endpoints}
  }
  await (deps.check ? deps.check(options.functions) : checkFunctionsExist(deps.invoke, options.functions))
  return {shape: options.phases ? phasesShape(options.phases, options) : undefined, functions: options.functions}
}

/**
 * bench --workers: the schedule split over N load-generator functions on the target, which start together at a
 * common time (each corrected by its measured clock offset), write their records to the run's bucket, and are
 * merged here into one results folder: each record says its `worker`, times in the client's clock.
 */
export async function runWorkersBench(options: BenchOptions & {workers: number}, deps: WorkersDeps) {
  const clock = deps.clock ?? systemClock
  const n = options.workers
  if (options.memorySizes || options.coldStarts) {
    throw new UserError('--workers drives a fixed, Poisson, phased or trace load, not a sweep or cold starts.', {
      code: 'WORKERS_MODE',
      fix: 'Leave out --workers for --memory and --cold-starts (run those from this machine).',
    })
  }
  const {shape, functions} = await workersShape(options, deps)
  const warmupS = shape?.warmupS ?? options.warmupS
  const durationS = shape?.durationS ?? options.durationS
  const schedule =
    shape?.schedule() ??
    plainArrivals(
      arrivals({
        rps: options.rps,
        durationS: warmupS + durationS,
        distribution: options.distribution,
        seed: options.seed,
      }),
    )
  const shares = splitArrivals(schedule, {workers: n, functions, warmupS})
  checkShareSizes(shares)
  const storage = await resultsBucket(deps)
  deps.emit({kind: 'start', subject: 'bench', message: `Deploying ${n} load-generator workers…`})
  const names = await deps.deployWorkers(n)
  deps.emit({kind: 'start', subject: 'bench', message: `Measuring ${n} workers' clocks…`})
  const clocks = await measureClocks(names, storage.bucket, deps, clock)
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`
  const startUs = Math.round(clock.epochUs() + leadUs(n))
  deps.emit({
    kind: 'start',
    subject: 'bench',
    message: `${n} workers: ${shape ? shape.label : `${options.rps} rps for ${durationS} s`}, starting together`,
  })
  const answers = await Promise.all(
    names.map((name, worker) =>
      invokeJson(deps.invokeWorker, name, {
        op: 'run',
        worker,
        startUs: startUs + clocks[worker]!.offsetUs,
        arrivals: shares[worker]!,
        payload: options.payload,
        protocol: options.protocol ?? 'lambda',
        bucket: storage.bucket,
        key: `faas-bench-workers/${runId}/worker-${worker}.jsonl`,
        maxInFlight: Math.max(1, Math.ceil(options.maxInFlight / n)),
      }),
    ),
  )
  const perWorker = await Promise.all(
    answers.map(async (answer, worker) =>
      toClientClock(await storage.getText(String(answer.key)), clocks[worker]!.offsetUs, startUs),
    ),
  )
  const records = perWorker.flat().sort((a, b) => a.seq - b.seq)
  return writeWorkersRun(options, deps, {records, perWorker, answers, clocks, names, shares, warmupS, durationS, shape})
}

/** A worker's records in the client's clock: its times less its offset, lateness against the common start. */
function toClientClock(text: string, offsetUs: number, startUs: number): InvocationRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const r = JSON.parse(line) as InvocationRecord
      r.startUs -= offsetUs
      r.endUs -= offsetUs
      if (r.scheduledUs !== undefined) r.latenessUs = Math.max(0, r.startUs - startUs - r.scheduledUs)
      return r
    })
}

async function writeWorkersRun(
  options: BenchOptions & {workers: number},
  deps: WorkersDeps,
  run: {
    records: InvocationRecord[]
    perWorker: InvocationRecord[][]
    answers: Array<Record<string, unknown>>
    clocks: Array<{offsetUs: number; rttUs: number}>
    names: string[]
    shares: WorkerArrival[][]
    warmupS: number
    durationS: number
    shape?: LoadShape
  },
): Promise<BenchResult> {
  // As runLoad's window: its scheduled length, or longer when sends fell behind.
  const lastSendS = (rs: InvocationRecord[]) =>
    Math.max(0, ...rs.map((r) => (r.scheduledUs ?? 0) + (r.latenessUs ?? 0))) / 1e6
  const measuredS = (rs: InvocationRecord[]) => Math.max(run.durationS, lastSendS(rs) - run.warmupS)
  const measured = (rs: InvocationRecord[]) => rs.filter((r) => r.phase === 'measure')
  const workers: WorkerSummary[] = run.perWorker.map((rs, worker) => ({
    worker,
    function: run.names[worker]!,
    clockOffsetUs: run.clocks[worker]!.offsetUs,
    clockRttUs: run.clocks[worker]!.rttUs,
    count: measured(rs).length,
    dropped: Number(run.answers[worker]!.dropped ?? 0),
    achievedRps: measured(rs).length / measuredS(rs),
    latenessUs: distribution(measured(rs).flatMap((r) => (r.latenessUs === undefined ? [] : [r.latenessUs]))),
  }))
  const requestedRps = run.shares.flat().filter((a) => a[3] === 'measure').length / run.durationS
  const finished = run.shape?.finish?.(run.records)
  const summary = {
    ...summarize(run.records, {
      requestedRps,
      durationS: run.durationS,
      measuredS: measuredS(run.records),
      dropped: run.answers.reduce((t, a) => t + Number(a.droppedMeasured ?? 0), 0),
      interrupted: false,
      architecture: options.architecture,
      protocol: options.protocol ?? 'lambda',
    }),
    ...finished?.summary,
    workers,
    ...(options.thresholds ? {thresholds: evaluateThresholds(options.thresholds, run.records)} : {}),
  }
  const title =
    `faas bench with ${options.workers} workers` +
    (options.trace ? '' : `: ${[...new Set(options.functions)].join(', ')}`)
  const files = await writeRun(options.outDir, title, run.records, summary, options.latf, undefined, {
    csvColumns: [...(run.shape?.csvColumns ?? []), 'worker'],
    tables: finished?.tables,
    files: finished?.files,
  })
  deps.emit({
    kind: 'done',
    subject: 'bench',
    message: `${title}: ${summary.count} calls, ${summary.errors} errors; results in ${options.outDir}`,
  })
  return {kind: 'load', dir: options.outDir, summary, files}
}
