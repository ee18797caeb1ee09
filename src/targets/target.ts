import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {S3Client} from '@aws-sdk/client-s3'

import type {ApiSpec} from '../core/api-routes.js'
import type {Emit} from '../core/events.js'
import type {FunctionUrlSpec} from '../core/function-config.js'
import type {FunctionState, InvokeOutcome, InvokeRequest, LogFormat, Reconfiguration} from '../core/invoke.js'
import type {BenchmarkManifest, FunctionManifest} from '../core/manifest.js'
import type {DeclaredSqsSource} from '../core/event-sources.js'
import type {PolicyBundle} from '../core/policies.js'
import type {TableManifest, TableOutcome} from '../core/tables.js'
import type {DockerEngine, ImageInfo} from '../docker/engine.js'
import type {BuiltImage} from '../images/build.js'

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
  /** A Function URL (deploy --url); absent: an existing URL is left as it is. */
  url?: FunctionUrlSpec
  /** Publish a version after deploying (none new when nothing changed), and point `alias` at it. */
  publish?: PublishSpec
  /** The SQS queues that invoke it, as mappings; absent: its mappings are left as they are. */
  eventSources?: DeclaredSqsSource[]
}

/** `deploy --publish [--alias NAME] [--alias-weight V=W]`. */
export interface PublishSpec {
  alias?: string
  /** RoutingConfig.AdditionalVersionWeights: another (older) version and the share of the alias's calls it keeps. */
  weights?: Record<string, number>
  /** Provisioned concurrency on the alias, or without one on the version. */
  provisioned?: number
}

export interface DeployOutcome {
  name: string
  arn?: string
  action: 'created' | 'updated' | 'unchanged'
  /** What differed and was written (e.g. ["image", "env"], "version", "alias"); empty when unchanged. */
  changed: string[]
  /** With --publish: the version that now holds this code and configuration. */
  version?: string
  /** With --alias: the alias, its version and its routing weights. */
  alias?: {name: string; version: string; weights: Record<string, number>}
  /** With --provisioned: where it is set (the alias or the version), how many, and its status. */
  provisioned?: {qualifier: string; requested: number; status: string}
  /** The function's URL, when the deploy asked for one. */
  url?: string
}

/** A benchmark's HTTP API as deployed: its base URL (the stage included) and routes. */
export interface DeployedApi {
  name: string
  url: string
  stage: string
  routes: Array<{routeKey: string; function: string; payloadFormat: string}>
  /** On AWS: whether the HTTP API was created, updated (`changed` says what) or already as wanted. */
  action?: 'created' | 'updated' | 'unchanged'
  changed?: string[]
}

export interface DestroyOutcome {
  name: string
  kind: 'function' | 'url' | 'mapping' | 'api' | 'role' | 'repository' | 'bucket' | 'table' | 'queue'
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
  /**
   * Optional: serves a benchmark's HTTP routes (routes name deployed functions); creates or replaces the API named
   * `name` and answers where it is. A target without it cannot serve routes (deploy says so).
   */
  ensureApi?(name: string, api: ApiSpec, emit: Emit): Promise<DeployedApi>
  /** Optional: refuses, before anything is written, an API name ensureApi could not use (one faas did not make). */
  checkApi?(name: string): Promise<void>
  /** Optional: removes the API `name`; 'absent' when there is none. */
  destroyApi?(name: string, emit: Emit): Promise<DestroyOutcome>
  /**
   * Makes the DynamoDB tables where the functions run (the account's DynamoDB, or the local store's), idempotently,
   * and waits until they are ACTIVE; a table of the same name with other keys is refused.
   */
  ensureTables(tables: TableManifest[], emit: Emit): Promise<TableOutcome[]>
  /** Deletes tables and their data (destroy --tables); a missing one is 'absent'. */
  destroyTables(names: string[], emit: Emit): Promise<DestroyOutcome[]>
  /**
   * Gets ready the SQS where the queues faas makes for event sources live, before the functions deploy (the local
   * service is given the local store's emulator, as for tables); nothing to do on AWS.
   */
  ensureQueueStore?(emit: Emit): Promise<void>
  /** Deletes queues faas made and their messages (destroy --queues); a missing one is 'absent'. */
  destroyQueues(names: string[], emit: Emit): Promise<DestroyOutcome[]>
  /** Optional: delete the image repositories (destroy --repositories). */
  destroyRepositories?(names: string[], emit: Emit): Promise<DestroyOutcome[]>
}

