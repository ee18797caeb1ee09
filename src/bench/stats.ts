import {DEFAULT_PRICES, estimateCost, type Architecture, type CostEstimate, type Prices} from './cost.js'
import type {Protocol} from './protocols/endpoints.js'
import type {InvocationRecord} from './records.js'

export interface Distribution {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

/** Nearest-rank percentile of an ascending array (p in (0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** min/mean/p50/p90/p95/p99/max of some values; undefined when there are none. */
export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: sorted.length,
    min: sorted[0]!,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
  }
}

export interface RunFacts {
  requestedRps: number
  durationS: number
  /** Wall time the measured window actually lasted (shorter when interrupted), seconds. */
  measuredS: number
  /** Arrivals the in-flight cap turned away (open loop: they are not sent later). */
  dropped: number
  interrupted: boolean
  architecture: Architecture
  /** What the cost is computed with (DEFAULT_PRICES when absent). */
  prices?: Prices
  protocol?: Protocol
}

export interface Summary {
  /** How the calls were made (absent in results from before protocols existed: lambda). */
  protocol?: Protocol
  count: number
  errors: number
  dropped: number
  interrupted: boolean
  requestedRps: number
  /** Requests sent per second of the measured window. */
  achievedRps: number
  /** Client latency, µs. */
  latencyUs?: Distribution
  /** Provider-reported duration, µs. */
  durationUs?: Distribution
  /** Lateness of sends against the schedule, µs. */
  latenessUs?: Distribution
  cold: {count: number; latencyUs?: Distribution; initDurationUs?: Distribution}
  warm: {count: number; latencyUs?: Distribution}
  /** Memory sizes seen in reports (MB). */
  memoryMb: number[]
  architecture: Architecture
  /** From billed durations; absent when no invocation reported one. */
  cost?: CostEstimate
  byFunction: Record<string, {count: number; errors: number; cold: number; latencyUs?: Distribution}>
}

const defined = (values: Array<number | undefined>): number[] => values.filter((v): v is number => v !== undefined)

/** The summary of a run's measured records (warm-up records are left out here). */
export function summarize(all: InvocationRecord[], facts: RunFacts): Summary {
  const records = all.filter((r) => r.phase === 'measure')
  const cold = records.filter((r) => r.cold)
  const warm = records.filter((r) => !r.cold)
  const billed = records.filter((r) => r.billedDurationUs !== undefined && r.memoryMb !== undefined)
  const byFunction: Summary['byFunction'] = {}
  for (const name of new Set(records.map((r) => r.function))) {
    const mine = records.filter((r) => r.function === name)
    byFunction[name] = {
      count: mine.length,
      errors: mine.filter((r) => r.error).length,
      cold: mine.filter((r) => r.cold).length,
      latencyUs: distribution(mine.map((r) => r.clientLatencyUs)),
    }
  }
  return {
    ...(facts.protocol ? {protocol: facts.protocol} : {}),
    count: records.length,
    errors: records.filter((r) => r.error).length,
    dropped: facts.dropped,
    interrupted: facts.interrupted,
    requestedRps: facts.requestedRps,
    achievedRps: facts.measuredS > 0 ? records.length / facts.measuredS : 0,
    latencyUs: distribution(records.map((r) => r.clientLatencyUs)),
    durationUs: distribution(defined(records.map((r) => r.providerDurationUs))),
    latenessUs: distribution(defined(records.map((r) => r.latenessUs))),
    cold: {
      count: cold.length,
      latencyUs: distribution(cold.map((r) => r.clientLatencyUs)),
      initDurationUs: distribution(defined(cold.map((r) => r.initDurationUs))),
    },
    warm: {count: warm.length, latencyUs: distribution(warm.map((r) => r.clientLatencyUs))},
    memoryMb: [...new Set(defined(records.map((r) => r.memoryMb)))].sort((a, b) => a - b),
    architecture: facts.architecture,
    cost:
      billed.length > 0
        ? estimateCost(
            billed.map((r) => ({billedDurationMs: r.billedDurationUs! / 1000, memoryMb: r.memoryMb!})),
            facts.architecture,
            facts.prices,
          )
        : undefined,
    byFunction,
  }
}

const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : `${(v / 1000).toFixed(2)} ms`)

/** A few human lines for the terminal. */
export function formatSummary(s: Summary): string[] {
  const line = (label: string, d?: Distribution) =>
    d
      ? `${label.padEnd(18)} min ${ms(d.min)}  mean ${ms(d.mean)}  p50 ${ms(d.p50)}  p90 ${ms(d.p90)}  ` +
        `p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`
      : `${label.padEnd(18)} -`
  return [
    `${s.count} requests${s.protocol && s.protocol !== 'lambda' ? ` over ${s.protocol}` : ''}, ${s.errors} ` +
      `errors, ${s.dropped} dropped by the in-flight cap${s.interrupted ? ' (interrupted)' : ''}`,
    `rate: requested ${s.requestedRps} rps, achieved ${s.achievedRps.toFixed(2)} rps`,
    line('client latency', s.latencyUs),
    line('provider duration', s.durationUs),
    `cold ${s.cold.count} (p50 ${ms(s.cold.latencyUs?.p50)}, init p50 ${ms(s.cold.initDurationUs?.p50)}), ` +
      `warm ${s.warm.count} (p50 ${ms(s.warm.latencyUs?.p50)})`,
    s.cost
      ? `cost: $${s.cost.totalUsd.toFixed(8)} for ${s.cost.requests} requests ($${s.cost.perMillionUsd.toFixed(2)} ` +
        `per 1M) at ${s.memoryMb.join('/')} MB ${s.architecture}` +
        (s.cost.pricesAsOf && s.cost.pricesAsOf !== DEFAULT_PRICES.asOf ? `, ${s.cost.pricesAsOf}` : '')
      : 'cost: - (no billed durations reported)',
  ]
}
