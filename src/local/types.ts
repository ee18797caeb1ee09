import type {ServiceSecrets} from './credentials.js'
import type {SandboxReserve} from './prepared.js'

/** One function as the local service knows it (the subset of Lambda's configuration faas uses). */
export interface LocalFunction {
  name: string
  arn: string
  imageUri: string
  /** ImageConfig.Command: overrides the image's CMD (the handler). */
  command?: string[]
  entryPoint?: string[]
  memoryMb: number
  timeoutS: number
  env: Record<string, string>
  architectures: string[]
  role?: string
  description?: string
  reservedConcurrency?: number
  /** EphemeralStorage.Size: /tmp's size in MB (512–10240). */
  ephemeralStorageMb: number
  /** LoggingConfig.LogFormat: Text (START/END/REPORT lines) or JSON (platform.* records). */
  logFormat: 'Text' | 'JSON'
  /** The image's own architecture (amd64, arm64), read from the engine: what actually runs. */
  imageArchitecture?: string
  /** Bumped on every code or configuration update: environments of an older revision are retired. */
  revision: number
  lastModified: string
  /** The image digest's hex (Lambda's CodeSha256 of an image function). */
  codeSha256: string
  /** The image's content digest (sha256:…) when UpdateFunctionCode/CreateFunction resolved it: what a version runs. */
  imageDigest?: string
  /** Lambda's RevisionId: a fresh id on every change, checked when a caller gives one (PreconditionFailed). */
  revisionId?: string
  /** '$LATEST' (or absent) for the function itself; a published version's number on its frozen copy. */
  version?: string
  /** Only on $LATEST: published versions, oldest first. Each is a frozen copy whose `arn` is qualified. */
  versions?: LocalFunction[]
  /** Only on $LATEST: the number the next published version gets (numbers are never reused). */
  nextVersion?: number
  /** Only on $LATEST: aliases by name. */
  aliases?: Record<string, LocalAlias>
  /** Only on $LATEST: provisioned concurrency configurations by qualifier (a version or an alias). */
  provisioned?: Record<string, {requested: number; lastModified: string}>
  /**
   * Not saved: set on the view an environment initialised ahead runs (AWS_LAMBDA_INITIALIZATION_TYPE); its first
   * call is then not cold.
   */
  initializationType?: 'on-demand' | 'provisioned-concurrency'
  /** PutFunctionEventInvokeConfig: retries, event age and destinations of its Event invocations (async-invoke.ts). */
  eventInvokeConfig?: EventInvokeConfig
  /** Function URLs, one per qualifier (`$LATEST` or an alias): see url-config.ts. */
  urls?: FunctionUrlConfig[]
  /** The resource-based policy's statements per qualifier (`$LATEST` for the unqualified function). */
  policies?: Record<string, PolicyStatement[]>
}

/** An alias: a name for a version, optionally splitting calls with one more version (RoutingConfig). */
export interface LocalAlias {
  name: string
  functionVersion: string
  description: string
  /** AdditionalVersionWeights: at most one other published version and the share of calls it gets (0–1). */
  weights: Record<string, number>
  revisionId: string
}

/** How Lambda handles a function's asynchronous invocations (its FunctionEventInvokeConfig). */
export interface EventInvokeConfig {
  /** Retries after a function error (0–2; Lambda's default 2). */
  maximumRetryAttempts?: number
  /** Oldest an event may get before it is dropped to the failure destination (60–21,600 s; default 6 h). */
  maximumEventAgeInSeconds?: number
  /** Destination ARNs: an SQS queue or EventBridge bus of the stack's emulator, or a local function. */
  onSuccess?: string
  onFailure?: string
  /** Epoch seconds. */
  lastModified: number
}

/** A Function URL as the service keeps it (the API's FunctionUrlConfig plus where it listens). */
export interface FunctionUrlConfig {
  /** 32 lowercase letters and digits, as on AWS: the requestContext's apiId and domainPrefix. */
  urlId: string
  /** `$LATEST` or an alias name. */
  qualifier: string
  authType: 'NONE' | 'AWS_IAM'
  cors?: CorsConfig
  invokeMode: 'BUFFERED' | 'RESPONSE_STREAM'
  creationTime: string
  lastModifiedTime: string
  /** The loopback port this URL listens on: kept so a restarted service answers on the same URL. */
  port?: number
}

/** Lambda's Cors shape, as the API takes it. */
export interface CorsConfig {
  AllowCredentials?: boolean
  AllowHeaders?: string[]
  AllowMethods?: string[]
  AllowOrigins?: string[]
  ExposeHeaders?: string[]
  MaxAge?: number
}

/** One statement of a function's resource-based policy, as GetPolicy shows it. */
export interface PolicyStatement {
  Sid: string
  Effect: 'Allow'
  Principal: string | Record<string, string>
  Action: string
  Resource: string
  Condition?: Record<string, Record<string, string>>
}

