import {parseInitBreakdown} from './init-breakdown.js'
import type {InvokeOutcome} from './invoke.js'

/**
 * One invocation as measured: the one record type of run records, bench records and reports (the
 * vocabulary of DESIGN.md, comparable with SeBS and the vHive invoker). Times are µs: absolute ones
 * since the epoch, offsets since the start of the run.
 */
export interface InvocationRecord {
  /** Position in the run (a bench: order of the arrival in the schedule, 0-based, warm-up included). */
  seq: number
  /** Warm-up records are kept but left out of summaries. */
  phase: 'warmup' | 'measure'
  /** Function name (lambda) or host:port (http, grpc). */
  function: string
  /** How it was called: the Lambda Invoke API, HTTP POST or gRPC SayHello (bench --protocol). */
  protocol?: 'lambda' | 'http' | 'grpc'
  requestId?: string
  /** Open-loop runs only: when the schedule wanted it sent, µs since the start of the run. */
  scheduledUs?: number
  /** Open-loop runs only: how late the send was against the schedule (µs, ≥ 0). */
  latenessUs?: number
  startUs: number
  endUs: number
  /** As the caller saw it: from sending the request to the end of the answer. */
  clientLatencyUs: number
  statusCode?: number
  providerDurationUs?: number
  billedDurationUs?: number
  initDurationUs?: number
  /** A cold start: the provider reported an init duration. */
  cold: boolean
  memoryMb?: number
  maxMemoryUsedMb?: number
  /**
   * The local service ran it under emulation (image and host architectures differ): not comparable with native figures.
   */
  emulated?: boolean
  /** Function error (Unhandled/Handled), an HTTP status ≥ 400, or the client-side failure message. */
  error?: string
  requestBytes?: number
  responseBytes?: number
  /** Trace replay: the trace function (its hash), the trace minute (from 1) and what the call asked for. */
  traceFunction?: string
  minute?: number
  requestedMs?: number
  requestedMemoryMb?: number
  /** What the trace function reports it did: ms spun and MB touched (from its answer). */
  actualMs?: number
  actualMemoryMb?: number
  /** Shaped load (--phases, --ramp): the phase the call was scheduled in. */
  loadPhase?: string
  /** bench --workers: which load-generator worker (0-based) made the call. */
  worker?: number
  /** Local cold starts: where the time went before the first invocation (JSONL only; see core/init-breakdown). */
  initBreakdown?: {imageUs: number; createUs: number; startUs: number; initUs: number}
}

export const microseconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : Math.round(ms * 1000)

/** What the caller knows of a call before its answer: its place in the run and in the schedule. */
export type RecordBase = Pick<InvocationRecord, 'seq' | 'phase' | 'function'> &
  Partial<Pick<InvocationRecord, 'protocol' | 'scheduledUs' | 'latenessUs' | 'requestBytes'>>

/** A record from what a target answered (its REPORT line supplies the provider's figures). */
export function fromOutcome(base: RecordBase, outcome: InvokeOutcome): InvocationRecord {
  const report = outcome.report
  const error = outcome.functionError ?? (outcome.statusCode >= 400 ? `HTTP ${outcome.statusCode}` : undefined)
  // Spelled out rather than `{...base, …}`: copying an object by spread made V8's young-generation
  // collections about three times longer (3.1–3.3 ms mean at 2000 calls a second, `npm run perf --
  // load-floor`), and those pauses were the load generator's late sends. Absent base fields stay
  // undefined, which JSON and CSV leave out.
  return {
    seq: base.seq,
    phase: base.phase,
    function: base.function,
    protocol: base.protocol,
    scheduledUs: base.scheduledUs,
    latenessUs: base.latenessUs,
    requestBytes: base.requestBytes,
    requestId: outcome.requestId ?? report?.requestId,
    startUs: Math.round(outcome.startedAtUs),
    endUs: Math.round(outcome.startedAtUs + outcome.clientLatencyUs),
    clientLatencyUs: Math.round(outcome.clientLatencyUs),
    statusCode: outcome.statusCode,
    providerDurationUs: microseconds(report?.durationMs),
    billedDurationUs: microseconds(report?.billedDurationMs),
    initDurationUs: microseconds(report?.initDurationMs),
    cold: report?.initDurationMs !== undefined,
    memoryMb: report?.memorySizeMb,
    maxMemoryUsedMb: report?.maxMemoryUsedMb,
    emulated: report?.emulated ? true : undefined,
    error,
    responseBytes: Buffer.byteLength(outcome.payload ?? ''),
    initBreakdown: initBreakdownOf(outcome.log),
  }
}

/** A record of a call that threw before any answer: client-side timings and the failure (built as fromOutcome's is). */
export function failedCall(
  base: RecordBase,
  call: {startedAtUs: number; clientLatencyUs: number; error: string},
): InvocationRecord {
  return {
    seq: base.seq,
    phase: base.phase,
    function: base.function,
    protocol: base.protocol,
    scheduledUs: base.scheduledUs,
    latenessUs: base.latenessUs,
    requestBytes: base.requestBytes,
    startUs: Math.round(call.startedAtUs),
    endUs: Math.round(call.startedAtUs + call.clientLatencyUs),
    clientLatencyUs: Math.round(call.clientLatencyUs),
    cold: false,
    error: call.error,
  }
}

function initBreakdownOf(log: string | undefined): InvocationRecord['initBreakdown'] {
  const b = parseInitBreakdown(log)
  return b
    ? {
        imageUs: microseconds(b.imageMs)!,
        createUs: microseconds(b.createMs)!,
        startUs: microseconds(b.startMs)!,
        initUs: microseconds(b.initMs)!,
      }
    : undefined
}