/** Times one step as a phase of a run (the run record's phasesMs), announcing it as it starts. */
export type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>

/** Images just built, to be made runnable where the functions run. */
export interface PrepareRequest {
  manifest: BenchmarkManifest
  /** The engine the images were built in. */
  engine: DockerEngine
  /** Each set of images with the tag it was built under (an experiment builds one set per variant). */
  builds: Array<{tag: string; functions: FunctionManifest[]; images: BuiltImage[]}>
  /** A registry instead of the account's ECR (AWS). */
  registry?: string
  /** BASE_IMAGE of what the target builds for itself (the local S3 store): "local" for faas's offline base. */
  baseImage?: string
  /** What an experiment needs of the local service: a running one that lacks it is refused, not restarted. */
  service?: {experiment: string; needsS3: boolean; idleTimeoutS?: number}
  /** Times each step as a run phase (storage and service locally, push on AWS); untimed when absent. */
  timed?: Timed
}

/** What a function is deployed from: an ECR URI and digest on AWS, the image ID locally. */
export interface PreparedImage {
  function: string
  uri: string
  digest?: string
}

/** The S3 the target's functions use, and the bucket a run keeps its input and output in. */
export interface RunStorage {
  s3: S3Client
  bucket: string
  /** The DynamoDB the functions' tables are in (the account's, or the local store's). */
  tables: TableItems
}

/** Items of a target's DynamoDB tables, as plain JSON: what a checker seeds and reads back. */
export interface TableItems {
  put(table: string, items: object[]): Promise<number>
  scan(table: string): Promise<Record<string, unknown>[]>
}

/** A running keep-warm schedule (a pinger locally, an EventBridge Scheduler schedule on AWS). */
export interface KeepWarm {
  /** The schedule expression, when the provider has one. */
  expression?: string
  /** Removes the schedule; a pinger says how many pings it sent and how many failed. */
  stop(): Promise<{pings: number; errors: number} | undefined>
}

/**
 * A target with everything else that differs between AWS and the local service: how images become runnable,
 * the S3 functions use, keep-warm schedules, and what a failed run leaves. `createTarget` gives one; run,
 * bench and experiment use only this, never an AWS client or a local-service module.
 */
export interface RunTarget extends Target {
  /** The Lambda API of the target (AWS or the local service): versions and aliases are the same calls on both. */
  lambda(): Promise<LambdaClient>
  /** Makes built images runnable: AWS pushes them to ECR; locally the S3 store and the service are started. */
  prepare(request: PrepareRequest, emit: Emit): Promise<PreparedImage[][]>
  /** An image given by reference (not built by faas); locally one the engine lacks is refused, naming `owner`. */
  inspectImage(engine: DockerEngine, ref: string, owner: string): Promise<ImageInfo | undefined>
  /** The run storage: the account's S3 and faas-runs-<account>-<region>, or the local store and faas-runs. */
  storage(options: {bucket?: string}): Promise<RunStorage>
  /** Invokes `name` with `payload` every `everyS` seconds until stopped; returns once the schedule is in place. */
  keepWarm(request: {name: string; everyS: number; payload: unknown}, emit: Emit): Promise<KeepWarm>
  /** Cleans up after a run that failed and returns the error to report (locally: the cause, if the store died). */
  runFailed(functionNames: string[], error: unknown, emit: Emit): Promise<unknown>
}

/** The engine side of `faas serve`: containers that need the engine, the local S3 store, and Lambda's CPU share. */
export interface ServeHost {
  readonly engine: DockerEngine
  /** The env that lets servers on a network with this gateway reach the local S3 store (started if need be). */
  storageEnv(gateway: string, options: {baseImage: string; region: string}, emit: Emit): Promise<Record<string, string>>
  /** Stops what storageEnv started for this FAAS_HOME's servers. */
  releaseStorage(): Promise<void>
  /** The CPU Lambda gives a function of this memory size, in nano-CPUs. */
  nanoCpus(memoryMb: number): number
}
