import {rng} from '../../core/random.js'

/** A distribution given by its values at percentile ranks (durations.csv, memory.csv). */
export interface Percentiles {
  ranks: readonly number[]
  values: number[]
}

/**
 * `n` of the functions with calls (totals > 0), seeded, keeping the trace's spread of invocation rates:
 * the functions are ranked by their calls and one is drawn from each of n equal strata of that ranking
 * (so the rare and the busy ones stay in proportion). Indices in ascending order; all when n ≥ their number.
 */
export function sampleFunctions(totals: readonly number[], n: number, seed: number): number[] {
  const ranked = totals.flatMap((t, i) => (t > 0 ? [i] : [])).sort((a, b) => totals[a]! - totals[b]! || a - b)
  if (n >= ranked.length) return ranked.sort((a, b) => a - b)
  const random = rng(seed)
  const picked: number[] = []
  for (let k = 0; k < n; k++) {
    const lo = Math.floor((k * ranked.length) / n)
    const hi = Math.floor(((k + 1) * ranked.length) / n)
    picked.push(ranked[lo + Math.floor(random() * (hi - lo))]!)
  }
  return picked.sort((a, b) => a - b)
}

/**
 * A value drawn from a distribution known by some percentiles, as invitro draws requested durations:
 * a uniform rank in [first rank, 100), linearly interpolated between the two known percentiles around it.
 */
export function drawFrom(p: Percentiles, u: number): number {
  const {ranks, values} = p
  const rank = ranks[0]! + u * (100 - ranks[0]!)
  let i = 1
  while (i < ranks.length - 1 && ranks[i]! < rank) i++
  const r0 = ranks[i - 1]!
  const r1 = ranks[i]!
  const w = r1 > r0 ? Math.min(1, Math.max(0, (rank - r0) / (r1 - r0))) : 0
  return values[i - 1]! + w * (values[i]! - values[i - 1]!)
}
