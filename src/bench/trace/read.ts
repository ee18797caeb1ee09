import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {MEMORY_RANGE} from '../../core/function-config.js'
import {amount, csvRows, traceError, wholeCount} from './csv.js'
import {type Percentiles, sampleFunctions} from './sample.js'

export type {Percentiles} from './sample.js'

/** A distribution given by some of its percentiles: ranks (0–100, ascending) and the values there. */
/** One function of a trace, cut to the replayed window. */
export interface TraceFunction {
  /** HashFunction (2019) or func (2021): the id kept in every record as traceFunction. */
  hash: string
  app: string
  /** Minutes of the window (0-based from its start) with calls, ascending, and their counts. */
  minutes: Uint16Array
  counts: Uint32Array
  /** Calls in the window. */
  total: number
  durationMs: Percentiles
  /** Memory each call touches (2019 memory.csv); absent when the trace has none for its app. */
  memoryMb?: Percentiles
  /** The Lambda memory size its copy is deployed with. */
  memorySizeMb: number
}

export interface Trace {
  format: 'azure-2019' | 'azure-2021'
  path: string
  functions: TraceFunction[]
  /** Functions of the trace with calls in the window, before --functions sampled some. */
  candidates: number
  /** Warm-up minutes, then measured minutes: the window's length is their sum. */
  warmupMinutes: number
  minutes: number
  startMinute: number
  /** Functions that had no memory.csv row (their copies get the smallest size and touch no extra memory). */
  withoutMemory: number
}

export interface TraceWindow {
  /** First trace minute replayed, 0-based (--trace-start). */
  start: number
  /** Measured minutes (--trace-minutes); to the trace's end when absent. */
  minutes?: number
  warmupMinutes: number
  /** Sample this many functions (--functions). */
  functions?: number
  seed: number
}

export const DURATION_RANKS = [0, 1, 25, 50, 75, 99, 100] as const
const DURATION_COLUMNS = DURATION_RANKS.map((r) => `percentile_Average_${r}`)
export const MEMORY_RANKS = [1, 5, 25, 50, 75, 95, 99, 100] as const
const MEMORY_COLUMNS = MEMORY_RANKS.map((r) => `AverageAllocatedMb_pct${r}`)
const INVOCATION_KEYS = ['HashOwner', 'HashApp', 'HashFunction', 'Trigger'] as const
const COLUMNS_2021 = ['app', 'func', 'end_timestamp', 'duration'] as const

/**
 * The Lambda size for a function whose calls touch up to maxMb: that plus 64 MB for the runtime,
 * rounded up to a multiple of 64 MB, within Lambda's range.
 */
export const lambdaMemoryFor = (maxMb: number | undefined): number =>
  Math.min(MEMORY_RANGE.max, Math.max(MEMORY_RANGE.min, Math.ceil(((maxMb ?? 0) + 64) / 64) * 64))

/** Reads a trace (a 2019 folder or a 2021 file), cut to the window and sampled; throws a UserError on bad input. */
export async function readTrace(path: string, window: TraceWindow): Promise<Trace> {
  const info = await stat(path).catch(() => undefined)
  if (!info) throw traceError(`The trace ${path} does not exist.`)
  return info.isDirectory() ? read2019(path, window) : read2021(path, window)
}

/** The window's minutes within a trace of `length` minutes, or a UserError. */
function windowOf(window: TraceWindow, length: number, path: string): {first: number; span: number; minutes: number} {
  const minutes = window.minutes ?? length - window.start - window.warmupMinutes
  const span = window.warmupMinutes + minutes
  if (window.start + span > length || minutes < 1)
    throw traceError(
      `${path} has ${length} minutes, too few for --trace-start ${window.start} with ${window.warmupMinutes} ` +
        `warm-up and ${window.minutes ?? 'the remaining'} measured minutes.`,
      'Choose --trace-start, --warmup-minutes and --trace-minutes within the trace.',
    )
  return {first: window.start, span, minutes}
}

