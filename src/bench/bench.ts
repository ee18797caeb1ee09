import {createWriteStream} from 'node:fs'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import {checkFunctionsExist} from './check-functions.js'
import type {Emit} from '../core/events.js'
import {ensurePrivateDir, fileError, PRIVATE_FILE, writeJsonFile, writePrivateFile} from '../core/files.js'
import type {LoadShape, ReportTable} from './arrival.js'
import {costPerCallUsd, type Architecture, type Prices} from './cost.js'
import {type Phase, phasesShape} from './phases.js'
import {mixShape, type MixRequest} from './mix.js'
import type {Protocol} from './protocols/endpoints.js'
import {type InvocationRecord, toCsv, toJsonl, toVhiveLatencies, vhiveFileName} from './records.js'
import {renderReport, type ReportInput} from './report.js'
import {type Clock, type Invoke, type LiveStatus, measureCall, runLoad, systemClock} from './runner.js'
import type {Distribution} from './schedule.js'
import {type Summary, summarize} from './stats.js'
import {pickBest, type SweepPick} from './sweep-verdict.js'
import {evaluateThresholds, type Threshold, type ThresholdResult} from './thresholds.js'
import {type TraceCopy, traceShape, type TraceOptions} from './trace/replay.js'

/**
 * Changes a deployed function's configuration and waits until it serves with it (Target.deploy
 * semantics): a new memory size, or env entries merged into its environment. Either change makes
 * the provider start fresh execution environments, which is how forced cold starts work (as SeBS does).
 */
export type Reconfigure = (fn: string, change: {memoryMb?: number; env?: Record<string, string>}) => Promise<void>

export interface BenchOptions {
  /** How the endpoints are called (default lambda); kept in every record and the summary. */
  protocol?: Protocol
  /** Function names (lambda) or host:port servers (http, grpc). */
  functions: string[]
  payload: string
  rps: number
  durationS: number
  warmupS: number
  distribution: Distribution
  seed?: number
  maxInFlight: number
  /** Poll instead of sleeping for the last millisecond before each send (sub-ms lateness, one core busy). */
  precise?: boolean
  outDir: string
  /** vHive's -latf: the latency file is rps<achieved>_<latf>. */
  latf: string
  architecture: Architecture
  /** Prices the cost is computed with (--prices; DEFAULT_PRICES when absent). */
  prices?: Prices
  /** Memory sweep: one measured run per size. */
  memorySizes?: number[]
  /** Forced cold starts: this many rounds of reconfigure-then-invoke-each-function-once. */
  coldStarts?: number
  /** Shaped load (--phases, --ramp) instead of rps × durationS. */
  phases?: Phase[]
  /** Trace replay (--trace): with no functions (lambda), each trace function gets its own deployed copy. */
  trace?: TraceOptions
  /** Checked on the measured window; the result says which failed (the command exits 99 then). */
  thresholds?: Threshold[]
  /** A request mix (--mix, http): each arrival sends one of these, picked by weight; functions are their names. */
  mix?: MixRequest[]
}

export interface BenchDeps {
  invoke: Invoke
  /** Refuses endpoints that cannot be driven, before any load (default: Lambda DryRun checks). */
  check?: (functions: string[]) => Promise<void>
  reconfigure?: Reconfigure
  /** Deploys the trace function's copies (bench --trace on a target); idempotent, as deploy is. */
  deployCopies?: (copies: TraceCopy[]) => Promise<void>
  /** Puts back the configuration reconfigure changed (after a sweep or cold starts, even a failed one). */
  restore?: () => Promise<void>
  emit: Emit
  signal?: AbortSignal
  clock?: Clock
}

export interface RunOutput {
  dir: string
  /** Phases, trace and thresholds runs add their own fields (phases, trace, thresholds). */
  summary: Summary & {thresholds?: ThresholdResult[]; phases?: unknown; trace?: unknown}
  files: string[]
}

export interface SweepRow {
  memoryMb: number
  count: number
  errors: number
  p50Ms?: number
  p99Ms?: number
  meanDurationMs?: number
  costPerMillionUsd?: number
}

export interface BenchResult extends RunOutput {
  kind: 'load' | 'memory-sweep' | 'cold-starts'
  runs?: Array<RunOutput & {memoryMb: number}>
  sweep?: SweepRow[]
  /**
   * As Power Tuning reports, but only what the data can tell: the size with the lowest median duration
   * (and cost per call), named when its bootstrap interval against the runner-up excludes zero.
   */
  best?: {fastestMemoryMb?: number; cheapestMemoryMb?: number; fastest: SweepPick; cheapest: SweepPick}
}

