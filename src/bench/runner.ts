import {messageOf} from '../core/errors.js'
import type {Invoke} from '../core/invoke.js'
import type {InvokeOutcome} from '../core/invoke.js'
import {failedCall, fromOutcome, type InvocationRecord, type RecordBase} from '../core/records.js'
import type {Arrival, ArrivalTag} from './arrival.js'
import type {Protocol} from './protocols/endpoints.js'
import {plainSchedule, roundRobin, type Distribution} from './schedule.js'
import {percentile} from './stats.js'

export type {Invoke} from '../core/invoke.js'

/** A monotonic clock in µs plus the epoch it maps to (injected by tests). */
export interface Clock {
  nowUs(): number
  epochUs(): number
}

export const systemClock: Clock = {
  nowUs: () => performance.now() * 1000,
  epochUs: () => (performance.timeOrigin + performance.now()) * 1000,
}

export interface LiveStatus {
  elapsedS: number
  phase: 'warmup' | 'measure'
  sent: number
  completed: number
  inFlight: number
  errors: number
  dropped: number
  /** Send rate over the last tick. */
  rps: number
  /** p50 client latency of the calls completed in the last tick, µs. */
  p50Us?: number
}

export interface LoadOptions {
  /** Stamped on every record (bench's --protocol). */
  protocol?: Protocol
  functions: string[]
  payload: string
  rps: number
  durationS: number
  /** Seconds at the same rate before the measured window; their records are phase "warmup". */
  warmupS?: number
  distribution?: Distribution
  seed?: number
  /** Arrivals beyond this many calls in flight are dropped (counted), not queued. */
  maxInFlight?: number
  /** Keep sends within ~0.1 ms of the schedule by polling instead of sleeping the last millisecond (costs CPU). */
  precise?: boolean
  signal?: AbortSignal
  clock?: Clock
  /** Called about once a second. */
  onStatus?: (status: LiveStatus) => void
  /** Called with each record as its call completes (completion order), e.g. to stream it to disk. */
  onRecord?: (record: InvocationRecord) => void
  /** Shaped or trace-driven arrivals instead of rps × durationS (which still bound the window). */
  schedule?: Iterable<Arrival>
  /** Reads more from an answer into its record (e.g. what the trace function reports). */
  onAnswer?: (record: InvocationRecord, outcome: InvokeOutcome) => void
}

export interface LoadResult {
  records: InvocationRecord[]
  dropped: number
  /** Dropped arrivals of the measured window only. */
  droppedMeasured: number
  /** Wall seconds of the measured window (up to an interruption). */
  measuredS: number
  interrupted: boolean
}

/**
 * One call, measured: a record from the target's answer, or a record of the failure (client-side
 * timings) when the call threw. Never throws.
 */
export async function measureCall(
  invoke: Invoke,
  base: RecordBase,
  payload: string,
  clock: Clock = systemClock,
  onAnswer?: LoadOptions['onAnswer'],
): Promise<InvocationRecord> {
  const sentAtUs = clock.nowUs()
  const epochAtSend = clock.epochUs()
  try {
    const outcome = await invoke({name: base.function, payload, logTail: true})
    const record = fromOutcome(base, outcome)
    onAnswer?.(record, outcome)
    return record
  } catch (error) {
    return failedCall(base, {
      startedAtUs: epochAtSend,
      clientLatencyUs: clock.nowUs() - sentAtUs,
      error: messageOf(error),
    })
  }
}

/** What a run counts as it goes: read by the status line, returned at the end. */
interface RunState {
  records: InvocationRecord[]
  pending: Set<Promise<void>>
  sent: number
  errors: number
  dropped: number
  droppedMeasured: number
  /** When the last call went out, µs since the start. */
  lastSendUs: number
  /** Sends and completed calls' latencies since the last status line. */
  tickSent: number
  tickLatencies: number[]
}

/**
 * Pauses that end at once when the run is aborted. One abort listener for the whole run ends whichever pause is under
 * way (a listener per pause costs more than the pause itself at thousands of sends a second).
 */
function abortablePauses(signal: AbortSignal | undefined): {pause(ms: number): Promise<void>; dispose(): void} {
  let wake: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  const onAbort = () => {
    clearTimeout(timer)
    wake?.()
  }
  signal?.addEventListener('abort', onAbort, {once: true})
  return {
    /** Waits ms, or less when the run is aborted; leaves no timer behind. */
    pause: (ms) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve()
        wake = resolve
        timer = setTimeout(resolve, ms)
      }),
    dispose: () => signal?.removeEventListener('abort', onAbort),
  }
}

/** The live status, about once a second (or `force`d at the end): totals, and rate and p50 since the last one. */
function statusTicker(options: LoadOptions, state: RunState, startUs: number, warmupUs: number) {
  let lastTickUs = startUs
  return (now: number, force = false) => {
    if (!options.onStatus || (!force && now - lastTickUs < 1e6)) return
    const sorted = state.tickLatencies.sort((a, b) => a - b)
    const elapsedS = (now - startUs) / 1e6
    options.onStatus({
      elapsedS,
      phase: now - startUs < warmupUs ? 'warmup' : 'measure',
      sent: state.sent,
      completed: state.records.length,
      inFlight: state.pending.size,
      errors: state.errors,
      dropped: state.dropped,
      rps: state.tickSent / Math.max(1e-6, (now - lastTickUs) / 1e6),
      p50Us: sorted.length > 0 ? percentile(sorted, 50) : undefined,
    })
    lastTickUs = now
    state.tickSent = 0
    state.tickLatencies = []
  }
}

