import {traceError} from './csv.js'
import type {InvocationRecord} from '../../core/records.js'
import type {LoadShape, ReportTable} from '../arrival.js'
import {percentile} from '../stats.js'
import {readTrace, type Trace} from './read.js'
import {type Iat, requestedPerMinute, traceArrivals} from './schedule.js'

/** bench --trace and its companions. */
export interface TraceOptions {
  path: string
  iat: Iat
  /** First trace minute replayed (0-based). */
  start: number
  minutes?: number
  warmupMinutes: number
  speedup: number
  functions?: number
  seed: number
}

/** A deployed copy of the trace function for one trace function. */
export interface TraceCopy {
  name: string
  memoryMb: number
}

/** The image every copy runs (benchmarks/trace-function, function spin). */
export const TRACE_IMAGE = 'trace-function-spin'

/**
 * Copy names: trace-<the hash's first 16 letters and digits>, and -<n> after it when two hashes
 * share those (Lambda names are at most 64 characters, Azure's hashes are 64 hex digits).
 */
export function traceCopies(trace: Trace): TraceCopy[] {
  const used = new Set<string>()
  return trace.functions.map((f, i) => {
    let name = `trace-${f.hash.replaceAll(/[^A-Za-z0-9]/g, '').slice(0, 16) || i}`
    if (used.has(name)) name = `${name}-${i}`
    used.add(name)
    return {name, memoryMb: f.memorySizeMb}
  })
}

/** What the trace function reports doing ({"fn": "trace-function", "ms", "mb"}), onto its record. */
function traceAnswer(record: InvocationRecord, outcome: {payload?: string}): void {
  if (!outcome.payload || !outcome.payload.includes('"trace-function"')) return
  try {
    const answer = JSON.parse(outcome.payload) as {ms?: unknown; mb?: unknown}
    if (typeof answer.ms === 'number') record.actualMs = answer.ms
    if (typeof answer.mb === 'number') record.actualMemoryMb = answer.mb
  } catch {
    // Not the trace function's answer: the record keeps the provider's figures only.
  }
}

/** invitro's per-invocation columns (its ExecutionRecord), then faas's own beside them. */
const INVITRO_COLUMNS = [
  'phase',
  'instance',
  'invocationID',
  'startTime',
  'requestedDuration',
  'grpcConnEstablish',
  'responseTime',
  'actualDuration',
  'connectionTimeout',
  'functionTimeout',
  'actualMemoryUsage',
  'memoryAllocationTimeout',
  'timeToSubmitMs',
  'userCodeExecutionMs',
  'timeToGetResponseMs',
  'traceFunction',
  'minute',
  'seq',
  'cold',
  'requestedMemoryMb',
  'error',
]

/**
 * The records as invitro writes them (µs unless the name says ms; phase 1 warm-up, 2 measured;
 * actualMemoryUsage in KiB, as its trace function reports it), so its analysis scripts read faas's runs.
 */
export function toInvitroCsv(records: InvocationRecord[]): string {
  const rows = records.map((r) => {
    const actualUs = r.actualMs !== undefined ? Math.round(r.actualMs * 1000) : r.providerDurationUs
    const timedOut = Boolean(r.error && /timed? ?out|no answer within/i.test(r.error))
    return [
      r.phase === 'warmup' ? 1 : 2,
      r.function,
      r.requestId ?? '',
      r.startUs,
      r.requestedMs === undefined ? '' : r.requestedMs * 1000,
      0,
      r.clientLatencyUs,
      actualUs ?? '',
      Boolean(r.error && r.statusCode === undefined && !timedOut),
      timedOut,
      r.actualMemoryMb === undefined ? '' : r.actualMemoryMb * 1024,
      false,
      r.latenessUs === undefined ? '' : Math.round(r.latenessUs / 1000),
      r.actualMs === undefined ? '' : Math.round(r.actualMs),
      Math.round(r.clientLatencyUs / 1000),
      r.traceFunction ?? '',
      r.minute ?? '',
      r.seq,
      r.cold,
      r.requestedMemoryMb ?? '',
      r.error ? `"${r.error.replaceAll('"', '""')}"` : '',
    ].join(',')
  })
  return [INVITRO_COLUMNS.join(','), ...rows].join('\n') + '\n'
}

/** Functions by their median requested duration, as trace studies group them. */
const CLASSES: Array<[string, number]> = [
  ['< 10 ms', 10],
  ['10–100 ms', 100],
  ['100 ms–1 s', 1000],
  ['≥ 1 s', Infinity],
]

const q = (sorted: number[], p: number) => (sorted.length === 0 ? '–' : percentile(sorted, p).toFixed(2))

