import type {Emit} from '../core/events.js'
import type {FunctionState, InvokeOutcome, InvokeRequest, LogFormat, Reconfiguration} from '../core/invoke.js'
import type {PolicyBundle} from '../core/policies.js'

export type {FunctionState, InvocationType, InvokeOutcome, InvokeRequest, Reconfiguration} from '../core/invoke.js'

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
  /** The role's policy bundles, resolved once when the deploy is planned (names checked, user file read). */
  policies: PolicyBundle[]
  /** Role name; `<function>-role` when absent. */
  role?: string
  reservedConcurrency?: number
  /** /tmp size (EphemeralStorage), MB; 512 when absent. */
  ephemeralStorageMb?: number
  /** LoggingConfig.LogFormat; Text when absent. */
  logFormat?: LogFormat
}

export interface DeployOutcome {
  name: string
  arn?: string
  action: 'created' | 'updated' | 'unchanged'
  /** What differed and was written (e.g. ["image", "env"]); empty when unchanged. */
  changed: string[]
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
  /**
   * One call, one attempt: invoking is not idempotent, so nothing that may have reached the function
   * is retried (throttles and failures come back as they happened). Only a connection refused before
   * anything was sent is tried again.
   */
  invoke(request: InvokeRequest): Promise<InvokeOutcome>
  /** The deployed function's settings; undefined when there is no such function. */
  describe(name: string): Promise<FunctionState | undefined>
  /** Changes memory and/or the whole environment, and returns once the function serves with them. */
  reconfigure(name: string, change: Reconfiguration): Promise<void>
  destroy(functionNames: string[], options: {roles?: boolean}, emit: Emit): Promise<DestroyOutcome[]>
  /** Optional checks of all specs before anything is written (e.g. the image is in ECR); may fill in digests. */
  preflight?(specs: FunctionSpec[]): Promise<FunctionSpec[]>
  /** Optional: delete the image repositories (destroy --repositories). */
  destroyRepositories?(names: string[], emit: Emit): Promise<DestroyOutcome[]>
}