const statusLine = (s: LiveStatus): string =>
  `${s.phase === 'warmup' ? 'warm-up ' : ''}${s.elapsedS.toFixed(0)}s  ${s.rps.toFixed(1)} rps  ${s.inFlight} in ` +
  `flight  ${s.completed}/${s.sent} done  ${s.errors} errors${s.dropped ? `  ${s.dropped} dropped` : ''}  ` +
  `p50 ${s.p50Us === undefined ? '-' : `${(s.p50Us / 1000).toFixed(1)} ms`}`

/** A run's files: records (JSONL, CSV, vHive's latency file), summary and report. */
export async function writeRun(
  dir: string,
  title: string,
  records: InvocationRecord[],
  summary: Summary,
  latf: string,
  comparison?: ReportInput['comparison'],
  extra: {csvColumns?: LoadShape['csvColumns']; tables?: ReportTable[]; files?: Array<[string, string]>} = {},
): Promise<string[]> {
  const files: Array<[string, string]> = [
    ['records.jsonl', toJsonl(records)],
    ['records.csv', toCsv(records, extra.csvColumns)],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
    [vhiveFileName(summary.achievedRps, latf), toVhiveLatencies(records)],
    ['report.html', renderReport({title, summary, records, comparison, tables: extra.tables})],
    ...(extra.files ?? []),
  ]
  for (const [name, text] of files) await writePrivateFile(join(dir, name), text)
  return files.map(([name]) => join(dir, name))
}

async function loadRun(
  options: BenchOptions,
  deps: BenchDeps,
  dir: string,
  title: string,
  comparison?: ReportInput['comparison'],
  shape?: LoadShape,
): Promise<RunOutput & {records: InvocationRecord[]}> {
  const durationS = shape?.durationS ?? options.durationS
  const warmupS = shape?.warmupS ?? options.warmupS
  deps.emit({
    kind: 'start',
    subject: 'bench',
    message:
      `${title}: ${shape ? shape.label : `${options.rps} rps for ${durationS} s`}` +
      `${warmupS ? ` after ${warmupS} s warm-up` : ''}`,
  })
  // Records stream to disk as calls complete, so even a hard stop keeps them; rewritten in order at the end.
  await ensurePrivateDir(dir)
  const stream = createWriteStream(join(dir, 'records.jsonl'), {mode: PRIVATE_FILE})
  const closed = new Promise<void>((resolve, reject) =>
    stream.on('close', resolve).on('error', (error) => reject(fileError(error, join(dir, 'records.jsonl'), 'write'))),
  )
  closed.catch(() => undefined) // awaited below; a write error must not count as unhandled before then
  // Lines go out in batches (with the status, about once a second), not one write per call.
  let lines: string[] = []
  const flush = () => {
    if (lines.length > 0) stream.write(lines.join(''))
    lines = []
  }
  const result = await runLoad(deps.invoke, {
    protocol: options.protocol ?? 'lambda',
    onRecord: (record) => lines.push(JSON.stringify(record) + '\n'),
    functions: options.functions,
    payload: options.payload,
    rps: options.rps,
    durationS,
    warmupS,
    schedule: shape?.schedule(),
    onAnswer: shape?.onAnswer,
    distribution: options.distribution,
    seed: options.seed,
    maxInFlight: options.maxInFlight,
    precise: options.precise,
    signal: deps.signal,
    clock: deps.clock,
    onStatus: (status) => {
      flush()
      deps.emit({kind: 'progress', subject: 'bench', message: statusLine(status)})
    },
  })
  flush()
  stream.end()
  await closed
  const finished = shape?.finish?.(result.records)
  const summary: RunOutput['summary'] = {
    ...summarize(result.records, {
      requestedRps: shape?.requestedRps ?? options.rps,
      durationS,
      measuredS: result.measuredS,
      dropped: result.droppedMeasured,
      interrupted: result.interrupted,
      architecture: options.architecture,
      prices: options.prices,
      protocol: options.protocol ?? 'lambda',
    }),
    ...finished?.summary,
    ...(options.thresholds ? {thresholds: evaluateThresholds(options.thresholds, result.records)} : {}),
  }
  const files = await writeRun(dir, title, result.records, summary, options.latf, comparison, {
    csvColumns: shape?.csvColumns,
    tables: finished?.tables,
    files: finished?.files,
  })
  deps.emit({
    kind: 'done',
    subject: 'bench',
    message:
      `${title}: ${summary.count} calls, ${summary.errors} ` +
      `errors${result.interrupted ? ' (interrupted)' : ''}; results in ${dir}`,
  })
  return {dir, summary, files, records: result.records}
}

const toMs = (us: number | undefined) => (us === undefined ? undefined : us / 1000)

