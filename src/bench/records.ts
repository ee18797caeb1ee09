import type {InvocationRecord} from '../core/records.js'

export {fromOutcome, type InvocationRecord} from '../core/records.js'

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
  'emulated',
]

function csvField(value: unknown): string {
  if (value === undefined || value === null) return ''
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** records.csv: faas's columns, then a shaped or trace run's own (phases, trace fields) after them. */
export function toCsv(records: InvocationRecord[], extra: Array<keyof InvocationRecord> = []): string {
  const columns = [...CSV_COLUMNS, ...extra]
  return [columns.join(','), ...records.map((r) => columns.map((c) => csvField(r[c])).join(','))].join('\n') + '\n'
}

export const toJsonl = (records: InvocationRecord[]): string =>
  records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '')

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
