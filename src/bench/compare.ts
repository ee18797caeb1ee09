import {readFile, realpath, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {UserError, messageOf} from '../core/errors.js'
import {bootstrapDifference, type DifferenceInterval, verdict} from './bootstrap.js'
import type {InvocationRecord} from './records.js'
import type {Summary} from './stats.js'

/** One bench results folder, read back: its summary and the latencies of its successful measured calls. */
export interface ResultSet {
  label: string
  dir: string
  summary: Summary
  /** Endpoints in the order the run drove them (round-robin order of the endpoints file). */
  functions: string[]
  /** Client latency (ms) of successful measured calls, ascending: all, and per endpoint. */
  latenciesMs: number[]
  byFunction: Map<string, number[]>
  requestBytes: number[]
}

const PERCENTILES = [50, 90, 99] as const
type P = (typeof PERCENTILES)[number]

export interface RunRow {
  label: string
  dir: string
  protocol: string
  functions: string[]
  count: number
  errors: number
  requestedRps: number
  achievedRps: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
}

export interface DifferenceRow {
  /** The run compared against the baseline (the first folder). */
  label: string
  baseline: string
  /** What is compared: "all calls" or the endpoints paired by position (baseline's / this run's). */
  scope: string
  /** b - a, ms, with the bootstrap interval, for p50, p90 and p99. */
  p50: DifferenceInterval
  p90: DifferenceInterval
  p99: DifferenceInterval
  /** The p50 interval in words. */
  verdict: string
}

export interface Comparison {
  baseline: string
  runs: RunRow[]
  differences: DifferenceRow[]
  confidence: number
  iterations: number
  warnings: string[]
}

const bad = (message: string, fix: string) => new UserError(message, {code: 'BAD_RESULTS', fix})

/** Reads a folder faas bench wrote (summary.json, records.jsonl); refuses anything else with what is wrong. */
export async function loadResults(dir: string): Promise<ResultSet> {
  const label = dir.replace(/\/+$/, '') || dir
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory())
    throw bad(
      `${label} is not a folder.`,
      'Give the folders faas bench wrote (its --out, default bench-results/<time>).',
    )
  if (await stat(join(dir, 'sweep.json')).catch(() => undefined)) {
    throw bad(
      `${label} is a memory sweep, whose top-level results mix every memory size.`,
      `Compare its per-size folders instead, e.g. ${join(label, 'memory-1024')}.`,
    )
  }
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8')
    } catch {
      throw bad(
        `${label} is not a faas bench results folder (no ${name}).`,
        'Give the folders faas bench wrote (its --out, default bench-results/<time>); each has summary.json and ' +
          'records.jsonl.',
      )
    }
  }
  let summary: Summary
  try {
    summary = JSON.parse(await read('summary.json'))
  } catch (error) {
    if (error instanceof UserError) throw error
    throw bad(
      `${join(label, 'summary.json')} is not valid JSON (${messageOf(error)}).`,
      'Run the bench again, or give another folder.',
    )
  }
  if (typeof summary !== 'object' || summary === null || typeof summary.count !== 'number')
    throw bad(`${join(label, 'summary.json')} is not a bench summary.`, 'Give the folders faas bench wrote.')
  const records: InvocationRecord[] = []
  const lines = (await read('records.jsonl')).split('\n')
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue
    try {
      records.push(JSON.parse(line))
    } catch (error) {
      throw bad(
        `${join(label, 'records.jsonl')} line ${i + 1} is not valid JSON (${messageOf(error)}).`,
        'The run may have been cut short while writing; run the bench again.',
      )
    }
  }
  const measured = records.filter((r) => r.phase === 'measure').sort((x, y) => x.seq - y.seq)
  const ok = measured.filter((r) => !r.error && Number.isFinite(r.clientLatencyUs))
  if (ok.length === 0) {
    throw bad(
      `${label} has no successful measured calls to compare (${measured.length} ` +
        `calls, ${measured.length - ok.length} errors).`,
      'Run the bench again once the endpoints answer.',
    )
  }
  const functions = [...new Set(measured.map((r) => r.function))]
  const byFunction = new Map<string, number[]>(functions.map((f) => [f, []]))
  for (const r of ok) byFunction.get(r.function)!.push(r.clientLatencyUs / 1000)
  for (const values of byFunction.values()) values.sort((a, b) => a - b)
  return {
    label,
    dir,
    summary,
    functions,
    latenciesMs: ok.map((r) => r.clientLatencyUs / 1000).sort((a, b) => a - b),
    byFunction,
    requestBytes: [...new Set(measured.flatMap((r) => (r.requestBytes === undefined ? [] : [r.requestBytes])))],
  }
}