/** Sparse counts of one row's window columns. */
function rowCounts(
  fields: string[],
  offset: number,
  span: number,
  where: (column: number) => string,
): {minutes: Uint16Array; counts: Uint32Array; total: number} {
  const minutes: number[] = []
  const counts: number[] = []
  let total = 0
  for (let m = 0; m < span; m++) {
    const c = wholeCount(fields[offset + m]!, where(offset + m))
    if (c === 0) continue
    minutes.push(m)
    counts.push(c)
    total += c
  }
  return {minutes: Uint16Array.from(minutes), counts: Uint32Array.from(counts), total}
}

type Row = {owner: string; app: string; hash: string} & ReturnType<typeof rowCounts>

/**
 * invocations.csv, streamed: the window's counts of every function with calls, or (with --functions)
 * a first pass for each function's calls and a second keeping only the sampled rows.
 */
async function readInvocations(
  file: string,
  window: TraceWindow,
): Promise<{rows: Row[]; candidates: number; first: number; minutes: number}> {
  const rows: Row[] = []
  let cut: ReturnType<typeof windowOf> | undefined
  const sampling = window.functions !== undefined
  const totals: number[] = []
  const row = (fields: string[], counts: ReturnType<typeof rowCounts>): Row => ({
    owner: fields[0]!,
    app: fields[1]!,
    hash: fields[2]!,
    ...counts,
  })
  for await (const {line, fields, header} of csvRows(file, INVOCATION_KEYS)) {
    if (!cut) {
      header.slice(INVOCATION_KEYS.length).forEach((name, i) => {
        if (name !== String(i + 1))
          throw traceError(`${file} column ${i + 5} is "${name}" where minute ${i + 1} belongs.`)
      })
      cut = windowOf(window, header.length - INVOCATION_KEYS.length, file)
    }
    const offset = INVOCATION_KEYS.length + cut.first
    const counts = rowCounts(fields, offset, cut.span, (c) => `${file} line ${line} column ${header[c]}`)
    totals.push(counts.total)
    if (!sampling && counts.total > 0) rows.push(row(fields, counts))
  }
  if (!cut) throw traceError(`${file} lists no functions.`)
  if (sampling) {
    const picked = new Set(sampleFunctions(totals, window.functions!, window.seed))
    let i = 0
    for await (const {fields} of csvRows(file, INVOCATION_KEYS))
      if (picked.has(i++))
        rows.push(
          row(
            fields,
            rowCounts(fields, INVOCATION_KEYS.length + cut.first, cut.span, () => file),
          ),
        )
  }
  return {rows, candidates: totals.filter((t) => t > 0).length, first: cut.first, minutes: cut.minutes}
}

/** Percentile columns of the rows whose key (the key columns joined by /) is wanted. */
async function readPercentiles(
  file: string,
  keys: string[],
  columns: string[],
  ranks: readonly number[],
  wanted: Set<string>,
): Promise<Map<string, Percentiles>> {
  const found = new Map<string, Percentiles>()
  for await (const {line, fields, index} of csvRows(file, [...keys, ...columns])) {
    const key = keys.map((k) => fields[index.get(k)!]).join('/')
    if (!wanted.has(key)) continue
    found.set(key, {ranks, values: columns.map((c) => amount(fields[index.get(c)!]!, `${file} line ${line} ${c}`))})
  }
  return found
}

