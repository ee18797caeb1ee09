import type {ReportFigures} from './report.js'

/**
 * The Lambda Invoke vocabulary every target and load generator speaks (AWS, the local service, a
 * plain HTTP endpoint), and what faas reads of a deployed function.
 */
export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun'

export interface InvokeRequest {
  name: string
  /** JSON text. */
  payload: string
  invocationType?: InvocationType
  /** Ask for the last 4 KB of the log (LogType Tail). */
  logTail?: boolean
  /** Call InvokeWithResponseStream instead: each chunk of the answer as it arrives (the outcome has them all). */
  onChunk?: (bytes: Buffer) => void
}

export interface InvokeOutcome {
  name: string
  statusCode: number
  requestId?: string
  payload: string
  /** "Unhandled" / "Handled" when the function failed (X-Amz-Function-Error). */
  functionError?: string
  /** Decoded log tail when asked for. */
  log?: string
  report?: ReportFigures
  /** Wall-clock start (µs since the epoch) and client-side latency (µs). */
  startedAtUs: number
  clientLatencyUs: number
}

/** One call of a function: Target.invoke, or anything with its shape (a load generator's HTTP client). */
export type Invoke = (request: InvokeRequest) => Promise<InvokeOutcome>

/** A deployed function's settings that faas manages, as GetFunction reports them. */
export interface FunctionState {
  arn: string
  role: string
  imageUri?: string
  architectures: string[]
  memoryMb: number
  timeoutS: number
  env: Record<string, string>
  command?: string[]
  reservedConcurrency?: number
  /** EphemeralStorage.Size (/tmp), MB. */
  ephemeralStorageMb: number
  /** LoggingConfig.LogFormat. */
  logFormat: LogFormat
  state?: string
  tags: Record<string, string>
}

/** Lambda's log formats: Text (START/END/REPORT lines) or JSON (platform.* records). */
export type LogFormat = 'Text' | 'JSON'

/** A change of a deployed function's configuration (env replaces the whole environment). */
export interface Reconfiguration {
  memoryMb?: number
  env?: Record<string, string>
}
