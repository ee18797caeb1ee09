import type {Emit} from '../core/events.js'
import type {ReportFigures} from '../core/report.js'

/** Everything a target needs to create or update one function. */
export interface FunctionSpec {
  /** Deployed function name. */
  name: string
  image: {
    /** What the target runs: an ECR URI on AWS, a local engine reference on the local target. */
    uri: string
    /** sha256 manifest digest when known (AWS deploys by digest so a moved tag cannot surprise). */
    digest?: string
    architecture: 'arm64' | 'x86_64'
  }
  /** The image's CMD override (ImageConfig.Command), so one image can serve several handlers. */
  handler?: string
  memoryMb: number
  timeoutS: number
  env: Record<string, string>
  /** Policy bundle names (core/policies). */
  policies: string[]
  /** Role name; `<function>-role` when absent. */
  role?: string
  reservedConcurrency?: number
}

export interface DeployOutcome {
  name: string
  arn?: string
  action: 'created' | 'updated' | 'unchanged'
  /** What differed and was written (e.g. ["image", "env"]); empty when unchanged. */
  changed: string[]
}

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun'

export interface InvokeRequest {
  name: string
  /** JSON text. */
  payload: string
  invocationType?: InvocationType
  /** Ask for the last 4 KB of the log (LogType Tail). */
  logTail?: boolean
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

export interface DestroyOutcome {
  name: string
  kind: 'function' | 'role' | 'repository' | 'bucket'
  action: 'deleted' | 'absent'
}

/** Where functions run: AWS Lambda or the local Lambda service. Commands only see this. */
export interface Target {
  readonly kind: 'aws' | 'local'
  deploy(spec: FunctionSpec, emit: Emit): Promise<DeployOutcome>
  invoke(request: InvokeRequest): Promise<InvokeOutcome>
  destroy(functionNames: string[], options: {roles?: boolean}, emit: Emit): Promise<DestroyOutcome[]>
  /** Optional checks of all specs before anything is written (e.g. the image is in ECR); may fill in digests. */
  preflight?(specs: FunctionSpec[]): Promise<FunctionSpec[]>
  /** Optional: delete the image repositories (destroy --repositories). */
  destroyRepositories?(names: string[], emit: Emit): Promise<DestroyOutcome[]>
}
