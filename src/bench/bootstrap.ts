import {rng} from '../core/random.js'

export interface BootstrapOptions {
  /** What is compared; the median by default (robust to the long tails latencies have). */
  statistic?: (xs: number[]) => number
  iterations?: number
  confidence?: number
  seed?: number
}

/** statistic(b) - statistic(a) and its percentile-bootstrap confidence interval, in the samples' unit. */
export interface DifferenceInterval {
  estimate: number
  lo: number
  hi: number
}

/** The conventional median (mean of the middle two for an even count); NaN for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const sorted = Float64Array.from(xs).sort()
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  let sum = 0
  for (const x of xs) sum += x
  return sum / xs.length
}

/**
 * Percentile bootstrap of statistic(b) - statistic(a): each iteration resamples a and b with replacement
 * (each at its own size, independently) and records the difference; the interval is the central
 * `confidence` share of those differences. Seeded, so the same samples always give the same interval.
 */
export function bootstrapDifference(a: number[], b: number[], options: BootstrapOptions = {}): DifferenceInterval {
  const statistic = options.statistic ?? median
  const iterations = options.iterations ?? 2000
  const confidence = options.confidence ?? 0.95
  if (a.length === 0 || b.length === 0)
    throw new RangeError('bootstrapDifference needs at least one value in each sample')
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`bootstrap iterations must be a positive integer, got ${iterations}`)
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`bootstrap confidence must be in (0, 1), got ${confidence}`)
  const random = rng(options.seed ?? 1)
  const resample = (xs: number[], into: number[]): number[] => {
    for (let i = 0; i < xs.length; i++) into[i] = xs[Math.floor(random() * xs.length)]!
    return into
  }
  const bufferA = new Array<number>(a.length)
  const bufferB = new Array<number>(b.length)
  const differences = new Float64Array(iterations)
  for (let i = 0; i < iterations; i++) {
    // a first, then b: the order fixes which random numbers each sample gets, so results are reproducible.
    const sa = statistic(resample(a, bufferA))
    differences[i] = statistic(resample(b, bufferB)) - sa
  }
  differences.sort()
  const tail = (1 - confidence) / 2
  return {
    estimate: statistic(b) - statistic(a),
    lo: differences[Math.max(0, Math.floor(tail * iterations))]!,
    hi: differences[Math.min(iterations - 1, Math.ceil((1 - tail) * iterations) - 1)]!,
  }
}

export interface VerdictOptions {
  /** Names of the two samples as the reader knows them. */
  a: string
  b: string
  /** Word for "lower is better" (default "faster"); the metric's opposite isn't needed: the text names the winner. */
  better?: string
  /** When higher values are better (e.g. throughput); default false. */
  higherIsBetter?: boolean
  /** Formats a non-negative magnitude with its unit, e.g. v => `${v.toFixed(1)} ms`. */
  format?: (value: number) => string
}

export interface Verdict {
  /** Which sample is better, or 'none' when the interval includes zero. */
  winner: 'a' | 'b' | 'none'
  /** How much better the winner is (positive), with the interval oriented the same way; the raw b - a otherwise. */
  by: number
  lo: number
  hi: number
  text: string
}

/**
 * Reads a difference interval (b - a) as a sentence: "B is faster by X [lo, hi]" when the interval
 * excludes zero, "no difference detected" when it doesn't (which is not proof of equality: the interval says
 * how large a difference the data can't rule out).
 */
export function verdict(interval: DifferenceInterval, options: VerdictOptions): Verdict {
  const format = options.format ?? ((v: number) => String(v))
  const better = options.better ?? 'faster'
  const {estimate, lo, hi} = interval
  const bBetter = options.higherIsBetter ? lo > 0 : hi < 0
  const aBetter = options.higherIsBetter ? hi < 0 : lo > 0
  if (bBetter || aBetter) {
    // Orient so the winner's advantage is positive.
    const sign = bBetter === !options.higherIsBetter ? -1 : 1
    const [x, l, h] = sign === -1 ? [-estimate, -hi, -lo] : [estimate, lo, hi]
    const winner = bBetter ? 'b' : 'a'
    const name = winner === 'b' ? options.b : options.a
    const other = winner === 'b' ? options.a : options.b
    return {
      winner,
      by: x,
      lo: l,
      hi: h,
      text: `${name} is ${better} than ${other} by ${format(x)} [${format(l)}, ${format(h)}]`,
    }
  }
  const signed = (v: number) => (v < 0 ? `-${format(-v)}` : format(v))
  return {
    winner: 'none',
    by: estimate,
    lo,
    hi,
    text:
      `no difference detected between ${options.a} and ${options.b} (${options.b} ` +
      `- ${options.a}: ${signed(estimate)} [${signed(lo)}, ${signed(hi)}])`,
  }
}
