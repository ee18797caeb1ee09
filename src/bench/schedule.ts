import {rng} from '../core/random.js'
import {plainArrivals, type Arrival} from './arrival.js'

/**
 * Open-loop arrival schedules: when each request is due, as offsets (µs) from the start of a run.
 * Fixed interval is what the vHive invoker does; Poisson arrivals have exponential gaps with the same
 * mean. Both are deterministic for a given seed, so runs and tests can be repeated.
 */
export type Distribution = 'fixed' | 'poisson'

export interface ScheduleOptions {
  rps: number
  durationS: number
  distribution: Distribution
  /** Seed of the Poisson generator. */
  seed?: number
}

/** Arrival offsets in µs, ascending, all within [0, durationS). */
export function* arrivals(options: ScheduleOptions): Generator<number> {
  const windowUs = options.durationS * 1e6
  const meanGapUs = 1e6 / options.rps
  if (options.distribution === 'fixed') {
    const count = Math.round(options.rps * options.durationS)
    for (let i = 0; i < count; i++) {
      const at = i * meanGapUs
      if (at >= windowUs) return
      yield at
    }
    return
  }
  const random = rng(options.seed ?? 1)
  let at = 0
  for (;;) {
    // Inverse-CDF sampling of an exponential gap; 1 - u is in (0, 1], so log never sees 0.
    at += -Math.log(1 - random()) * meanGapUs
    if (at >= windowUs) return
    yield at
  }
}

/** Round-robin: the i-th arrival goes to functions[i % n], as the vHive invoker spreads its endpoints. */
export const roundRobin = <T>(items: readonly T[], i: number): T => items[i % items.length]!

/** A plain run's arrivals: `rps` over the warm-up and the measured window, nothing else to say about each. */
export function plainSchedule(options: {
  rps: number
  durationS: number
  warmupS: number
  distribution?: Distribution
  seed?: number
}): Iterable<Arrival> {
  return plainArrivals(
    arrivals({
      rps: options.rps,
      durationS: options.warmupS + options.durationS,
      distribution: options.distribution ?? 'fixed',
      seed: options.seed,
    }),
  )
}
