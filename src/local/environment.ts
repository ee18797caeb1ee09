import {randomUUID} from 'node:crypto'
import {mkdtempSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import type {Server, ServerResponse} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {
  killContainer,
  peakMemoryBytes,
  removeContainer,
  runContainer,
  type RunningContainer,
} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {addressOn, onFunctionNetwork} from '../docker/networks.js'
import {formatInitBreakdown} from '../core/init-breakdown.js'
import {formatReport, formatReportJson, formatStartJson, type ReportInput} from '../core/report.js'
import {MAX_RESPONSE_BYTES, startRuntimeApi, type NextEvent} from './runtime-api.js'
import type {LambdaErrorBody, LocalFunction, ServiceOptions} from './types.js'

export const LABEL = 'dev.faas.local'

const PID_NAMESPACE = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return 'unknown'
  }
})()

/** What one invocation produced, in Lambda's terms. */
export interface InvocationResult {
  requestId: string
  /** Response payload, or Lambda's error JSON when functionError is set. */
  payload: Buffer
  functionError?: 'Unhandled'
  /** The invocation's framed log: START, the function's lines, END, REPORT. */
  logLines: string[]
  durationMs: number
  initDurationMs?: number
  maxMemoryUsedMb: number
  cold: boolean
  /** The image ran under emulation (its architecture is not the host's). */
  emulated: boolean
}

interface Current {
  requestId: string
  payload: Buffer
  clientContext?: string
  /** Lambda-Runtime-Deadline-Ms: the function's timeout counted from when the invocation began. */
  deadlineMs: number
  dispatchedAt?: number
  lines: string[]
  timer?: NodeJS.Timeout
  finish: (outcome: {payload: Buffer; error?: boolean; status?: string; errorType?: string; oom?: boolean}) => void
}

export type EnvState = 'starting' | 'idle' | 'busy' | 'dead'

const errorJson = (body: LambdaErrorBody): Buffer => Buffer.from(JSON.stringify(body))

/**
 * Docker's CPU share for a memory size: 1,769 MB = 1 vCPU, floored, times `factor` (emulation), capped at the host's
 * cores.
 */
export function cpuShare(memoryMb: number, floor: number, hostCpus: number, factor = 1): number {
  return Math.min(hostCpus, Math.max(floor, memoryMb / 1769) * factor)
}

/** An image of another architecture than the host's runs under qemu emulation. */
export function emulation(fn: LocalFunction, options: ServiceOptions): {image: string; host: string} | undefined {
  const image = fn.imageArchitecture
  return image && image !== options.hostArchitecture ? {image, host: options.hostArchitecture} : undefined
}

/** Errors meaning the Docker engine itself cannot be reached (stopped, restarting, socket gone). */
export function engineUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code
  return (
    ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(code ?? '') ||
    /socket hang up/.test(String((error as Error)?.message))
  )
}

/**
 * The variables Lambda sets, after the function's own (reserved names win, as on Lambda). No AWS
 * keys: the SDK in the function gets session credentials from the container-credentials
 * endpoint with the environment's token, as a Lambda function gets its role's.
 */
