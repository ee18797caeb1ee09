import {bootstrapDifference, mean, median, verdict, type Verdict} from '../bench/bootstrap.js'
import {costPerCallUsd, type Architecture} from '../bench/cost.js'
import type {InvocationRecord} from '../bench/records.js'
import {percentile} from '../bench/stats.js'
import {defaultStatistic, type Metric, type MetricName, type StatisticName} from './spec.js'

/** How each metric is read from a record, named, formatted and worded in a verdict. */
export const METRIC_INFO: Record<
  MetricName,
  {
    label: string
    unit: string
    better: string
    digits: number
    value: (r: InvocationRecord, arch: Architecture) => number | undefined
  }
> = {
  latency: {label: 'client latency', unit: 'ms', better: 'faster', digits: 2, value: (r) => r.clientLatencyUs / 1000},
  duration: {
    label: 'duration',
    unit: 'ms',
    better: 'faster',
    digits: 2,
    value: (r) => (r.providerDurationUs === undefined ? undefined : r.providerDurationUs / 1000),
  },
  // Lambda's Init Duration exists only on cold calls: the others carry no value.
  init: {
    label: 'Init Duration',
    unit: 'ms',
    better: 'faster to initialise',
    digits: 1,
    value: (r) => (r.initDurationUs === undefined ? undefined : r.initDurationUs / 1000),
  },
  cost: {
    label: 'cost per 1M calls',
    unit: '$',
    better: 'cheaper',
    digits: 4,
    value: (r, arch) =>
      r.billedDurationUs === undefined || r.memoryMb === undefined
        ? undefined
        : costPerCallUsd(r.billedDurationUs / 1000, r.memoryMb, arch) * 1e6,
  },
  cold: {label: 'cold calls', unit: '%', better: 'less often cold', digits: 1, value: (r) => (r.cold ? 100 : 0)},
}

export function statisticOf(name: StatisticName): (xs: number[]) => number {
  if (name === 'median') return median
  if (name === 'mean') return mean
  const p = Number(name.slice(1))
  return (xs) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    )
}

export const formatValue = (metric: MetricName, v: number): string => {
  const info = METRIC_INFO[metric]
  return info.unit === '$'
    ? `$${v.toFixed(info.digits)}`
    : `${v.toFixed(info.digits)} ${info.unit === '%' ? 'points' : info.unit}`
}

export const metricKey = (m: Metric): string => `${m.name}:${m.statistic}`

/** The values a metric compares: measured calls without errors (errors are counted apart). */
export function metricValues(records: InvocationRecord[], metric: MetricName, arch: Architecture): number[] {
  const out: number[] = []
  for (const r of records) {
    if (r.phase !== 'measure' || r.error) continue
    const v = METRIC_INFO[metric].value(r, arch)
    if (v !== undefined && Number.isFinite(v)) out.push(v)
  }
  return out
}

export interface Comparison {
  metric: string
  a: string
  b: string
  /** The statistic of each side, in the metric's unit. */
  statisticA: number
  statisticB: number
  countA: number
  countB: number
  /** statistic(b) - statistic(a) and its bootstrap interval. */
  difference: {estimate: number; lo: number; hi: number}
  confidence: number
  iterations: number
  seed: number
  verdict: Verdict
}

/** b against a for one metric: difference of the statistic with its bootstrap interval, and the verdict. */
export function compareVariants(
  a: {name: string; values: number[]},
  b: {name: string; values: number[]},
  metric: Metric,
  options: {seed: number; iterations?: number; confidence?: number},
): Comparison | {metric: string; a: string; b: string; missing: string} {
  const key = metricKey(metric)
  const empty = [a, b].filter((v) => v.values.length === 0).map((v) => v.name)
  if (empty.length > 0)
    return {
      metric: key,
      a: a.name,
      b: b.name,
      missing: `no ${METRIC_INFO[metric.name].label} values for ${empty.join(' and ')}`,
    }
  const statistic = statisticOf(metric.statistic)
  const iterations = options.iterations ?? 2000
  const confidence = options.confidence ?? 0.95
  const difference = bootstrapDifference(a.values, b.values, {statistic, iterations, confidence, seed: options.seed})
  const info = METRIC_INFO[metric.name]
  return {
    metric: key,
    a: a.name,
    b: b.name,
    statisticA: statistic(a.values),
    statisticB: statistic(b.values),
    countA: a.values.length,
    countB: b.values.length,
    difference,
    confidence,
    iterations,
    seed: options.seed,
    verdict: verdict(difference, {
      a: a.name,
      b: b.name,
      better:
        metric.statistic === defaultStatistic(metric.name) ? info.better : `${info.better} at the ${metric.statistic}`,
      format: (v) => formatValue(metric.name, v),
    }),
  }
}
