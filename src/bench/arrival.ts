import type {InvokeOutcome} from '../core/invoke.js'
import type {InvocationRecord} from '../core/records.js'

/**
 * One scheduled call of a shaped or trace-driven load: when it is due (µs from the start of the run),
 * and optionally where it goes, what it sends and what its record carries beyond the runner's own fields.
 */
export interface Arrival {
  atUs: number
  /** The endpoint; round-robin over the run's functions when absent. */
  fn?: string
  /** The event; the run's payload when absent. */
  payload?: string
  tag?: ArrivalTag
}

/** Fields copied onto the call's record (see InvocationRecord). */
export interface ArrivalTag {
  traceFunction?: string
  minute?: number
  requestedMs?: number
  requestedMemoryMb?: number
  loadPhase?: string
}

/** Arrival offsets as arrivals with nothing else to say. */
export function* plainArrivals(offsets: Iterable<number>): Generator<Arrival> {
  for (const atUs of offsets) yield {atUs}
}

/**
 * A load other than rps × time (phases, a trace): its arrivals, how long its windows last, and what the
 * run adds to its records, summary, report and files.
 */
export interface LoadShape {
  /** Said in the start message, e.g. "trace azure-2019/ (12 functions, 5 minutes)". */
  label: string
  schedule: () => Iterable<Arrival>
  durationS: number
  warmupS: number
  /** Calls per second of the measured window, on average. */
  requestedRps: number
  onAnswer?: (record: InvocationRecord, outcome: InvokeOutcome) => void
  /** records.csv columns beyond faas's own. */
  csvColumns?: Array<keyof InvocationRecord>
  /** Run once the records are in: extra summary fields, report tables and files. */
  finish?: (records: InvocationRecord[]) => {
    summary?: Record<string, unknown>
    tables?: ReportTable[]
    files?: Array<[string, string]>
  }
}

/** A table of the HTML report. */
export interface ReportTable {
  id: string
  caption: string
  columns: string[]
  rows: Array<Array<string | number>>
}
