import {rng} from '../../core/random.js'
import type {Arrival} from '../arrival.js'
import type {Trace} from './read.js'
import {drawFrom} from './sample.js'

/** How calls are spread within a minute (invitro's -iat): exponential or uniform gaps, or evenly. */
export type Iat = 'exponential' | 'uniform' | 'equidistant'
export const IATS: readonly Iat[] = ['exponential', 'uniform', 'equidistant']

export interface TraceScheduleOptions {
  iat: Iat
  seed: number
  /** A trace minute lasts 60/speedup seconds. */
  speedup: number
  /** The endpoint of the i-th trace function. */
  endpoint: (i: number) => string
}

const MINUTE_US = 60e6

/** A seed per (function, minute), so each minute's draws do not depend on what came before. */
const mix = (seed: number, f: number, m: number): number =>
  (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(f + 1, 0xc2b2ae35) ^ Math.imul(m + 1, 0x27d4eb2f)) >>> 0

/**
 * `count` offsets in [0, 1), ascending: the first `count` partial sums of count + 1 gaps divided by
 * their total, so exactly `count` land in the minute (exponential gaps give the arrival times of a
 * Poisson process that made `count` calls in it).
 */
function spread(count: number, iat: Iat, random: () => number, into: Float64Array): void {
  if (iat === 'equidistant') {
    for (let i = 0; i < count; i++) into[i] = i / count
    return
  }
  let total = 0
  for (let i = 0; i <= count; i++) {
    const u = 1 - random() // (0, 1]
    const gap = iat === 'exponential' ? -Math.log(u) : u
    total += gap
    if (i < count) into[i] = total
  }
  for (let i = 0; i < count; i++) into[i] = into[i]! / total
}

/**
 * The replay's calls in time order, generated a minute at a time: memory holds one minute's calls,
 * never the whole schedule. Per minute, each function makes exactly its trace count of calls; each
 * call's requested duration (and memory) is drawn from the function's percentiles, seeded.
 */
export function* traceArrivals(trace: Trace, options: TraceScheduleOptions): Generator<Arrival> {
  const span = trace.warmupMinutes + trace.minutes
  const cursors = new Uint32Array(trace.functions.length)
  let capacity = 1024
  let at = new Float64Array(capacity)
  let fn = new Uint32Array(capacity)
  let ms = new Uint32Array(capacity)
  let mb = new Uint32Array(capacity)
  let offsets = new Float64Array(1024)
  const scale = 1 / options.speedup
  for (let m = 0; m < span; m++) {
    let n = 0
    for (let f = 0; f < trace.functions.length; f++) {
      const tf = trace.functions[f]!
      const c = cursors[f]!
      if (c >= tf.minutes.length || tf.minutes[c] !== m) continue
      cursors[f] = c + 1
      const count = tf.counts[c]!
      if (n + count > capacity) {
        capacity = Math.max(capacity * 2, n + count)
        ;[at, fn, ms, mb] = [grow(at, capacity), grow(fn, capacity), grow(ms, capacity), grow(mb, capacity)]
      }
      if (count > offsets.length) offsets = new Float64Array(Math.max(count, offsets.length * 2))
      const random = rng(mix(options.seed, f, trace.startMinute + m))
      spread(count, options.iat, random, offsets)
      for (let i = 0; i < count; i++, n++) {
        at[n] = (m + offsets[i]!) * MINUTE_US * scale
        fn[n] = f
        ms[n] = Math.max(1, Math.round(drawFrom(tf.durationMs, random())))
        mb[n] = tf.memoryMb ? Math.round(drawFrom(tf.memoryMb, random())) : 0
      }
    }
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    order.sort((a, b) => at[a]! - at[b]! || a - b)
    const minute = trace.startMinute + m + 1
    for (const i of order) {
      const f = fn[i]!
      const tf = trace.functions[f]!
      yield {
        atUs: at[i]!,
        fn: options.endpoint(f),
        payload: `{"ms":${ms[i]},"mb":${mb[i]}}`,
        tag: {traceFunction: tf.hash, minute, requestedMs: ms[i], requestedMemoryMb: mb[i]},
      }
    }
  }
}

function grow<T extends Float64Array | Uint32Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(size)
  bigger.set(array)
  return bigger
}

/** Calls the trace asks for in each minute of the window (warm-up first), numbered as the records' `minute`. */
export function requestedPerMinute(trace: Trace): Array<{minute: number; calls: number}> {
  const span = trace.warmupMinutes + trace.minutes
  const calls = new Array<number>(span).fill(0)
  for (const tf of trace.functions) tf.minutes.forEach((m, i) => (calls[m]! += tf.counts[i]!))
  return calls.map((c, m) => ({minute: trace.startMinute + m + 1, calls: c}))
}
