import {bootstrapDifference, median, verdict, type DifferenceInterval} from './bootstrap.js'

export interface SweepPick {
  /** The size named best; absent when the data cannot tell it from the runner-up. */
  memoryMb?: number
  /** The size with the lowest median, and the next one. */
  lowest?: number
  runnerUp?: number
  /** runner-up minus lowest (≥ 0 by construction of the pick), with its bootstrap interval. */
  difference?: DifferenceInterval
  text: string
}

/**
 * Which memory size of a sweep is best on some per-call figure (duration, cost): the one with the
 * lowest median, named only when the bootstrap interval of its difference to the runner-up excludes
 * zero; otherwise "no difference detected" between the two.
 */
export function pickBest(
  groups: Array<{memoryMb: number; values: number[]}>,
  options: {what: string; better: string; format: (v: number) => string; seed?: number},
): SweepPick {
  const ranked = groups
    .filter((g) => g.values.length > 0)
    .map((g) => ({...g, median: median(g.values)}))
    .sort((a, b) => a.median - b.median || a.memoryMb - b.memoryMb)
  const [lowest, runnerUp] = ranked
  if (!lowest) return {text: `${options.what}: – (no values)`}
  if (!runnerUp)
    return {
      memoryMb: lowest.memoryMb,
      lowest: lowest.memoryMb,
      text: `${options.what}: ${lowest.memoryMb} MB (the only size with values)`,
    }
  const difference = bootstrapDifference(lowest.values, runnerUp.values, {seed: options.seed ?? 1})
  const v = verdict(difference, {
    a: `${lowest.memoryMb} MB`,
    b: `${runnerUp.memoryMb} MB`,
    better: options.better,
    format: options.format,
  })
  return {
    memoryMb: v.winner === 'a' ? lowest.memoryMb : undefined,
    lowest: lowest.memoryMb,
    runnerUp: runnerUp.memoryMb,
    difference,
    text: `${options.what}: ${v.winner === 'a' ? `${lowest.memoryMb} MB (${v.text}, the next best)` : v.text}`,
  }
}