/** One bench: a load run, a memory sweep or forced cold starts; writes records, summaries and reports under outDir. */
export async function runBench(options: BenchOptions, deps: BenchDeps): Promise<BenchResult> {
  if (options.trace) return traceRun(options, deps)
  await (deps.check ? deps.check(options.functions) : checkFunctionsExist(deps.invoke, options.functions))
  if ((options.memorySizes || options.coldStarts) && !deps.reconfigure) {
    throw new UserError(
      'This target cannot change a function’s configuration, which --memory and --cold-starts need.',
      {code: 'NO_RECONFIGURE', fix: 'Run a plain load (without --memory / --cold-starts) on this target.'},
    )
  }
  const title =
    `faas bench${options.protocol && options.protocol !== 'lambda' ? ` over ${options.protocol}` : ''}: ` +
    `${[...new Set(options.functions)].join(', ')}`
  const phased = options.phases ? phasesShape(options.phases, options) : undefined
  const shape = options.mix ? mixShape(options.mix, phased, options) : phased
  if (!options.memorySizes && !options.coldStarts)
    return {kind: 'load', ...(await loadRun(options, deps, options.outDir, title, undefined, shape))}
  try {
    return await (options.coldStarts ? coldStarts(options, deps, title) : memorySweep(options, deps, title))
  } finally {
    if (deps.restore) {
      deps.emit({kind: 'progress', subject: 'bench', message: 'restoring the original configuration'})
      await deps.restore()
    }
  }
}

/**
 * A trace made ready to replay: read and checked, the copies deployed (when no endpoints are given) and
 * checked, all before the first call. The endpoints are the copies, or the given functions.
 */
export async function prepareTrace(
  options: BenchOptions,
  deps: Pick<BenchDeps, 'invoke' | 'check' | 'deployCopies' | 'emit'>,
): Promise<{shape: LoadShape; endpoints: string[]}> {
  const given = options.functions.length > 0 ? options.functions : undefined
  const {shape, copies} = await traceShape(options.trace!, given)
  if (copies) {
    if (!deps.deployCopies)
      throw new UserError('This target cannot deploy the trace function’s copies that --trace replays on.', {
        code: 'NO_DEPLOY',
        fix: 'Give the endpoints to replay on with --function_name or --endpoints.',
      })
    deps.emit({kind: 'start', subject: 'bench', message: `Deploying ${copies.length} copies of the trace function…`})
    await deps.deployCopies(copies)
  }
  const endpoints = copies ? copies.map((c) => c.name) : options.functions
  await (deps.check ? deps.check(endpoints) : checkFunctionsExist(deps.invoke, endpoints))
  return {shape, endpoints}
}

/** Trace replay: one load run of the trace's schedule on its endpoints. */
async function traceRun(options: BenchOptions, deps: BenchDeps): Promise<BenchResult> {
  const {shape, endpoints} = await prepareTrace(options, deps)
  const title = `faas bench${options.protocol && options.protocol !== 'lambda' ? ` over ${options.protocol}` : ''}`
  return {
    kind: 'load',
    ...(await loadRun({...options, functions: endpoints}, deps, options.outDir, title, undefined, shape)),
  }
}

