import {UserError} from '../core/errors.js'
import type {Comparison} from './compare.js'

/**
 * `faas compare A B --fail-on 'latency:p99>+10%'`: a regression gate. It fails when a run is worse
 * than the baseline by more than the bound *and* the bootstrap interval of the difference lies
 * wholly above the bound (so noise alone does not fail CI).
 */
export interface FailOn {
  expression: string
  stat: 'p50' | 'p90' | 'p99'
  /** The bound: a share of the baseline's value (relative) or milliseconds. */
  bound: number
  relative: boolean
}

export interface FailOnResult {
  failOn: string
  run: string
  /** b - a, ms, and its interval. */
  differenceMs: number
  intervalMs: [number, number]
  boundMs: number
  fail: boolean
}

export function parseFailOn(expression: string): FailOn {
  const m = /^\s*latency:(p50|p90|p99|median)\s*>\s*\+?(\d+(?:\.\d+)?)\s*(%|ms)\s*$/.exec(expression)
  if (!m)
    throw new UserError(`--fail-on "${expression}" is not latency:<p50|p90|p99> > +<bound>% or ms.`, {
      code: 'BAD_FAIL_ON',
      fix: "For example --fail-on 'latency:p99>+10%' or --fail-on 'latency:p50>+2ms'.",
    })
  const stat = (m[1] === 'median' ? 'p50' : m[1]) as FailOn['stat']
  return {expression: expression.trim(), stat, bound: Number(m[2]) / (m[3] === '%' ? 100 : 1), relative: m[3] === '%'}
}

/** Each gate against each run's all-calls difference from the baseline. */
export function evaluateFailOn(gates: FailOn[], comparison: Comparison): FailOnResult[] {
  const baseline = comparison.runs[0]!
  return gates.flatMap((gate) =>
    comparison.differences
      .filter((d) => d.scope === 'all calls')
      .map((d) => {
        const interval = d[gate.stat]
        const base = baseline[`${gate.stat}Ms` as const]
        const boundMs = gate.relative ? base * gate.bound : gate.bound
        return {
          failOn: gate.expression,
          run: d.label,
          differenceMs: interval.estimate,
          intervalMs: [interval.lo, interval.hi] as [number, number],
          boundMs,
          fail: interval.estimate > boundMs && interval.lo > boundMs,
        }
      }),
  )
}

export const formatFailOn = (results: FailOnResult[]): string[] =>
  results.map(
    (r) =>
      `fail-on ${r.failOn} (${r.run}): ${r.differenceMs >= 0 ? '+' : ''}${r.differenceMs.toFixed(2)} ms ` +
      `[${r.intervalMs[0].toFixed(2)}, ${r.intervalMs[1].toFixed(2)}] vs bound +${r.boundMs.toFixed(2)} ms: ` +
      `${r.fail ? 'FAIL' : 'pass'}`,
  )