/**
 * Sends one arrival of the schedule (seq, due at scheduledUs) unless maxInFlight calls are out (then it is dropped,
 * counted), and records the call when it completes.
 */
function sender(invoke: Invoke, options: LoadOptions, state: RunState, clock: Clock, startUs: number) {
  const warmupUs = (options.warmupS ?? 0) * 1e6
  const maxInFlight = options.maxInFlight ?? 1000
  const requestBytes = Buffer.byteLength(options.payload)
  const {records, pending} = state
  return (seq: number, scheduledUs: number, arrival: Arrival) => {
    const phase = scheduledUs < warmupUs ? 'warmup' : 'measure'
    const fn = arrival.fn ?? roundRobin(options.functions, seq)
    const payload = arrival.payload ?? options.payload
    if (pending.size >= maxInFlight) {
      state.dropped++
      if (phase === 'measure') state.droppedMeasured++
      return
    }
    const sentAtUs = clock.nowUs()
    state.lastSendUs = sentAtUs - startUs
    state.sent++
    state.tickSent++
    const call = measureCall(
      invoke,
      {
        seq,
        phase,
        function: fn,
        ...(options.protocol ? {protocol: options.protocol} : {}),
        scheduledUs: Math.round(scheduledUs),
        latenessUs: Math.max(0, Math.round(sentAtUs - startUs - scheduledUs)),
        requestBytes: arrival.payload === undefined ? requestBytes : Buffer.byteLength(payload),
      },
      payload,
      clock,
      options.onAnswer,
    )
      .then((record) => {
        if (arrival.tag) tagRecord(record, arrival.tag)
        records.push(record)
        options.onRecord?.(record)
        if (record.error) state.errors++
        state.tickLatencies.push(record.clientLatencyUs)
      })
      .finally(() => pending.delete(call))
    pending.add(call)
  }
}

/**
 * Open-loop load: every arrival of the schedule is sent at its time whether or not earlier calls
 * have returned (up to maxInFlight), round-robin over the functions. Aborting stops new sends, waits
 * for the calls in flight and returns everything measured so far.
 */
export async function runLoad(invoke: Invoke, options: LoadOptions): Promise<LoadResult> {
  const clock = options.clock ?? systemClock
  const warmupS = options.warmupS ?? 0
  const state: RunState = {
    records: [],
    pending: new Set(),
    sent: 0,
    errors: 0,
    dropped: 0,
    droppedMeasured: 0,
    lastSendUs: 0,
    tickSent: 0,
    tickLatencies: [],
  }
  const {records, pending} = state
  const warmupUs = warmupS * 1e6
  const startUs = clock.nowUs()
  const {pause, dispose} = abortablePauses(options.signal)
  const tick = statusTicker(options, state, startUs, warmupUs)
  const fire = sender(invoke, options, state, clock, startUs)
  const totalUs = (warmupS + options.durationS) * 1e6
  let seq = 0
  const schedule = options.schedule ?? plainSchedule({...options, warmupS})
  for (const arrival of schedule) {
    const at = arrival.atUs
    if (options.signal?.aborted) break
    let now = clock.nowUs()
    while (now - startUs < at) {
      const waitMs = (at - (now - startUs)) / 1000
      // Timers tick in whole milliseconds. By default one timer per send, rounded up so it rarely
      // wakes early (sends are up to ~1 ms late; each wake-up costs CPU); arrivals already due when
      // it wakes go out together. `precise` sleeps for the bulk and polls the event loop for the last
      // stretch (sub-millisecond lateness, one core busy).
      if (options.precise)
        await (waitMs >= 1.5 ? pause(Math.floor(waitMs - 0.5)) : new Promise<void>((r) => setImmediate(r)))
      else await pause(Math.ceil(waitMs))
      if (options.signal?.aborted) break
      now = clock.nowUs()
      tick(now)
    }
    if (options.signal?.aborted) break
    fire(seq++, at, arrival)
    tick(now)
  }
  // Hold the window open to its end, so the achieved rate is per second of the window.
  while (!options.signal?.aborted && clock.nowUs() - startUs < totalUs) {
    const leftMs = (totalUs - (clock.nowUs() - startUs)) / 1000
    await pause(Math.max(1, Math.min(leftMs, 1000)))
    tick(clock.nowUs())
  }
  const interrupted = Boolean(options.signal?.aborted)
  // The window ends at its scheduled end, or later when sends fell behind (so the achieved rate shows it).
  const windowEndUs = Math.max(Math.min(clock.nowUs() - startUs, totalUs), state.lastSendUs)
  // Calls in flight finish (each bounded by the function's timeout); the status keeps ticking.
  while (pending.size > 0) {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...pending]), new Promise<void>((r) => (timer = setTimeout(r, 1000)))])
    clearTimeout(timer)
    tick(clock.nowUs())
  }
  tick(clock.nowUs(), true)
  dispose()
  records.sort((a, b) => a.seq - b.seq)
  const measuredS = Math.max(0, (windowEndUs - warmupUs) / 1e6)
  return {records, dropped: state.dropped, droppedMeasured: state.droppedMeasured, measuredS, interrupted}
}

/** An arrival's own fields onto its record (set one by one: see fromOutcome on copying by spread). */
function tagRecord(record: InvocationRecord, tag: ArrivalTag): void {
  if (tag.traceFunction !== undefined) record.traceFunction = tag.traceFunction
  if (tag.minute !== undefined) record.minute = tag.minute
  if (tag.requestedMs !== undefined) record.requestedMs = tag.requestedMs
  if (tag.requestedMemoryMb !== undefined) record.requestedMemoryMb = tag.requestedMemoryMb
  if (tag.loadPhase !== undefined) record.loadPhase = tag.loadPhase
}