async function read2019(dir: string, window: TraceWindow): Promise<Trace> {
  const files = {
    invocations: join(dir, 'invocations.csv'),
    durations: join(dir, 'durations.csv'),
    memory: join(dir, 'memory.csv'),
  }
  for (const [name, file] of Object.entries(files))
    if (!(await stat(file).catch(() => undefined))?.isFile())
      throw traceError(`The trace folder ${dir} has no ${name}.csv.`)
  const {rows, candidates, first, minutes} = await readInvocations(files.invocations, window)
  const fnKey = (r: Row) => `${r.owner}/${r.app}/${r.hash}`
  const appKey = (r: Row) => `${r.owner}/${r.app}`
  const durations = await readPercentiles(
    files.durations,
    ['HashOwner', 'HashApp', 'HashFunction'],
    DURATION_COLUMNS,
    DURATION_RANKS,
    new Set(rows.map(fnKey)),
  )
  const memory = await readPercentiles(
    files.memory,
    ['HashOwner', 'HashApp'],
    MEMORY_COLUMNS,
    MEMORY_RANKS,
    new Set(rows.map(appKey)),
  )
  const undated = rows.filter((r) => !durations.has(fnKey(r)))
  if (undated.length > 0)
    throw traceError(
      `${undated.length} function(s) of ${files.invocations} have no row in durations.csv (e.g. HashFunction ` +
        `${undated[0]!.hash} of app ${undated[0]!.app}), so faas cannot draw how long their calls run and ` +
        `replays nothing rather than guess.`,
      'Add their durations.csv rows, or remove those functions from invocations.csv.',
    )
  const functions = rows.map((r): TraceFunction => ({
    hash: r.hash,
    app: r.app,
    minutes: r.minutes,
    counts: r.counts,
    total: r.total,
    durationMs: durations.get(fnKey(r))!,
    memoryMb: memory.get(appKey(r)),
    memorySizeMb: lambdaMemoryFor(memory.get(appKey(r))?.values.at(-1)),
  }))
  return {
    format: 'azure-2019',
    path: dir,
    functions,
    candidates,
    warmupMinutes: window.warmupMinutes,
    minutes,
    startMinute: first,
    withoutMemory: functions.filter((f) => !f.memoryMb).length,
  }
}

async function read2021(file: string, window: TraceWindow): Promise<Trace> {
  // One pass: per function, its calls per trace minute and every duration (for its percentiles).
  const seen = new Map<string, {app: string; func: string; perMinute: Map<number, number>; durations: number[]}>()
  let length = 0
  for await (const {line, fields, index} of csvRows(file, COLUMNS_2021)) {
    const app = fields[index.get('app')!]!
    const func = fields[index.get('func')!]!
    const end = amount(fields[index.get('end_timestamp')!]!, `${file} line ${line} end_timestamp`)
    const duration = amount(fields[index.get('duration')!]!, `${file} line ${line} duration`)
    const minute = Math.floor(Math.max(0, end - duration) / 60)
    length = Math.max(length, minute + 1)
    const key = `${app}/${func}`
    let entry = seen.get(key)
    if (!entry) seen.set(key, (entry = {app, func, perMinute: new Map(), durations: []}))
    entry.perMinute.set(minute, (entry.perMinute.get(minute) ?? 0) + 1)
    entry.durations.push(duration * 1000)
  }
  const {first, span, minutes} = windowOf(window, length, file)
  const all = [...seen.values()].map((e) => {
    const inWindow = [...e.perMinute].filter(([m]) => m >= first && m < first + span).sort((a, b) => a[0] - b[0])
    return {e, inWindow, total: inWindow.reduce((t, [, c]) => t + c, 0)}
  })
  const totals = all.map((f) => f.total)
  const picked =
    window.functions === undefined
      ? all.flatMap((f, i) => (f.total > 0 ? [i] : []))
      : sampleFunctions(totals, window.functions, window.seed)
  const functions = picked.map((i): TraceFunction => {
    const {e, inWindow, total} = all[i]!
    const sorted = e.durations.sort((a, b) => a - b)
    const at = (rank: number) => sorted[Math.min(sorted.length - 1, Math.round((rank / 100) * (sorted.length - 1)))]!
    return {
      hash: e.func,
      app: e.app,
      minutes: Uint16Array.from(inWindow.map(([m]) => m - first)),
      counts: Uint32Array.from(inWindow.map(([, c]) => c)),
      total,
      durationMs: {ranks: DURATION_RANKS, values: DURATION_RANKS.map(at)},
      memorySizeMb: lambdaMemoryFor(undefined),
    }
  })
  return {
    format: 'azure-2021',
    path: file,
    functions,
    candidates: totals.filter((t) => t > 0).length,
    warmupMinutes: window.warmupMinutes,
    minutes,
    startMinute: first,
    withoutMemory: functions.length,
  }
}