/** Power Tuning-style: one measured run per memory size, compared for time and cost. */
async function memorySweep(options: BenchOptions, deps: BenchDeps, title: string): Promise<BenchResult> {
  const runs: Array<RunOutput & {memoryMb: number}> = []
  const all: InvocationRecord[] = []
  const sweep: SweepRow[] = []
  const perSize: InvocationRecord[][] = []
  for (const memoryMb of options.memorySizes ?? []) {
    if (deps.signal?.aborted) break
    deps.emit({kind: 'start', subject: 'bench', message: `Setting ${options.functions.join(', ')} to ${memoryMb} MB…`})
    for (const fn of new Set(options.functions)) await deps.reconfigure!(fn, {memoryMb})
    const run = await loadRun(options, deps, join(options.outDir, `memory-${memoryMb}`), `${title} at ${memoryMb} MB`)
    runs.push({dir: run.dir, summary: run.summary, files: run.files, memoryMb})
    perSize.push(run.records)
    all.push(...run.records.map((r) => ({...r, seq: all.length + r.seq})))
    const s = run.summary
    sweep.push({
      memoryMb,
      count: s.count,
      errors: s.errors,
      p50Ms: toMs(s.latencyUs?.p50),
      p99Ms: toMs(s.latencyUs?.p99),
      meanDurationMs: toMs(s.durationUs?.mean),
      costPerMillionUsd: s.cost?.perMillionUsd,
    })
  }
  const fmt = (v: number | undefined, digits: number) => (v === undefined ? '–' : v.toFixed(digits))
  // Per-call figures of each size's successful measured calls: provider duration (client latency where
  // the target reports none) and cost.
  const ok = (records: InvocationRecord[]) => records.filter((r) => r.phase === 'measure' && !r.error)
  const durations = runs.map((run, i) => ({
    memoryMb: run.memoryMb,
    values: ok(perSize[i]!).map((r) => (r.providerDurationUs ?? r.clientLatencyUs) / 1000),
  }))
  const {architecture, prices} = options
  const costs = runs.map((run, i) => ({
    memoryMb: run.memoryMb,
    values: ok(perSize[i]!).flatMap((r) =>
      r.billedDurationUs === undefined
        ? []
        : [costPerCallUsd(r.billedDurationUs / 1000, r.memoryMb ?? run.memoryMb, architecture, prices) * 1e6],
    ),
  }))
  const fastest = pickBest(durations, {
    what: 'fastest',
    better: 'faster',
    format: (v) => `${v.toFixed(2)} ms`,
    seed: options.seed,
  })
  const cheapest = pickBest(costs, {
    what: 'cheapest',
    better: 'cheaper',
    format: (v) => `$${v.toFixed(4)} per 1M calls`,
    seed: options.seed,
  })
  const best = {fastestMemoryMb: fastest.memoryMb, cheapestMemoryMb: cheapest.memoryMb, fastest, cheapest}
  const comparison = {
    caption: `Memory sweep — ${fastest.text}; ${cheapest.text}`,
    columns: ['memory MB', 'calls', 'errors', 'p50 ms', 'p99 ms', 'mean duration ms', '$ per 1M calls'],
    rows: sweep.map((r) => [
      r.memoryMb,
      r.count,
      r.errors,
      fmt(r.p50Ms, 2),
      fmt(r.p99Ms, 2),
      fmt(r.meanDurationMs, 2),
      fmt(r.costPerMillionUsd, 4),
    ]),
  }
  const summary = summarize(all, {
    requestedRps: options.rps,
    durationS: options.durationS * runs.length,
    measuredS: runs.reduce((t, r) => t + (r.summary.achievedRps > 0 ? r.summary.count / r.summary.achievedRps : 0), 0),
    dropped: runs.reduce((t, r) => t + r.summary.dropped, 0),
    interrupted: Boolean(deps.signal?.aborted),
    architecture: options.architecture,
    prices: options.prices,
  })
  const files = await writeRun(options.outDir, `${title}: memory sweep`, all, summary, options.latf, comparison)
  await writeJsonFile(join(options.outDir, 'sweep.json'), sweep)
  return {
    kind: 'memory-sweep',
    dir: options.outDir,
    summary,
    files: [...files, join(options.outDir, 'sweep.json')],
    runs,
    sweep,
    best,
  }
}

/** SeBS-style forced cold starts: each round changes an env value, then calls every function once. */
async function coldStarts(options: BenchOptions, deps: BenchDeps, title: string): Promise<BenchResult> {
  const clock = deps.clock ?? systemClock
  const records: InvocationRecord[] = []
  const started = clock.nowUs()
  const rounds = options.coldStarts!
  for (let round = 0; round < rounds && !deps.signal?.aborted; round++) {
    deps.emit({kind: 'progress', subject: 'bench', message: `cold-start round ${round + 1}/${rounds}: reconfiguring…`})
    // One value per round, whatever the clock does between the functions' reconfigurations.
    const stamp = `${Date.now()}-${round}`
    for (const fn of new Set(options.functions)) await deps.reconfigure!(fn, {env: {FAAS_BENCH_COLD_START: stamp}})
    // One plain call per function: no schedule, so no lateness.
    for (const fn of options.functions)
      records.push(
        await measureCall(
          deps.invoke,
          {seq: records.length, phase: 'measure', function: fn, requestBytes: Buffer.byteLength(options.payload)},
          options.payload,
          clock,
        ),
      )
  }
  const summary = summarize(records, {
    requestedRps: 0,
    durationS: (clock.nowUs() - started) / 1e6,
    measuredS: (clock.nowUs() - started) / 1e6,
    dropped: 0,
    interrupted: Boolean(deps.signal?.aborted),
    architecture: options.architecture,
    prices: options.prices,
  })
  const comparison = {
    caption: 'Forced cold starts',
    columns: ['rounds', 'calls', 'cold', 'warm', 'init p50 ms', 'cold latency p50 ms'],
    rows: [
      [
        rounds,
        summary.count,
        summary.cold.count,
        summary.warm.count,
        (summary.cold.initDurationUs?.p50 ?? Number.NaN) / 1000,
        (summary.cold.latencyUs?.p50 ?? Number.NaN) / 1000,
      ].map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v)),
    ],
  }
  const files = await writeRun(
    options.outDir,
    `${title}: forced cold starts`,
    records,
    summary,
    options.latf,
    comparison,
  )
  if (summary.warm.count > 0)
    deps.emit({
      kind: 'warn',
      subject: 'bench',
      message:
        `${summary.warm.count} of ${summary.count} calls were warm although the configuration changed before ` +
        `each round.`,
    })
  return {kind: 'cold-starts', dir: options.outDir, summary, files}
}