/** Per minute: requested vs sent vs answered without error; per function class: latency and slowdown. */
export function traceTables(trace: Trace, records: InvocationRecord[]): {tables: ReportTable[]; minutes: unknown[]} {
  const perMinute = new Map<number, {sent: number; ok: number}>()
  for (const r of records) {
    const m = perMinute.get(r.minute ?? 0) ?? {sent: 0, ok: 0}
    m.sent++
    if (!r.error) m.ok++
    perMinute.set(r.minute ?? 0, m)
  }
  const firstMeasured = trace.startMinute + trace.warmupMinutes + 1
  const minutes = requestedPerMinute(trace).map(({minute, calls}) => ({
    minute,
    phase: minute < firstMeasured ? 'warmup' : 'measure',
    requested: calls,
    sent: perMinute.get(minute)?.sent ?? 0,
    succeeded: perMinute.get(minute)?.ok ?? 0,
  }))
  const classOf = new Map(
    trace.functions.map((f) => [f.hash, CLASSES.find(([, below]) => f.durationMs.values[3]! < below)![0]]),
  )
  const classes = CLASSES.map(([name]) => {
    const mine = records.filter((r) => r.phase === 'measure' && !r.error && classOf.get(r.traceFunction ?? '') === name)
    const latency = mine.map((r) => r.clientLatencyUs / 1000).sort((a, b) => a - b)
    const slowdown = mine
      .filter((r) => r.requestedMs)
      .map((r) => r.clientLatencyUs / 1000 / r.requestedMs!)
      .sort((a, b) => a - b)
    const functions = [...classOf.values()].filter((c) => c === name).length
    return [name, functions, mine.length, q(latency, 50), q(latency, 99), q(slowdown, 50), q(slowdown, 99)]
  })
  return {
    minutes,
    tables: [
      {
        id: 'trace-minutes',
        caption: 'Trace replay: calls per trace minute, requested vs achieved',
        columns: ['minute', 'phase', 'requested', 'sent', 'succeeded'],
        rows: minutes.map((m) => [m.minute, m.phase, m.requested, m.sent, m.succeeded]),
      },
      {
        id: 'trace-classes',
        caption: 'Trace replay: per function class (median requested duration); slowdown = latency / requested',
        columns: ['class', 'functions', 'calls', 'latency p50 ms', 'latency p99 ms', 'slowdown p50', 'slowdown p99'],
        rows: classes.filter((row) => Number(row[1]) > 0),
      },
    ],
  }
}

/**
 * A trace as a load: read and checked (all before any call), its calls generated a minute at a time,
 * each to its function's endpoint (its copy, or the given endpoints in turn).
 */
export async function traceShape(
  options: TraceOptions,
  endpoints: string[] | undefined,
): Promise<{shape: LoadShape; trace: Trace; copies?: TraceCopy[]}> {
  if (!(options.speedup > 0))
    throw traceError(`--speedup ${options.speedup} is not above 0.`, 'Give a factor > 0, e.g. --speedup 10.')
  const trace = await readTrace(options.path, options)
  if (trace.functions.length === 0)
    throw traceError(
      `${options.path} has no calls in the selected minutes.`,
      'Choose other --trace-start / --trace-minutes.',
    )
  const copies = endpoints && endpoints.length > 0 ? undefined : traceCopies(trace)
  const endpoint = copies ? (i: number) => copies[i]!.name : (i: number) => endpoints![i % endpoints!.length]!
  const durationS = (trace.minutes * 60) / options.speedup
  const measured = requestedPerMinute(trace)
    .slice(trace.warmupMinutes)
    .reduce((t, m) => t + m.calls, 0)
  const shape: LoadShape = {
    label:
      `trace ${options.path} (${trace.functions.length} of ${trace.candidates} functions, ` +
      `${trace.warmupMinutes ? `${trace.warmupMinutes} warm-up + ` : ''}${trace.minutes} minutes` +
      `${options.speedup === 1 ? '' : ` at ${options.speedup}× speed`})`,
    schedule: () => traceArrivals(trace, {iat: options.iat, seed: options.seed, speedup: options.speedup, endpoint}),
    durationS,
    warmupS: (trace.warmupMinutes * 60) / options.speedup,
    requestedRps: measured / durationS,
    onAnswer: traceAnswer,
    csvColumns: ['traceFunction', 'minute', 'requestedMs', 'actualMs', 'requestedMemoryMb', 'actualMemoryMb'],
    finish: (records) => {
      const {tables, minutes} = traceTables(trace, records)
      return {
        summary: {
          trace: {
            format: trace.format,
            path: options.path,
            functions: trace.functions.length,
            candidates: trace.candidates,
            iat: options.iat,
            speedup: options.speedup,
            startMinute: trace.startMinute,
            warmupMinutes: trace.warmupMinutes,
            minutes,
          },
        },
        tables,
        files: [['invitro.csv', toInvitroCsv(records)]],
      }
    },
  }
  return {shape, trace, copies}
}