/** How the service runs environments; fixed for the service's lifetime. */
export interface ServiceOptions {
  /** Port of the Invoke/control API on 127.0.0.1 (0 = any). */
  port: number
  region: string
  accountId: string
  /** Label value that marks this service's containers (dev.faas.local=<id>). */
  instanceId: string
  /** Most environments per function when no reserved concurrency is set (sync calls queue beyond it). */
  maxEnvironmentsPerFunction: number
  /** Idle environments are stopped after this long. */
  idleTimeoutMs: number
  /**
   * Sandboxes prepared ahead of calls per function revision (0: none, every cold call makes its own), and in all;
   * see prepared.ts.
   */
  preparedPerFunction: number
  preparedTotal: number
  /** The prepared sandboxes' bound and background queue, shared by every pool (set by the service). */
  reserve?: SandboxReserve
  /**
   * Init limit (container start to first `next`; Lambda: 10 s). Past it the init is suppressed, as on
   * Lambda: it goes on as part of the first invocation, bounded by the function's timeout.
   */
  initTimeoutMs: number
  /**
   * The account's concurrency limit (Lambda's default 1,000): calls in flight in all functions without reserved
   * concurrency share it less what functions reserve; past it a call is throttled (429).
   */
  accountConcurrency: number
  /** Most synchronous calls waiting for an environment per function; past it a call is throttled (429). */
  maxQueuedPerFunction: number
  /** Longest wait of a synchronous call for an environment before it is throttled (429). */
  queueTimeoutMs: number
  /** How long an Event invocation may wait for concurrency before it is discarded (Lambda's maximum event age: 6 h). */
  maxEventAgeMs: number
  /** Delays before the retries of a failed Event invocation (Lambda's: about 1 and 2 minutes). */
  asyncRetryDelaysMs: number[]
  /**
   * The stack's AWS emulator (SQS, EventBridge) that async destinations go to (--aws-endpoint; default the S3
   * endpoint, as one emulator serves both).
   */
  awsEndpoint?: string
  /** Floor of the CPU share, in vCPUs (Lambda gives 1 vCPU per 1,769 MB; a 128 MB function would get 0.07). */
  cpuFloor: number
  hostCpus: number
  /** The engine's architecture (amd64, arm64); images of another run under qemu emulation. */
  hostArchitecture: string
  /** Emulated environments get this many times their memory's CPU share (capped at hostCpus). */
  emulationCpuFactor: number
  /** Where the service keeps its functions so a restarted service knows them (none: memory only). */
  functionsFile?: string
  s3Endpoint?: string
  /**
   * The user's credentials (--pass-credentials): exchanged for an STS session that functions get from the credentials
   * endpoint, never as variables.
   */
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
  /** The key pair SDKs sign with and the identity key (see credentials.ts); random when not given. */
  secrets: ServiceSecrets
  /** The functions' network and the service's address on it (set by the service when it starts). */
  network?: {name: string; gateway: string}
  /** How environments reach the service and get credentials (set by the service). */
  grants?: EnvironmentGrants
  /**
   * The S3 endpoint as functions reach it: a forwarder on the gateway when the store is on loopback (set by the
   * service).
   */
  functionS3Endpoint?: string
  /** Host files mounted read-only into every environment (`host:container`). */
  binds?: string[]
  /** Disk-backed /tmp volumes (set by the service; without it, or where disks are impossible, /tmp is a tmpfs). */
  tmpDisks?: TmpDiskProvider
}

/** An environment's disk-backed /tmp: an ext4 volume of the ephemeral storage's size (see tmp-disk.ts). */
export interface TmpDisk {
  /** The volume to mount at /tmp. */
  volume: string
  /** Call once the container has started (the engine's mount now holds the device). */
  started(): void
  /** Removes the volume once the container using it is gone (waits for that, bounded). */
  remove(containerId?: string): Promise<void>
}

export interface TmpDiskProvider {
  /** Why /tmp stays a tmpfs here, once that is known. */
  reason?: string
  /** A disk of `sizeMb` usable MB, or undefined where disks are impossible (the tmpfs then). */
  take(sizeMb: number, image: string): Promise<TmpDisk | undefined>
  /** Gets a disk of `sizeMb` ready before the first call asks. */
  warm(sizeMb: number): Promise<void>
  /** Disks being made in the background. */
  readonly making: number
  close(): Promise<void>
}

/** What the service gives each environment: its URL on the functions' network and a credentials grant. */
export interface EnvironmentGrants {
  /** The Invoke API and credentials endpoint as environments reach them (http://<gateway>:<port>). */
  serviceUrl: string
  /**
   * A per-environment token for the container-credentials endpoint, valid only from the
   * environment's own address (`peer`) and only until close().
   */
  open(fn: LocalFunction, peer: () => Promise<string | undefined>): {token: string; close(): void}
}

export interface LambdaErrorBody {
  errorMessage: string
  errorType: string
  stackTrace?: string[]
}

/** What the control plane needs of the service's URL fronts (url-front.ts). */
export interface UrlFronts {
  /** Starts answering on the config's URL (its saved port when that is free); resolves with the port. */
  open(fn: LocalFunction, config: FunctionUrlConfig): Promise<number>
  close(urlId: string): Promise<void>
}

/**
 * Whether a function has an alias of this name. Aliases come from the alias API, not in this service yet: until
 * it lands the service passes one that knows none, so only `$LATEST` has URLs and policies. The URL and policy
 * code asks only this.
 */
export type AliasLookup = (fn: LocalFunction, alias: string) => boolean