/** The k-th smallest (0-based) of xs, reordering xs in place (Hoare's selection: linear on average). */
function select(xs: number[], k: number): number {
  let lo = 0
  let hi = xs.length - 1
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (xs[i]! < pivot) i++
      while (xs[j]! > pivot) j--
      if (i <= j) {
        const t = xs[i]!
        xs[i] = xs[j]!
        xs[j] = t
        i++
        j--
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else break
  }
  return xs[k]!
}

/** Nearest-rank percentile as a bootstrap statistic (the summaries' definition), without a full sort. */
const nearestRank = (p: number) => (xs: number[]) =>
  select(xs, Math.min(xs.length, Math.max(1, Math.ceil((p / 100) * xs.length))) - 1)

const sortedPercentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!

/** Refuses what cannot be compared: fewer than two runs, a run given twice, runs of different endpoint counts. */
async function assertComparable(sets: ResultSet[]): Promise<void> {
  if (sets.length < 2)
    throw bad(
      'faas compare needs at least two results folders.',
      'For example: faas compare bench-results/lambda bench-results/grpc.',
    )
  const real = await Promise.all(sets.map((s) => realpath(s.dir)))
  const twice = real.findIndex((r, i) => real.indexOf(r) !== i)
  if (twice >= 0)
    throw new UserError(`${sets[twice]!.label} is given twice.`, {
      code: 'MISMATCHED_RESULTS',
      fix: 'Compare different runs.',
    })
  const [a] = sets
  for (const b of sets.slice(1)) {
    if (b.functions.length !== a!.functions.length) {
      throw new UserError(
        `${a!.label} drove ${a!.functions.length} endpoint(s) (${a!.functions.join(', ')}) but ${b.label} ` +
          `drove ${b.functions.length} (${b.functions.join(', ')}), so their calls cannot be paired.`,
        {
          code: 'MISMATCHED_RESULTS',
          fix:
            'Compare runs of the same endpoints in the same order (one endpoints file per protocol, listing the ' +
            'same functions), or bench the extra endpoints separately.',
        },
      )
    }
  }
}

/** What makes the runs' latencies less comparable than they look: different rates, interruptions, payload sizes. */
function comparabilityWarnings(sets: ResultSet[]): string[] {
  const warnings: string[] = []
  const rates = new Set(sets.map((s) => s.summary.requestedRps))
  if (rates.size > 1)
    warnings.push(
      `The runs asked for different rates ` +
        `(${sets.map((s) => `${s.label}: ${s.summary.requestedRps} rps`).join(', ')}); latency depends on load.`,
    )
  for (const s of sets)
    if (s.summary.interrupted) warnings.push(`${s.label} was interrupted; it covers less than its requested time.`)
  const payloads = new Set(sets.map((s) => s.requestBytes.join(',')))
  if (payloads.size > 1)
    warnings.push(
      `The runs sent requests of different sizes ` +
        `(${sets.map((s) => `${s.label}: ${s.requestBytes.join('/')} B`).join(', ')}); were the payloads the same?`,
    )
  return warnings
}

/**
 * Puts results side by side: per run the count, errors, rates and p50/p90/p99 of client latency; per
 * later run, its differences from the first (b - a, ms) with seeded percentile-bootstrap intervals,
 * over all calls and, when runs drove several endpoints, per endpoint paired by position.
 */
