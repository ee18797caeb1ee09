import {UserError} from '../core/errors.js'
import type {InvocationRecord} from '../core/records.js'
import {percentile} from './stats.js'

/**
 * The exit code of a run whose thresholds failed (k6's too): not 0, and not 1 (a user error) or
 * another crash, so CI can tell "the system under test got worse" from "the bench broke".
 */
export const THRESHOLDS_FAILED_EXIT = 99

/** `latency:p99<300ms`, `duration:median<50ms`, `errors<1%`, `cold<5%`, `throttles<0.1%`. */
export interface Threshold {
  expression: string
  metric: TimeMetric | RateMetric
  /** Time metrics: p<N>, median, mean, min or max. */
  stat?: string
  op: '<' | '<=' | '>' | '>='
  /** µs for time metrics, a fraction for rates. */
  limit: number
}

export interface ThresholdResult {
  threshold: string
  /** Measured value, in the threshold's unit (ms or %); null when nothing was measured. */
  value: number | null
  unit: 'ms' | '%'
  pass: boolean
}

type TimeMetric = 'latency' | 'duration' | 'lateness'
type RateMetric = 'errors' | 'cold' | 'throttles'
const TIME_METRICS: readonly string[] = ['latency', 'duration', 'lateness']
const RATE_METRICS: readonly string[] = ['errors', 'cold', 'throttles']
const UNIT_US: Record<string, number> = {us: 1, µs: 1, ms: 1000, s: 1e6}

const FIX =
  'Write a threshold as latency:p99<300ms, duration:median<50ms, lateness:p99<2ms (time metrics latency, ' +
  'duration, lateness with p<N>, median, mean, min or max and a unit us, ms or s), or errors<1%, cold<5%, ' +
  'throttles<0.1% (rates in %).'

export function parseThreshold(expression: string): Threshold {
  const bad = (why: string) => new UserError(`--threshold "${expression}" ${why}.`, {code: 'BAD_THRESHOLD', fix: FIX})
  const m = /^\s*([a-z]+)(?::([a-z0-9.]+))?\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(%|us|µs|ms|s)?\s*$/.exec(expression)
  if (!m) throw bad('is not metric[:stat] < value')
  const [, metric, stat, op, number, unit] = m as unknown as [
    string,
    string,
    string | undefined,
    Threshold['op'],
    string,
    string | undefined,
  ]
  const value = Number(number)
  if (TIME_METRICS.includes(metric)) {
    const s = stat ?? 'p50'
    const p = /^p(\d+(?:\.\d+)?)$/.exec(s)
    if (!(['median', 'mean', 'avg', 'min', 'max'].includes(s) || (p && Number(p[1]) > 0 && Number(p[1]) <= 100)))
      throw bad(`has the statistic "${s}" (give p<N> with 0 < N ≤ 100, median, mean, min or max)`)
    if (!unit || unit === '%') throw bad(`needs a time unit after ${number} (us, ms or s)`)
    return {expression, metric: metric as TimeMetric, stat: s, op, limit: value * UNIT_US[unit]!}
  }
  if (RATE_METRICS.includes(metric)) {
    if (stat !== undefined) throw bad(`gives "${metric}" a statistic; it is a rate (${metric}<1%)`)
    if (unit !== '%') throw bad(`needs % after ${number} (${metric} is a share of the calls)`)
    return {expression, metric: metric as RateMetric, op, limit: value / 100}
  }
  throw bad(`names the metric "${metric}" (one of ${[...TIME_METRICS, ...RATE_METRICS].join(', ')})`)
}

const isThrottle = (r: InvocationRecord) =>
  r.statusCode === 429 || /throttl|TooManyRequests|Rate Exceeded/i.test(r.error ?? '')

function statistic(values: number[], stat: string): number | null {
  if (values.length === 0) return null
  const sorted = values.sort((a, b) => a - b)
  if (stat === 'min') return sorted[0]!
  if (stat === 'max') return sorted.at(-1)!
  if (stat === 'mean' || stat === 'avg') return sorted.reduce((t, v) => t + v, 0) / sorted.length
  return percentile(sorted, stat === 'median' ? 50 : Number(stat.slice(1)))
}

/** Each threshold on the measured window's records (latency and duration of successful calls). */
export function evaluateThresholds(thresholds: Threshold[], all: InvocationRecord[]): ThresholdResult[] {
  const records = all.filter((r) => r.phase === 'measure')
  const ok = records.filter((r) => !r.error)
  return thresholds.map((t) => {
    let value: number | null
    if (t.metric === 'latency' || t.metric === 'duration' || t.metric === 'lateness') {
      const values =
        t.metric === 'latency'
          ? ok.map((r) => r.clientLatencyUs)
          : t.metric === 'duration'
            ? ok.flatMap((r) => (r.providerDurationUs === undefined ? [] : [r.providerDurationUs]))
            : records.flatMap((r) => (r.latenessUs === undefined ? [] : [r.latenessUs]))
      value = statistic(values, t.stat!)
    } else {
      const hit =
        t.metric === 'errors'
          ? (r: InvocationRecord) => Boolean(r.error)
          : t.metric === 'cold'
            ? (r: InvocationRecord) => r.cold
            : isThrottle
      value = records.length === 0 ? null : records.filter(hit).length / records.length
    }
    const pass =
      value !== null &&
      (t.op === '<'
        ? value < t.limit
        : t.op === '<='
          ? value <= t.limit
          : t.op === '>'
            ? value > t.limit
            : value >= t.limit)
    const rate = RATE_METRICS.includes(t.metric)
    return {
      threshold: t.expression.trim(),
      value: value === null ? null : rate ? value * 100 : value / 1000,
      unit: rate ? '%' : 'ms',
      pass,
    }
  })
}

/** The summary's lines for the thresholds. */
export const formatThresholds = (results: ThresholdResult[]): string[] =>
  results.map((r) => {
    const value = r.value === null ? 'nothing measured' : `${Number(r.value.toFixed(3))} ${r.unit}`
    return `threshold ${r.threshold}: ${value} ${r.pass ? 'pass' : 'FAIL'}`
  })
