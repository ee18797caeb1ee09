import type {InvokeOutcome} from '../targets/target.js'
import type {Protocol} from './protocols/endpoints.js'

/**
 * One invocation as measured (the vocabulary of DESIGN.md, comparable with SeBS and the vHive
 * invoker). Times are µs: absolute ones since the epoch, offsets since the start of the run.
 */
export interface InvocationRecord {
  /** Order of the arrival in the schedule (0-based, warm-up included). */
  seq: number
  phase: 'warmup' | 'measure'
  /** Function name (lambda) or host:port (http, grpc). */
  function: string
  /** How it was called: the Lambda Invoke API, HTTP POST or gRPC SayHello. */
  protocol?: Protocol
  requestId?: string
  /** When the schedule wanted it sent, µs since the start of the run. */
  scheduledUs: number
  /** How late the send was against the schedule (µs, ≥ 0). */
  latenessUs: number
  startUs: number
  endUs: number
  clientLatencyUs: number
  /** HTTP status (lambda, http) or gRPC status code (grpc; 0 = OK). */
  statusCode?: number
  providerDurationUs?: number
  billedDurationUs?: number
  initDurationUs?: number
  /** A cold start: the provider reported an init duration. */
  cold: boolean
  memoryMb?: number
  maxMemoryUsedMb?: number
  /** Function error (Unhandled/Handled) or the client-side failure message. */
  error?: string
  requestBytes: number
  responseBytes?: number
}

const us = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms * 1000))

/** A record from a target's outcome. */
export function fromOutcome(base: Pick<InvocationRecord, 'seq' | 'phase' | 'function' | 'protocol' | 'scheduledUs' | 'latenessUs' | 'requestBytes'>, outcome: InvokeOutcome): InvocationRecord {
  const report = outcome.report
  const error = outcome.functionError ?? (outcome.statusCode >= 400 ? `HTTP ${outcome.statusCode}` : undefined)
  return {
    ...base,
    requestId: outcome.requestId ?? report?.requestId,
    startUs: Math.round(outcome.startedAtUs),
    endUs: Math.round(outcome.startedAtUs + outcome.clientLatencyUs),
    clientLatencyUs: Math.round(outcome.clientLatencyUs),
    statusCode: outcome.statusCode,
    providerDurationUs: us(report?.durationMs),
    billedDurationUs: us(report?.billedDurationMs),
    initDurationUs: us(report?.initDurationMs),
    cold: report?.initDurationMs !== undefined,
    memoryMb: report?.memorySizeMb,
    maxMemoryUsedMb: report?.maxMemoryUsedMb,
    ...(error ? {error} : {}),
    responseBytes: Buffer.byteLength(outcome.payload ?? ''),
  }
}

/** The CSV columns, in order (also the JSONL keys). */
export const CSV_COLUMNS: Array<keyof InvocationRecord> = [
  'seq',
  'phase',
  'function',
  'requestId',
  'scheduledUs',
  'latenessUs',
  'startUs',
  'endUs',
  'clientLatencyUs',
  'statusCode',
  'providerDurationUs',
  'billedDurationUs',
  'initDurationUs',
  'cold',
  'memoryMb',
  'maxMemoryUsedMb',
  'error',
  'requestBytes',
  'responseBytes',
  'protocol',
]

function csvField(value: unknown): string {
  if (value === undefined || value === null) return ''
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const toCsv = (records: InvocationRecord[]): string =>
  [CSV_COLUMNS.join(','), ...records.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n'

export const toJsonl = (records: InvocationRecord[]): string => records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '')

/**
 * The vHive invoker's latency file: one client latency (µs) per line, successful measured calls only
 * (the invoker skips failed calls). Its name is `rps<achieved, 2 decimals>_<latf>`.
 */
export const toVhiveLatencies = (records: InvocationRecord[]): string =>
  records
    .filter((r) => r.phase === 'measure' && !r.error)
    .map((r) => `${r.clientLatencyUs}\n`)
    .join('')

export const vhiveFileName = (achievedRps: number, latf = 'lat.csv'): string => `rps${achievedRps.toFixed(2)}_${latf}`