export function lambdaEnv(
  fn: LocalFunction,
  options: ServiceOptions,
  runtimePort: number,
  logStream: string,
  credentialsToken?: string,
): Record<string, string> {
  const handler = fn.command?.join(' ') ?? ''
  const runtimeHost = options.network?.gateway ?? '127.0.0.1'
  const serviceUrl = options.grants?.serviceUrl ?? `http://127.0.0.1:${options.port}`
  const s3Endpoint = options.functionS3Endpoint ?? options.s3Endpoint
  return {
    ...fn.env,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStream,
    AWS_LAMBDA_RUNTIME_API: `${runtimeHost}:${runtimePort}`,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_Image',
    ...(handler ? {_HANDLER: handler} : {}),
    ...(fn.logFormat === 'JSON' ? {AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO'} : {}),
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    AWS_ENDPOINT_URL_LAMBDA: serviceUrl,
    ...(s3Endpoint ? {AWS_ENDPOINT_URL_S3: s3Endpoint} : {}),
    ...(credentialsToken
      ? {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${serviceUrl}/faas/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: credentialsToken,
        }
      : {}),
  }
}

/** Capabilities a function never needs (raw sockets first: no spoofing on the functions' network). */
export const DROPPED_CAPABILITIES = [
  'NET_RAW',
  'MKNOD',
  'AUDIT_WRITE',
  'SYS_CHROOT',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
]

const ENV_FILE = '/run/faas.env'
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/**
 * The variables that may hold secrets (the function's own, the credentials token) go to the
 * process through a 0600 file mounted read-only and sourced by a /bin/sh wrapper before the
 * image's entry point, so `docker inspect` shows only Lambda's public ones.
 */
export function hiddenEnv(
  fn: LocalFunction,
  env: Record<string, string>,
): {visible: Record<string, string>; hidden: Record<string, string>} {
  const reserved = new Set(Object.keys(lambdaEnv({...fn, env: {}}, {} as ServiceOptions, 0, '')))
  const visible: Record<string, string> = {}
  const hidden: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    const secret = key === 'AWS_CONTAINER_AUTHORIZATION_TOKEN' || (key in fn.env && !reserved.has(key))
    ;(secret && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? hidden : visible)[key] = value
  }
  return {visible, hidden}
}

/**
 * One execution environment: one container running the unmodified image against its own Runtime
 * API port. Serves one invocation at a time; times init (container start to first `next`, as on
 * Lambda), suppresses an init that runs past the init limit (it goes on inside the first
 * invocation, bounded by the function's timeout), enforces the timeout, notices a crashed runtime
 * or a vanished engine, and frames the log per invocation in the function's log format.
 */
export class Environment {
  readonly id = randomUUID()
  state: EnvState = 'starting'
  initDurationMs?: number
  /** Set once init failed: the error JSON the first invocation reports. */
  initError?: Buffer
  /** Init ran past the init limit: the first invocation carries the rest of it. */
  initSuppressed = false
  lastUsed = Date.now()
  invocations = 0
  readonly ready: Promise<void>
  readonly emulated: {image: string; host: string} | undefined

  #server?: Server
  /** The container's address on the functions' network, once known: the Runtime API serves only it. */
  #peer!: Promise<string | undefined>
  #peerResolve!: (address: string | undefined) => void
  #grant?: {token: string; close(): void}
  #envDir?: string
  #peakBytes = 0
  /** What the runtime printed during init: a cold invocation's log tail starts with it, as on Lambda. */
  #initLines: string[] = []
  #initStartedAt?: number
  /** performance.now() marks of a cold start: image resolution began and ended, the container started. */
  #phases: {resolving?: number; resolved?: number; started?: number} = {}
  #initDone = false
  #container?: RunningContainer
  #pendingNext?: (event: NextEvent) => void
  #current?: Current
  #queued?: Current
  #exitReason?: {errorType: string; message: string}
  #onDead: (env: Environment) => void
  #readyResolve!: () => void
  #readyReject!: (error: Error) => void

  constructor(
    private readonly engine: DockerEngine,
    readonly fn: LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
    onDead: (env: Environment) => void,
  ) {
    this.#onDead = onDead
    this.emulated = emulation(fn, options)
    this.ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve
      this.#readyReject = reject
    })
    this.ready.catch(() => {})
    this.#peer = new Promise((resolve) => (this.#peerResolve = resolve))
  }

  get containerId(): string | undefined {
    return this.#container?.id
  }

  /** CPU for this environment: the memory's share, times the emulation factor when emulated. */
  get nanoCpus(): number {
    return (
      cpuShare(
        this.fn.memoryMb,
        this.options.cpuFloor,
        this.options.hostCpus,
        this.emulated ? this.options.emulationCpuFactor : 1,
      ) * 1e9
    )
  }

  /**
   * Where a cold start's time went, as one platform line (core/init-breakdown); undefined until the container started.
   */
  #initBreakdown(initMs: number): string | undefined {
    const {resolving, resolved, started} = this.#phases
    if (resolving === undefined || resolved === undefined || started === undefined || this.#initStartedAt === undefined)
      return undefined
    return formatInitBreakdown(
      {
        imageMs: resolved - resolving,
        createMs: this.#initStartedAt - resolved,
        startMs: started - this.#initStartedAt,
        initMs,
      },
      this.fn.logFormat === 'JSON',
    )
  }

  #initElapsed(): number {
    return this.#initStartedAt === undefined ? 0 : performance.now() - this.#initStartedAt
  }

  /**
   * Starts the Runtime API and the container; `ready` settles on the first `next`, on init failure, or when init is
   * suppressed.
   */
  async start(): Promise<void> {
    const network = this.options.network
    this.#grant = this.options.grants?.open(this.fn, () => this.#peer)
    const {server, port} = await startRuntimeApi(
      {
        next: (deliver, res) => this.#next(deliver, res),
        response: (id, body) => this.#finish(id, {payload: body}),
        error: (id, body, type) =>
          this.#finish(id, {payload: normaliseError(body, type), error: true, status: 'error', errorType: type}),
        oversize: (id) =>
          this.#finish(id, {
            payload: errorJson({
              errorMessage:
                `Response payload size exceeded maximum allowed payload size` + ` (${MAX_RESPONSE_BYTES} bytes).`,
              errorType: 'Function.ResponseSizeTooLarge',
            }),
            error: true,
            status: 'error',
            errorType: 'Function.ResponseSizeTooLarge',
          }),
        initError: (body, type) => this.#initFailed(normaliseError(body, type), type ?? 'Runtime.Unknown'),
      },
      network ? {host: network.gateway, accept: async (peer) => peer === (await this.#peer)} : undefined,
    )
    this.#server = server
    let initTimer: NodeJS.Timeout | undefined
    this.ready.then(
      () => clearTimeout(initTimer),
      () => clearTimeout(initTimer),
    )
    const tmpSize = this.fn.ephemeralStorageMb ?? 512
    try {
      // Resolving the image is timed apart: it precedes Lambda's Init too (fetching the image).
      this.#phases.resolving = performance.now()
      await this.engine.inspectImage(this.fn.imageUri).catch(() => undefined)
      this.#phases.resolved = performance.now()
      const env = lambdaEnv(this.fn, this.options, port, `local/${this.id}`, this.#grant?.token)
      const {visible, hidden} = hiddenEnv(this.fn, env)
      let entrypoint = this.fn.entryPoint
      let cmd = this.fn.command
      const binds = [...(this.options.binds ?? [])]
      if (Object.keys(hidden).length > 0) {
        this.#envDir = mkdtempSync(join(tmpdir(), 'faas-env-'))
        const file = join(this.#envDir, 'env')
        writeFileSync(
          file,
          Object.entries(hidden)
            .map(([k, v]) => `${k}=${shellQuote(v)}\n`)
            .join(''),
          {mode: 0o600},
        )
        binds.push(`${file}:${ENV_FILE}:ro`)
        const image = (await this.engine.docker.getImage(this.fn.imageUri).inspect()) as {
          Config?: {Entrypoint?: string[] | null; Cmd?: string[] | null}
        }
        const original = [...(entrypoint ?? image.Config?.Entrypoint ?? []), ...(cmd ?? image.Config?.Cmd ?? [])]
        entrypoint = ['/bin/sh', '-c', `set -a; . ${ENV_FILE}; set +a; exec "$@"`, 'faas-env']
        cmd = original
      }
      const spec = {
        image: this.fn.imageUri,
        cmd,
        entrypoint,
        env: visible,
        labels: {
          [LABEL]: this.options.instanceId,
          'dev.faas.local.pid': String(process.pid),
          // With the pid: where it means something, and where the service answers (leftover cleanup proves both gone).
          'dev.faas.local.pidns': PID_NAMESPACE,
          'dev.faas.local.port': String(this.options.port),
          'dev.faas.local.function': this.fn.name,
        },
        memoryMb: this.fn.memoryMb,
        nanoCpus: this.nanoCpus,
        binds,
        network: network?.name,
        capDrop: DROPPED_CAPABILITIES,
        securityOpt: ['no-new-privileges'],
        // Lambda's filesystem: read-only but /tmp, sized by the function's ephemeral storage.
        readOnlyRootfs: true,
        tmpfs: {'/tmp': `rw,exec,nosuid,nodev,size=${tmpSize}m,mode=1777`},
      }
      // Init starts where Lambda's does: once the environment exists and starts, not before create.
      const starting = () => {
        this.#initStartedAt = performance.now()
        clearTimeout(initTimer)
        initTimer = setTimeout(() => this.#suppressInit(), this.options.initTimeoutMs)
      }
      this.#container = network
        ? await onFunctionNetwork(this.engine, () => runContainer(this.engine, spec, starting))
        : await runContainer(this.engine, spec, starting)
      this.#phases.started = performance.now()
      this.#peerResolve(
        network ? await addressOn(this.engine, this.#container.id, network.name).catch(() => undefined) : undefined,
      )
    } catch (error) {
      const message = engineUnreachable(error)
        ? `The Docker engine is not reachable (${(error as Error).message}): the local service cannot start ` +
          `environments until it is back.`
        : `The environment could not start: ${(error as Error).message}`
      this.initError = errorJson({errorMessage: message, errorType: 'Runtime.Unknown'})
      this.#readyReject(error as Error)
      await this.destroy()
      return
    }
    if (this.state === 'dead') {
      // Destroyed while the container was being created (a service shutting down): remove it now.
      await removeContainer(this.engine, this.#container.id).catch(() => {})
      return
    }
    this.#container.onLine((line) => {
      if (this.#current) this.#current.lines.push(line)
      // Until the first invocation, output is init's, even when the engine delivers it after the first
      // `next` (the environment is then idle, waiting for its invocation to be handed over).
      else if (this.invocations === 0 && this.#initLines.length < 200) this.#initLines.push(line)
      this.log(line)
    })
    this.#container.exited.then(
      (exit) =>
        this.#ended(
          exit.oomKilled
            ? {errorType: 'Runtime.OutOfMemory', message: 'Runtime exited with error: signal: killed'}
            : {errorType: 'Runtime.ExitError', message: `Runtime exited with error: exit status ${exit.exitCode}`},
          exit.oomKilled,
        ),
      (error) =>
        // The engine went away (stopped, restarted, its socket gone): the container is lost with it.
        this.#ended(
          {
            errorType: 'Runtime.Unknown',
            message: `The Docker engine went away (${(error as Error)?.message ?? error}); the environment is lost`,
          },
          false,
        ),
    )
  }

  /** The container ended (or was lost with the engine): fail what it was doing and go. */
  #ended(reason: {errorType: string; message: string}, oom: boolean): void {
    this.#exitReason ??= reason
    if (!this.#initDone && !this.initError) {
      this.initError = errorJson({
        errorMessage: `RequestId: ${randomUUID()} Error: ${reason.message}`,
        errorType: reason.errorType,
      })
    }
    this.#readyReject(new Error('exited'))
    const current = this.#current
    if (current) {
      current.finish({
        payload: errorJson({
          errorMessage: `RequestId: ${current.requestId} Error: ${this.#exitReason.message}`,
          errorType: this.#exitReason.errorType,
        }),
        error: true,
        status: 'error',
        errorType: this.#exitReason.errorType,
        oom,
      })
    }
    void this.destroy()
  }

  /**
   * Init ran past the limit. Lambda then runs init again as part of the first invocation, bounded by
   * the function's timeout; here the same init simply goes on (nothing is lost by restarting it, and
   * under emulation a restart would double the wait), and the first invocation's timeout covers it.
   */
  #suppressInit(): void {
    if (this.#initDone || this.state === 'dead') return
    this.initSuppressed = true
    const limit = this.options.initTimeoutMs
    this.log(
      this.fn.logFormat === 'JSON'
        ? JSON.stringify({
            time: new Date().toISOString(),
            type: 'platform.initReport',
            record: {initializationType: 'on-demand', phase: 'init', status: 'timeout', metrics: {durationMs: limit}},
          })
        : `INIT_REPORT Init Duration: ${limit.toFixed(2)} ms\tPhase: init\tStatus: timeout`,
    )
    this.#readyResolve()
  }

  /** The runtime reported init/error: the (first) invocation reports it at once, as on Lambda. */
  #initFailed(payload: Buffer, errorType: string): void {
    this.initError = payload
    this.log(
      this.fn.logFormat === 'JSON'
        ? JSON.stringify({
            time: new Date().toISOString(),
            type: 'platform.initReport',
            record: {
              initializationType: 'on-demand',
              phase: 'init',
              status: 'error',
              errorType,
              metrics: {durationMs: round2(this.#initElapsed())},
            },
          })
        : `INIT_REPORT Init Duration: ${this.#initElapsed().toFixed(2)} ms\tPhase: init\tStatus: error\tError ` +
            `Type: ${errorType}`,
    )
    this.#readyReject(new Error('init error'))
    // A suppressed init already has its invocation waiting: it gets the init error.
    const current = this.#current
    if (current && current.dispatchedAt === undefined) {
      current.finish({payload, error: true, status: 'error', errorType})
      void this.destroy()
    }
  }

  #next(deliver: (event: NextEvent) => void, res: ServerResponse): void {
    if (!this.#initDone) {
      this.#initDone = true
      this.initDurationMs = this.#initElapsed()
      if (this.state === 'starting') this.state = 'idle'
      this.#readyResolve()
      // Memory after init, in case the runtime later dies with its cgroup.
      if (this.#container)
        void peakMemoryBytes(this.engine, this.#container.id).then(
          (peak) => (this.#peakBytes = Math.max(this.#peakBytes, peak ?? 0)),
        )
    }
    this.#pendingNext = deliver
    res.on('close', () => {
      if (this.#pendingNext === deliver && !res.writableEnded) this.#pendingNext = undefined
    })
    if (this.#queued) this.#dispatch(this.#queued)
  }

  #dispatch(current: Current): void {
    const deliver = this.#pendingNext
    if (!deliver) {
      this.#queued = current
      return
    }
    this.#pendingNext = undefined
    this.#queued = undefined
    current.dispatchedAt = performance.now()
    deliver({
      requestId: current.requestId,
      payload: current.payload,
      deadlineMs: current.deadlineMs,
      functionArn: this.fn.arn,
      clientContext: current.clientContext,
    })
  }

  #finish(requestId: string, outcome: Parameters<Current['finish']>[0]): boolean {
    const current = this.#current
    if (!current || current.requestId !== requestId || current.dispatchedAt === undefined) return false
    current.finish(outcome)
    return true
  }

  /** The log's opening line for an invocation, in the function's log format. */
  #startLine(requestId: string): string {
    return this.fn.logFormat === 'JSON' ? formatStartJson(requestId) : `START RequestId: ${requestId} Version: $LATEST`
  }

  /** END and REPORT lines (JSON: the platform.report record; Lambda's JSON format has no END). */
  #endLines(requestId: string, figures: ReportInput): string[] {
    if (this.fn.logFormat === 'JSON') return [formatReportJson(requestId, figures)]
    return [`END RequestId: ${requestId}`, formatReport(requestId, figures)]
  }

  /**
   * Runs one invocation; the environment must be ready (or its init suppressed, in which case the
   * invocation waits for the first `next` within its timeout).
   */
  invoke(request: {
    requestId: string
    payload: Buffer
    clientContext?: string
    waitForLogs: boolean
  }): Promise<InvocationResult> {
    const cold = this.invocations === 0
    const dead = this.state === 'dead'
    this.invocations++
    if (!dead) this.state = 'busy'
    return new Promise<InvocationResult>((resolve) => {
      const lines: string[] = cold ? this.#initLines.splice(0) : []
      const start = this.#startLine(request.requestId)
      this.log(start)
      lines.push(start)
      const current: Current = {
        requestId: request.requestId,
        payload: request.payload,
        clientContext: request.clientContext,
        deadlineMs: Date.now() + this.fn.timeoutS * 1000,
        lines,
        finish: (outcome) => {
          if (this.#current !== current) return
          clearTimeout(current.timer)
          const durationMs = current.dispatchedAt === undefined ? 0 : performance.now() - current.dispatchedAt
          this.#current = undefined
          if (this.#queued === current) this.#queued = undefined
          void (async () => {
            // Lines the handler printed may still be in flight through the engine: let them land.
            if (request.waitForLogs && this.#container && this.state !== 'dead')
              await this.#container.logsSettled(15, 150)
            // The cgroup goes with the container: keep the last reading, and an OOM kill means the cap was reached.
            const peak =
              this.#container && !outcome.oom && this.state !== 'dead'
                ? await peakMemoryBytes(this.engine, this.#container.id)
                : undefined
            if (peak !== undefined) this.#peakBytes = Math.max(this.#peakBytes, peak)
            const maxMemoryUsedMb = outcome.oom ? this.fn.memoryMb : Math.max(1, Math.round(this.#peakBytes / 1048576))
            // A suppressed init that did not finish still counts what it took.
            const initDurationMs = cold
              ? (this.initDurationMs ?? (this.initSuppressed ? this.#initElapsed() : undefined))
              : undefined
            const figures: ReportInput = {
              durationMs,
              billedDurationMs: Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs)),
              memorySizeMb: this.fn.memoryMb,
              maxMemoryUsedMb,
              initDurationMs,
              emulated: this.emulated,
              status: outcome.status === 'timeout' ? 'timeout' : outcome.status ? 'error' : 'success',
              errorType: outcome.errorType,
            }
            const breakdown = initDurationMs === undefined ? undefined : this.#initBreakdown(initDurationMs)
            for (const line of [...(breakdown ? [breakdown] : []), ...this.#endLines(request.requestId, figures)]) {
              lines.push(line)
              this.log(line)
            }
            if (this.state === 'busy') {
              this.state = 'idle'
              this.lastUsed = Date.now()
            }
            resolve({
              requestId: request.requestId,
              payload: outcome.payload,
              functionError: outcome.error ? 'Unhandled' : undefined,
              logLines: lines,
              durationMs,
              initDurationMs,
              maxMemoryUsedMb,
              cold,
              emulated: Boolean(this.emulated),
            })
          })()
        },
      }
      this.#current = current
      if (dead || this.#exitReason) {
        const reason = this.#exitReason ?? {errorType: 'Runtime.ExitError', message: 'the environment ended'}
        current.finish({
          payload: errorJson({
            errorMessage: `RequestId: ${request.requestId} Error: ${reason.message}`,
            errorType: reason.errorType,
          }),
          error: true,
          status: 'error',
          errorType: reason.errorType,
        })
        return
      }
      // The timeout runs from here: for a suppressed init it covers the rest of init, as on Lambda.
      current.timer = setTimeout(() => {
        this.#exitReason = {
          errorType: 'Sandbox.Timedout',
          message: `Task timed out after ${this.fn.timeoutS.toFixed(2)} seconds`,
        }
        current.finish({
          payload: errorJson({
            errorMessage:
              `RequestId: ${current.requestId} Error:` + ` Task timed out after ${this.fn.timeoutS.toFixed(2)} seconds`,
            errorType: 'Sandbox.Timedout',
          }),
          error: true,
          status: 'timeout',
          errorType: 'Sandbox.Timedout',
        })
        void this.destroy()
      }, this.fn.timeoutS * 1000)
      this.#dispatch(current)
    })
  }

  /** What a call gets when init failed before any invocation: the init error, reported at once. */
  initFailureResult(requestId: string): InvocationResult {
    const payload =
      this.initError ?? errorJson({errorMessage: 'The runtime failed to start.', errorType: 'Runtime.Unknown'})
    const lines = [this.#startLine(requestId)]
    let errorType = 'Runtime.Unknown'
    try {
      errorType = JSON.parse(payload.toString('utf8')).errorType ?? errorType
    } catch {}
    lines.push(
      ...this.#endLines(requestId, {
        durationMs: 0,
        billedDurationMs: 0,
        memorySizeMb: this.fn.memoryMb,
        maxMemoryUsedMb: 0,
        emulated: this.emulated,
        status: 'error',
        errorType,
      }),
    )
    for (const line of lines) this.log(line)
    return {
      requestId,
      payload,
      functionError: 'Unhandled',
      logLines: lines,
      durationMs: 0,
      maxMemoryUsedMb: 0,
      cold: true,
      emulated: Boolean(this.emulated),
    }
  }

  /** Stops the container and the Runtime API; idempotent. */
  async destroy(): Promise<void> {
    if (this.state === 'dead') return
    const wasBusy = this.state === 'busy'
    this.state = 'dead'
    this.#readyReject(new Error('destroyed'))
    this.#onDead(this)
    const id = this.#container?.id
    if (id) {
      if (wasBusy) await killContainer(this.engine, id)
      await removeContainer(this.engine, id).catch(() => {})
    }
    this.#server?.closeAllConnections()
    this.#server?.close()
    this.#peerResolve(undefined)
    this.#grant?.close()
    if (this.#envDir) rmSync(this.#envDir, {recursive: true, force: true})
  }
}

const round2 = (n: number): number => Math.round(n * 100) / 100

/** The runtime's error body, made Lambda-shaped (errorMessage + errorType) when it is not. */
function normaliseError(body: Buffer, type: string | undefined): Buffer {
  try {
    const parsed = JSON.parse(body.toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return body
  } catch {}
  return errorJson({errorMessage: body.toString('utf8'), errorType: type ?? 'Runtime.Unknown'})
}