export async function compareResults(
  sets: ResultSet[],
  options: {iterations?: number; confidence?: number; seed?: number} = {},
): Promise<Comparison> {
  await assertComparable(sets)
  const [a] = sets
  const iterations = options.iterations ?? 2000
  const confidence = options.confidence ?? 0.95
  const seed = options.seed ?? 1
  const warnings = comparabilityWarnings(sets)
  const interval = (x: number[], y: number[], p: P) =>
    bootstrapDifference([...x], [...y], {statistic: nearestRank(p), iterations, confidence, seed})
  const differences: DifferenceRow[] = []
  const ms = (v: number) => `${v.toFixed(2)} ms`
  for (const b of sets.slice(1)) {
    const scopes: Array<[string, number[], number[]]> = [['all calls', a!.latenciesMs, b.latenciesMs]]
    if (a!.functions.length > 1) {
      a!.functions.forEach((fa, i) => {
        const fb = b.functions[i]!
        const xa = a!.byFunction.get(fa)!
        const xb = b.byFunction.get(fb)!
        if (xa.length > 0 && xb.length > 0) scopes.push([fa === fb ? fa : `${fa} / ${fb}`, xa, xb])
        else warnings.push(`${fa} / ${fb}: no successful calls on one side, left out.`)
      })
    }
    for (const [scope, xa, xb] of scopes) {
      const [p50, p90, p99] = PERCENTILES.map((p) => interval(xa, xb, p)) as [
        DifferenceInterval,
        DifferenceInterval,
        DifferenceInterval,
      ]
      differences.push({
        label: b.label,
        baseline: a!.label,
        scope,
        p50,
        p90,
        p99,
        verdict: verdict(p50, {a: a!.label, b: b.label, format: ms}).text + ' (p50)',
      })
    }
  }
  return {
    baseline: a!.label,
    runs: sets.map((s) => ({
      label: s.label,
      dir: s.dir,
      protocol: s.summary.protocol ?? 'lambda',
      functions: s.functions,
      count: s.summary.count,
      errors: s.summary.errors,
      requestedRps: s.summary.requestedRps,
      achievedRps: s.summary.achievedRps,
      p50Ms: sortedPercentile(s.latenciesMs, 50),
      p90Ms: sortedPercentile(s.latenciesMs, 90),
      p99Ms: sortedPercentile(s.latenciesMs, 99),
    })),
    differences,
    confidence,
    iterations,
    warnings,
  }
}

const pad = (text: string, width: number, left = false) => (left ? text.padEnd(width) : text.padStart(width))
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`
export const intervalText = (d: DifferenceInterval) => `${signed(d.estimate)} [${signed(d.lo)}, ${signed(d.hi)}]`

/** The terminal table. */
export function formatComparison(c: Comparison): string[] {
  const w = Math.max(4, ...c.runs.map((r) => r.label.length))
  const lines = [
    `${pad('run', w, true)}  protocol  ${pad('calls', 6)}  ${pad('errors', 6)}  ${pad('rps', 8)} ` +
      ` ${pad('p50 ms', 8)}  ${pad('p90 ms', 8)}  ${pad('p99 ms', 8)}`,
    ...c.runs.map(
      (r) =>
        `${pad(r.label, w, true)}  ${pad(r.protocol, 8, true)}  ${pad(String(r.count), 6)} ` +
        ` ${pad(String(r.errors), 6)}  ${pad(r.achievedRps.toFixed(2), 8)}  ${pad(r.p50Ms.toFixed(2), 8)} ` +
        ` ${pad(r.p90Ms.toFixed(2), 8)}  ${pad(r.p99Ms.toFixed(2), 8)}`,
    ),
    '',
    `differences from ${c.baseline} in ms (run - baseline, ${Math.round(c.confidence * 100)}% bootstrap ` +
      `interval, ${c.iterations} resamples):`,
  ]
  for (const d of c.differences) {
    lines.push(
      `  ${d.label}${d.scope === 'all calls' ? '' : ` [${d.scope}]`}: p50 ${intervalText(d.p50)}  ` +
        `p90 ${intervalText(d.p90)}  p99 ${intervalText(d.p99)}`,
    )
    lines.push(`    ${d.verdict}`)
  }
  for (const warning of c.warnings) lines.push(`note: ${warning}`)
  return lines
}
