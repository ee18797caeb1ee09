import {randomUUID} from 'node:crypto'
import {mkdtempSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import type {Server, ServerResponse} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {killContainer, peakMemoryBytes, removeContainer, runContainer, type RunningContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {addressOn, onFunctionNetwork} from '../docker/networks.js'
import {formatReport} from '../core/report.js'
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
}

interface Current {
  requestId: string
  payload: Buffer
  clientContext?: string
  dispatchedAt?: number
  lines: string[]
  timer?: NodeJS.Timeout
  finish: (outcome: {payload: Buffer; error?: boolean; status?: string; errorType?: string; oom?: boolean}) => void
}

export type EnvState = 'starting' | 'idle' | 'busy' | 'dead'

const errorJson = (body: LambdaErrorBody): Buffer => Buffer.from(JSON.stringify(body))

/** Docker's CPU share for a memory size: 1,769 MB = 1 vCPU, floored and capped at the host's cores. */
export function cpuShare(memoryMb: number, floor: number, hostCpus: number): number {
  return Math.min(hostCpus, Math.max(floor, memoryMb / 1769))
}

/**
 * The variables Lambda sets, after the function's own (reserved names win, as on Lambda). No AWS
 * keys: the SDK in the function gets session credentials from the container-credentials
 * endpoint with the environment's token, as a Lambda function gets its role's.
 */
export function lambdaEnv(fn: LocalFunction, options: ServiceOptions, runtimePort: number, logStream: string, credentialsToken?: string): Record<string, string> {
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
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    AWS_ENDPOINT_URL_LAMBDA: serviceUrl,
    ...(s3Endpoint ? {AWS_ENDPOINT_URL_S3: s3Endpoint} : {}),
    ...(credentialsToken ? {AWS_CONTAINER_CREDENTIALS_FULL_URI: `${serviceUrl}/faas/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: credentialsToken} : {}),
  }
}

/** Capabilities a function never needs (raw sockets first: no spoofing on the functions' network). */
export const DROPPED_CAPABILITIES = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SYS_CHROOT', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE']

const ENV_FILE = '/run/faas.env'
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/**
 * The variables that may hold secrets (the function's own, the credentials token) go to the
 * process through a 0600 file mounted read-only and sourced by a /bin/sh wrapper before the
 * image's entry point, so `docker inspect` shows only Lambda's public ones.
 */
export function hiddenEnv(fn: LocalFunction, env: Record<string, string>): {visible: Record<string, string>; hidden: Record<string, string>} {
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
 * API port. Serves one invocation at a time; times init (container start request to first `next`),
 * enforces the timeout, notices a crashed runtime and frames the log per invocation.
 */
export class Environment {
  readonly id = randomUUID()
  state: EnvState = 'starting'
  initDurationMs?: number
  /** Set once init failed: the error JSON the first invocation reports. */
  initError?: Buffer
  lastUsed = Date.now()
  invocations = 0
  readonly ready: Promise<void>

  #server?: Server
  /** The container's address on the functions' network, once known: the Runtime API serves only it. */
  #peer!: Promise<string | undefined>
  #peerResolve!: (address: string | undefined) => void
  #grant?: {token: string; close(): void}
  #envDir?: string
  #peakBytes = 0
  /** What the runtime printed during init: a cold invocation's log tail starts with it, as on Lambda. */
  #initLines: string[] = []
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

  /** Starts the Runtime API and the container; `ready` settles on the first `next` or on init failure. */
  async start(): Promise<void> {
    const t0 = performance.now()
    const network = this.options.network
    this.#grant = this.options.grants?.open(this.fn, () => this.#peer)
    const {server, port} = await startRuntimeApi({
      next: (deliver, res) => this.#next(deliver, res, t0),
      response: (id, body) => this.#finish(id, {payload: body}),
      error: (id, body, type) => this.#finish(id, {payload: normaliseError(body, type), error: true, status: 'error', errorType: type}),
      oversize: (id) =>
        this.#finish(id, {
          payload: errorJson({errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'Function.ResponseSizeTooLarge'}),
          error: true,
          status: 'error',
          errorType: 'Function.ResponseSizeTooLarge',
        }),
      initError: (body, type) => {
        this.initError = normaliseError(body, type)
        this.log(`INIT_REPORT Init Duration: ${(performance.now() - t0).toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${type ?? 'Runtime.Unknown'}`)
        this.#readyReject(new Error('init error'))
      },
    }, network ? {host: network.gateway, accept: async (peer) => peer === (await this.#peer)} : undefined)
    this.#server = server
    const initTimer = setTimeout(() => {
      this.initError = errorJson({errorMessage: `INIT did not finish within ${(this.options.initTimeoutMs / 1000).toFixed(0)} seconds (no call to the Runtime API's next).`, errorType: 'Sandbox.Timedout'})
      this.#readyReject(new Error('init timeout'))
      void this.destroy()
    }, this.options.initTimeoutMs)
    this.ready.then(() => clearTimeout(initTimer), () => clearTimeout(initTimer))
    try {
      const env = lambdaEnv(this.fn, this.options, port, `local/${this.id}`, this.#grant?.token)
      const {visible, hidden} = hiddenEnv(this.fn, env)
      let entrypoint = this.fn.entryPoint
      let cmd = this.fn.command
      const binds = [...(this.options.binds ?? [])]
      if (Object.keys(hidden).length > 0) {
        this.#envDir = mkdtempSync(join(tmpdir(), 'faas-env-'))
        const file = join(this.#envDir, 'env')
        writeFileSync(file, Object.entries(hidden).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join(''), {mode: 0o600})
        binds.push(`${file}:${ENV_FILE}:ro`)
        const image = (await this.engine.docker.getImage(this.fn.imageUri).inspect()) as {Config?: {Entrypoint?: string[] | null; Cmd?: string[] | null}}
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
        nanoCpus: cpuShare(this.fn.memoryMb, this.options.cpuFloor, this.options.hostCpus) * 1e9,
        binds,
        network: network?.name,
        capDrop: DROPPED_CAPABILITIES,
        securityOpt: ['no-new-privileges'],
      }
      this.#container = network ? await onFunctionNetwork(this.engine, () => runContainer(this.engine, spec)) : await runContainer(this.engine, spec)
      this.#peerResolve(network ? await addressOn(this.engine, this.#container.id, network.name).catch(() => undefined) : undefined)
    } catch (error) {
      this.initError = errorJson({errorMessage: `The environment could not start: ${(error as Error).message}`, errorType: 'Runtime.Unknown'})
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
    void this.#container.exited.then((exit) => {
      const reason = exit.oomKilled
        ? {errorType: 'Runtime.OutOfMemory', message: 'Runtime exited with error: signal: killed'}
        : {errorType: 'Runtime.ExitError', message: `Runtime exited with error: exit status ${exit.exitCode}`}
      this.#exitReason ??= reason
      if (this.state === 'starting' && !this.initError) {
        this.initError = errorJson({errorMessage: `RequestId: ${randomUUID()} Error: ${reason.message}`, errorType: reason.errorType})
      }
      this.#readyReject(new Error('exited'))
      const current = this.#current
      if (current) {
        current.finish({
          payload: errorJson({errorMessage: `RequestId: ${current.requestId} Error: ${this.#exitReason.message}`, errorType: this.#exitReason.errorType}),
          error: true,
          status: 'error',
          errorType: this.#exitReason.errorType,
          oom: exit.oomKilled,
        })
      }
      void this.destroy()
    })
  }

  #next(deliver: (event: NextEvent) => void, res: ServerResponse, t0: number): void {
    if (this.state === 'starting') {
      this.initDurationMs = performance.now() - t0
      this.state = 'idle'
      this.#readyResolve()
      // Memory after init, in case the runtime later dies with its cgroup.
      if (this.#container) void peakMemoryBytes(this.engine, this.#container.id).then((peak) => (this.#peakBytes = Math.max(this.#peakBytes, peak ?? 0)))
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
    const deadlineMs = Date.now() + this.fn.timeoutS * 1000
    current.timer = setTimeout(() => {
      this.#exitReason = {errorType: 'Sandbox.Timedout', message: `Task timed out after ${this.fn.timeoutS.toFixed(2)} seconds`}
      current.finish({
        payload: errorJson({errorMessage: `RequestId: ${current.requestId} Error: Task timed out after ${this.fn.timeoutS.toFixed(2)} seconds`, errorType: 'Sandbox.Timedout'}),
        error: true,
        status: 'timeout',
      })
      void this.destroy()
    }, this.fn.timeoutS * 1000)
    deliver({requestId: current.requestId, payload: current.payload, deadlineMs, functionArn: this.fn.arn, clientContext: current.clientContext})
  }

  #finish(requestId: string, outcome: Parameters<Current['finish']>[0]): boolean {
    const current = this.#current
    if (!current || current.requestId !== requestId || current.dispatchedAt === undefined) return false
    current.finish(outcome)
    return true
  }

  /** Runs one invocation; the environment must be idle and ready. */
  invoke(request: {requestId: string; payload: Buffer; clientContext?: string; waitForLogs: boolean}): Promise<InvocationResult> {
    const cold = this.invocations === 0
    const dead = this.state === 'dead'
    this.invocations++
    if (!dead) this.state = 'busy'
    return new Promise<InvocationResult>((resolve) => {
      const lines: string[] = cold ? this.#initLines.splice(0) : []
      const start = `START RequestId: ${request.requestId} Version: $LATEST`
      this.log(start)
      lines.push(start)
      const current: Current = {
        requestId: request.requestId,
        payload: request.payload,
        clientContext: request.clientContext,
        lines,
        finish: (outcome) => {
          if (this.#current !== current) return
          clearTimeout(current.timer)
          const durationMs = performance.now() - (current.dispatchedAt ?? performance.now())
          this.#current = undefined
          void (async () => {
            // Lines the handler printed may still be in flight through the engine: let them land.
            if (request.waitForLogs && this.#container) await this.#container.logsSettled(15, 150)
            // The cgroup goes with the container: keep the last reading, and an OOM kill means the cap was reached.
            const peak = this.#container && !outcome.oom ? await peakMemoryBytes(this.engine, this.#container.id) : undefined
            if (peak !== undefined) this.#peakBytes = Math.max(this.#peakBytes, peak)
            const maxMemoryUsedMb = outcome.oom ? this.fn.memoryMb : Math.max(1, Math.round(this.#peakBytes / 1048576))
            const initDurationMs = cold ? this.initDurationMs : undefined
            const end = `END RequestId: ${request.requestId}`
            let report = formatReport(request.requestId, {
              durationMs,
              billedDurationMs: Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs)),
              memorySizeMb: this.fn.memoryMb,
              maxMemoryUsedMb,
              initDurationMs,
            })
            if (outcome.status) report += `Status: ${outcome.status}${outcome.errorType ? `\tError Type: ${outcome.errorType}` : ''}\t`
            lines.push(end, report)
            this.log(end)
            this.log(report)
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
            })
          })()
        },
      }
      this.#current = current
      if (dead || this.#exitReason) {
        current.finish({payload: errorJson({errorMessage: `RequestId: ${request.requestId} Error: the environment ended`, errorType: 'Runtime.ExitError'}), error: true, status: 'error'})
        return
      }
      this.#dispatch(current)
    })
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

/** The runtime's error body, made Lambda-shaped (errorMessage + errorType) when it is not. */
function normaliseError(body: Buffer, type: string | undefined): Buffer {
  try {
    const parsed = JSON.parse(body.toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return body
  } catch {}
  return errorJson({errorMessage: body.toString('utf8'), errorType: type ?? 'Runtime.Unknown'})
}
