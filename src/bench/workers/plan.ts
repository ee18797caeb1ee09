import {UserError} from '../../core/errors.js'
import type {Arrival, ArrivalTag} from '../arrival.js'
import {roundRobin} from '../schedule.js'

/** One arrival as a worker receives it: [seq, atUs, function, phase, payload | null, tag | null]. */
export type WorkerArrival = [number, number, string, 'warmup' | 'measure', string | null, ArrivalTag | null]

/**
 * The schedule split round-robin over the workers (the i-th arrival to worker i % n), each arrival keeping its
 * place (seq), its time from the common start and its endpoint, so the merged records read as one run's.
 */
export function splitArrivals(
  schedule: Iterable<Arrival>,
  options: {workers: number; functions: string[]; warmupS: number},
): WorkerArrival[][] {
  const shares: WorkerArrival[][] = Array.from({length: options.workers}, () => [])
  const warmupUs = options.warmupS * 1e6
  let seq = 0
  for (const arrival of schedule) {
    const fn = arrival.fn ?? roundRobin(options.functions, seq)
    const phase = arrival.atUs < warmupUs ? 'warmup' : 'measure'
    shares[seq % options.workers]!.push([
      seq,
      Math.round(arrival.atUs),
      fn,
      phase,
      arrival.payload ?? null,
      arrival.tag ?? null,
    ])
    seq++
  }
  return shares
}

/** Lambda's limit on a synchronous request (6 MB), less room for the rest of a worker's event. */
const MAX_SHARE_BYTES = 6 * 1024 * 1024 - 64 * 1024

/** Each worker gets its share in one invocation: a share past Lambda's request limit is refused before any load. */
export function checkShareSizes(shares: WorkerArrival[][]): void {
  const largest = Math.max(...shares.map((share) => JSON.stringify(share).length))
  if (largest <= MAX_SHARE_BYTES) return
  throw new UserError(
    `A worker's share of the schedule is ${(largest / 1024 / 1024).toFixed(1)} MB, over the 6 MB a Lambda ` +
      'invocation may carry.',
    {
      code: 'WORKERS_SHARE_TOO_LARGE',
      fix: 'Use more --workers, or a shorter run (--time, --trace-minutes) or fewer calls (--rps, --functions).',
    },
  )
}

/** One round trip of a clock call: the client's send and receive times and the worker's reading, epoch µs. */
export interface ClockSample {
  sendUs: number
  recvUs: number
  workerUs: number
}

/**
 * NTP-style: offset = t_worker - (t_send + t_recv) / 2, from the sample with the smallest round trip (its error is
 * at most half that round trip). A worker's time minus the offset is the client's time.
 */
export function clockOffset(samples: ClockSample[]): {offsetUs: number; rttUs: number} {
  if (samples.length === 0) throw new Error('clockOffset needs at least one sample')
  const best = samples.reduce((a, b) => (b.recvUs - b.sendUs < a.recvUs - a.sendUs ? b : a))
  return {
    offsetUs: Math.round(best.workerUs - (best.sendUs + best.recvUs) / 2),
    rttUs: Math.round(best.recvUs - best.sendUs),
  }
}
