/** Figures Lambda prints in its REPORT line, parsed tolerantly (any field may be absent). */
export interface ReportFigures {
  requestId?: string
  durationMs?: number
  billedDurationMs?: number
  memorySizeMb?: number
  maxMemoryUsedMb?: number
  /** Present only on a cold start. */
  initDurationMs?: number
}

const FIELDS: Array<[keyof ReportFigures, RegExp]> = [
  ['durationMs', /(?:^|\t)Duration: ([\d.]+) ms/],
  ['billedDurationMs', /Billed Duration: ([\d.]+) ms/],
  ['memorySizeMb', /Memory Size: ([\d.]+) MB/],
  ['maxMemoryUsedMb', /Max Memory Used: ([\d.]+) MB/],
  ['initDurationMs', /Init Duration: ([\d.]+) ms/],
]

/** Finds the last REPORT line in a log and reads its figures; undefined when there is none. */
export function parseReport(log: string): ReportFigures | undefined {
  const line = log.split('\n').reverse().find((l) => l.startsWith('REPORT '))
  if (!line) return undefined
  const figures: ReportFigures = {}
  const id = /RequestId: (\S+)/.exec(line)
  if (id) figures.requestId = id[1]
  for (const [key, pattern] of FIELDS) {
    const match = pattern.exec(line)
    if (match) (figures[key] as number) = Number(match[1])
  }
  return figures
}

/** Formats figures as Lambda does, for the local service's logs. */
export function formatReport(requestId: string, f: Required<Omit<ReportFigures, 'initDurationMs' | 'requestId'>> & {initDurationMs?: number}): string {
  const init = f.initDurationMs === undefined ? '' : `\tInit Duration: ${f.initDurationMs.toFixed(2)} ms`
  return `REPORT RequestId: ${requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(f.billedDurationMs)} ms\tMemory Size: ${f.memorySizeMb} MB\tMax Memory Used: ${Math.round(f.maxMemoryUsedMb)} MB${init}\t`
}
