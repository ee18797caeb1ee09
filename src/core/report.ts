/**
 * Figures Lambda gives at the end of each invocation, parsed tolerantly (any field may be absent):
 * the REPORT line of the Text log format, or the `platform.report` record of the JSON log format.
 */
export interface ReportFigures {
  requestId?: string
  durationMs?: number
  billedDurationMs?: number
  memorySizeMb?: number
  maxMemoryUsedMb?: number
  /** Present only on a cold start. */
  initDurationMs?: number
  /**
   * The local service ran the image under emulation (another architecture than the host's): not comparable with native
   * figures.
   */
  emulated?: boolean
}

const FIELDS: Array<[keyof ReportFigures, RegExp]> = [
  ['durationMs', /(?:^|\t)Duration: ([\d.]+) ms/],
  ['billedDurationMs', /Billed Duration: ([\d.]+) ms/],
  ['memorySizeMb', /Memory Size: ([\d.]+) MB/],
  ['maxMemoryUsedMb', /Max Memory Used: ([\d.]+) MB/],
  ['initDurationMs', /Init Duration: ([\d.]+) ms/],
]

/** The JSON log format's metric names (platform.report's record.metrics). */
const JSON_METRICS: Array<[keyof ReportFigures, string]> = [
  ['durationMs', 'durationMs'],
  ['billedDurationMs', 'billedDurationMs'],
  ['memorySizeMb', 'memorySizeMB'],
  ['maxMemoryUsedMb', 'maxMemoryUsedMB'],
  ['initDurationMs', 'initDurationMs'],
]

function parseTextReport(line: string): ReportFigures {
  const figures: ReportFigures = {}
  const id = /RequestId: (\S+)/.exec(line)
  if (id) figures.requestId = id[1]
  for (const [key, pattern] of FIELDS) {
    const match = pattern.exec(line)
    if (match) (figures[key] as number) = Number(match[1])
  }
  if (/(?:^|\t)Emulated: /.test(line)) figures.emulated = true
  return figures
}

/** A line of Lambda's JSON log format, as far as parseJsonReport reads it. */
interface JsonLogRecord {
  type?: unknown
  record?: {requestId?: unknown; metrics?: Record<string, unknown>; emulated?: unknown} | null
}

/** A `platform.report` record of the JSON log format, or undefined when the line is not one. */
function parseJsonReport(line: string): ReportFigures | undefined {
  if (!line.startsWith('{') || !line.includes('platform.report')) return undefined
  let parsed: JsonLogRecord | null
  try {
    parsed = JSON.parse(line) as JsonLogRecord | null
  } catch {
    return undefined
  }
  if (parsed?.type !== 'platform.report' || typeof parsed.record !== 'object' || parsed.record === null)
    return undefined
  const record = parsed.record
  const figures: ReportFigures = {}
  if (typeof record.requestId === 'string') figures.requestId = record.requestId
  for (const [key, name] of JSON_METRICS) {
    const value = record.metrics?.[name]
    if (typeof value === 'number') (figures[key] as number) = value
  }
  if (record.emulated === true) figures.emulated = true
  return figures
}

/**
 * Finds the last report (a REPORT line or a platform.report record) in a log and reads its figures; undefined when
 * there is none.
 */
export function parseReport(log: string): ReportFigures | undefined {
  for (const raw of log.split('\n').reverse()) {
    const line = raw.trim()
    if (line.startsWith('REPORT ')) return parseTextReport(line)
    const json = parseJsonReport(line)
    if (json) return json
  }
  return undefined
}

export type ReportInput = Required<Omit<ReportFigures, 'initDurationMs' | 'requestId' | 'emulated'>> & {
  initDurationMs?: number
  /** Architectures when emulated, e.g. {image: 'arm64', host: 'amd64'}. */
  emulated?: {image: string; host: string}
  /** success, or error/timeout with the error type (Lambda adds both to a failed invocation's report). */
  status?: 'success' | 'error' | 'timeout'
  errorType?: string
}

/** Formats figures as Lambda's Text log format does, for the local service's logs. */
export function formatReport(requestId: string, f: ReportInput): string {
  const init = f.initDurationMs === undefined ? '' : `\tInit Duration: ${f.initDurationMs.toFixed(2)} ms`
  let line =
    `REPORT RequestId: ${requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\tBilled ` +
    `Duration: ${Math.ceil(f.billedDurationMs)} ms\tMemory Size: ${f.memorySizeMb} MB\tMax Memory ` +
    `Used: ${Math.round(f.maxMemoryUsedMb)} MB${init}\t`
  if (f.status && f.status !== 'success')
    line += `Status: ${f.status}${f.errorType ? `\tError Type: ${f.errorType}` : ''}\t`
  // Not Lambda's: figures from an emulated environment say so, so nobody compares them with native ones.
  if (f.emulated) line += `Emulated: ${f.emulated.image} on ${f.emulated.host}\t`
  return line
}

const round2 = (n: number): number => Math.round(n * 100) / 100

/** The same figures as Lambda's JSON log format writes them: a `platform.report` record. */
export function formatReportJson(requestId: string, f: ReportInput, time = new Date()): string {
  const metrics: Record<string, number> = {
    durationMs: round2(f.durationMs),
    billedDurationMs: Math.ceil(f.billedDurationMs),
    memorySizeMB: f.memorySizeMb,
    maxMemoryUsedMB: Math.round(f.maxMemoryUsedMb),
  }
  if (f.initDurationMs !== undefined) metrics.initDurationMs = round2(f.initDurationMs)
  const record: Record<string, unknown> = {requestId, metrics, status: f.status ?? 'success'}
  if (f.errorType && f.status !== 'success') record.errorType = f.errorType
  if (f.emulated) record.emulated = true
  return JSON.stringify({time: time.toISOString(), type: 'platform.report', record})
}

/** Lambda's JSON log format's `platform.start` record. */
export const formatStartJson = (requestId: string, time = new Date(), version = '$LATEST'): string =>
  JSON.stringify({time: time.toISOString(), type: 'platform.start', record: {requestId, version}})
