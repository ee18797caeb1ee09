import {randomUUID} from 'node:crypto'
import type {Server, ServerResponse} from 'node:http'

import {killContainer, peakMemoryBytes, removeContainer, type RunningContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {onFunctionNetwork} from '../docker/networks.js'
import {containerSpec, emulation, lambdaEnv, nanoCpus} from './container-spec.js'
import {exitReasons, functionErrors, normaliseError, type ExitReason} from './lambda-errors.js'
import {initBreakdownLine, initReportLine, startLine} from './platform-log.js'
import {MAX_RESPONSE_BYTES, startRuntimeApi, type NextEvent} from './runtime-api.js'
import {SandboxHold, settledWithin} from './prepared.js'
import {launchWith, runSandbox} from './sandbox.js'
import {completedInvocation, initFailureResult, type InvocationResult, type Outcome} from './invocation.js'
import type {LocalFunction, ServiceOptions} from './types.js'

interface Current {
  requestId: string
  payload: Buffer
  clientContext?: string
  /** Lambda-Runtime-Deadline-Ms: the function's timeout counted from when the invocation began. */
  deadlineMs: number
  dispatchedAt?: number
  lines: string[]
  /** Where a streamed response's chunks go as the function writes them (InvokeWithResponseStream). */
  onChunk?: (chunk: Buffer, contentType: string | undefined) => void | Promise<void>
  timer?: NodeJS.Timeout
  finish: (outcome: Outcome) => void
}

/** `prepared`: made ahead of calls and waiting for one to claim it (prepared.ts); `starting`: its runtime's init. */
export type EnvState = 'prepared' | 'starting' | 'idle' | 'busy' | 'dead'

/**
 * One execution environment: one container running the unmodified image against its own Runtime
 * API port, made for a call or prepared ahead and claimed by one. Serves one invocation at a time;
 * times init (the runtime's, from its release to its first `next`, as Lambda's Init Duration),
 * suppresses an init that runs past the init limit (it goes on inside the first invocation, bounded
 * by the function's timeout), enforces the timeout, notices a crashed runtime or a vanished engine,
 * and frames the log per invocation in the function's log format.
 */
export class Environment {
  readonly id = randomUUID()
  state: EnvState
  initDurationMs?: number
  /** Set once init failed: the error JSON the first invocation reports. */
  initError?: Buffer
  /** Init ran past the init limit: the first invocation carries the rest of it. */
  initSuppressed = false
  /** Why the sandbox could not be made (creating or starting its container failed). */
  startError?: Error
  lastUsed = Date.now()
  invocations = 0
  readonly ready: Promise<void>
  readonly emulated: {image: string; host: string} | undefined

  #server?: Server
  /** The container's address on the functions' network, once known: the Runtime API serves only it. */
  #peer!: Promise<string | undefined>
  #peerResolve!: (address: string | undefined) => void
  #grant?: {token: string; close(): void}
  /** Removes what carried the hidden variables (their file). */
  #disposeLaunch?: () => void
  /** The sandbox helper's request for the hidden variables, held until the sandbox is claimed when prepared. */
  readonly hold: SandboxHold
  #claimedAt?: number
  #initTimer?: NodeJS.Timeout
  /** The start in flight (creating and starting the container), until it settles. */
  #starting?: Promise<void>
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
  /** The lines of a call that has answered, while its late output is waited for (LogType Tail). */
  #settling?: string[]
  #queued?: Current
  #exitReason?: ExitReason
  #onDead: (env: Environment) => void
  #readyResolve!: () => void
  #readyReject!: (error: Error) => void

  constructor(
    private readonly engine: DockerEngine,
    readonly fn: LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
    onDead: (env: Environment) => void,
    prepare = false,
  ) {
    this.#onDead = onDead
    this.hold = new SandboxHold(prepare)
    this.state = prepare ? 'prepared' : 'starting'
    this.emulated = emulation(fn, options)
    this.ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve
      this.#readyReject = reject
    })
    this.ready.then(
      () => clearTimeout(this.#initTimer),
      () => clearTimeout(this.#initTimer),
    )
    this.#peer = new Promise((resolve) => (this.#peerResolve = resolve))
  }

  get containerId(): string | undefined {
    return this.#container?.id
  }

  /** CPU for this environment: the memory's share, times the emulation factor when emulated. */
  get nanoCpus(): number {
    return nanoCpus(this.fn, this.options)
  }

  /** Where a cold start's time went, as one platform line (core/init-breakdown); undefined until it started. */
  #initBreakdown(initMs: number): string | undefined {
    const {resolving, resolved, started} = this.#phases
    if (resolving === undefined || resolved === undefined || started === undefined || this.#initStartedAt === undefined)
      return undefined
    return initBreakdownLine(this.fn.logFormat, {
      imageMs: resolved - resolving,
      createMs: this.#initStartedAt - resolved,
      startMs: started - this.#initStartedAt,
      initMs,
      ...(this.hold.prepared ? {prepared: true} : {}),
    })
  }

  /**
   * The runtime's init so far: from the variables' release to the helper (prepared: from the claim until then);
   * without the helper (the /bin/sh fallback), from the container's start.
   */
  #initElapsed(): number {
    const from = this.hold.releasedAt ?? this.#claimedAt ?? this.#initStartedAt
    return from === undefined ? 0 : performance.now() - from
  }

  #armInitTimer(): void {
    clearTimeout(this.#initTimer)
    this.#initTimer = setTimeout(() => this.#suppressInit(), this.options.initTimeoutMs)
  }

  /** A call takes this prepared sandbox: its runtime starts now, and the init limit runs from here. */
  claim(): void {
    this.state = 'starting'
    this.#claimedAt = performance.now()
    this.#armInitTimer()
    this.hold.claim()
  }

  /** The environment's own Runtime API, serving only the container's address on the functions' network. */
  async #openRuntimeApi(): Promise<number> {
    const network = this.options.network
    const {server, port} = await startRuntimeApi(
      {
        next: (deliver, res) => this.#next(deliver, res),
        response: (id, body) => this.#finish(id, {payload: body}),
        streamStart: (id, type, c = this.#current) =>
          c?.requestId === id && c.dispatchedAt !== undefined ? (chunk) => c.onChunk?.(chunk, type) : undefined,
        error: (id, body, type) =>
          this.#finish(id, {payload: normaliseError(body, type), error: true, status: 'error', errorType: type}),
        oversize: (id) =>
          this.#finish(id, {
            payload: functionErrors.responseTooLarge(MAX_RESPONSE_BYTES),
            error: true,
            status: 'error',
            errorType: 'Function.ResponseSizeTooLarge',
          }),
        initError: (body, type) => this.#initFailed(normaliseError(body, type), type ?? 'Runtime.Unknown'),
        sandboxEnv: (deliver, res) => this.hold.request(deliver, res),
      },
      network ? {host: network.gateway, accept: async (peer) => peer === (await this.#peer)} : undefined,
    )
    this.#server = server
    return port
  }

  /**
   * Starts the Runtime API and the container; `ready` settles on the first `next`, on init failure, or when init is
   * suppressed. A prepared sandbox's runtime starts only once claimed (`held` settles when it waits for that).
   */
  start(): Promise<void> {
    return (this.#starting = this.#start().finally(() => (this.#starting = undefined)))
  }

  async #start(): Promise<void> {
    this.#grant = this.options.grants?.open(this.fn, () => this.#peer)
    try {
      const open = () => this.#openRuntimeApi() // on the functions' network: see onFunctionNetwork
      const port = await (this.options.network ? onFunctionNetwork(this.engine, open) : open())
      // Resolving the image is timed apart: it precedes Lambda's Init too (fetching the image).
      this.#phases.resolving = performance.now()
      await this.engine.inspectImage(this.fn.imageUri).catch(() => undefined)
      this.#phases.resolved = performance.now()
      const env = lambdaEnv(this.fn, this.options, port, `local/${this.id}`, this.#grant?.token)
      const arch = this.fn.imageArchitecture ?? this.options.hostArchitecture
      const {launch, delivered, dispose} = await launchWith(this.engine, this.fn, env, arch, this.hold.prepared)
      this.#disposeLaunch = dispose
      this.hold.vars = delivered && Buffer.from(JSON.stringify(delivered))
      const spec = containerSpec(this.fn, this.options, launch)
      // The init limit runs from the start (a prepared sandbox's from its claim): not before create.
      const starting = () => {
        this.#initStartedAt = performance.now()
        if (!this.hold.prepared) this.#armInitTimer()
      }
      const {container, address} = await runSandbox(this.engine, spec, this.options, starting)
      this.#container = container
      this.#phases.started = performance.now()
      this.#peerResolve(address)
    } catch (error) {
      this.initError = functionErrors.startFailed(error)
      this.startError = error as Error
      this.hold.fail(error as Error)
      this.#readyReject(error as Error)
      this.#starting = undefined // destroy() must not wait for this start, which it ends
      await this.destroy()
      return
    }
    if (this.state === 'dead') {
      // Destroyed while the container was being created (a service shutting down): remove it now.
      await removeContainer(this.engine, this.#container.id).catch(() => {})
      return
    }
    this.#watch(this.#container)
  }

  /** Frames the container's output and notices its end. */
  #watch(container: RunningContainer): void {
    container.onLine((line) => {
      const call = this.#current?.lines ?? this.#settling
      if (call) call.push(line)
      // Until the first invocation, output is init's, even when delivered after the first `next`.
      else if (this.invocations === 0 && this.#initLines.length < 200) this.#initLines.push(line)
      this.log(line)
    })
    container.exited.then(
      (exit) => this.#ended(exitReasons.exited(exit), exit.oomKilled),
      (error) => this.#ended(exitReasons.engineLost(error), false),
    )
  }

  /** The container ended (or was lost with the engine): fail what it was doing and go. */
  #ended(reason: ExitReason, oom: boolean): void {
    this.#exitReason ??= reason
    if (!this.#initDone && !this.initError) this.initError = functionErrors.ended(randomUUID(), reason)
    this.hold.fail(new Error(`the sandbox ended before its claim: ${reason.message}`))
    this.#readyReject(new Error('exited'))
    const current = this.#current
    if (current) {
      current.finish({
        payload: functionErrors.ended(current.requestId, this.#exitReason),
        error: true,
        status: 'error',
        errorType: this.#exitReason.errorType,
        oom,
      })
    }
    void this.destroy()
  }

  /**
   * Init ran past the limit. Lambda then runs init again inside the first invocation, bounded by its timeout; here
   * the same init goes on (nothing is lost by restarting it; under emulation a restart would double the wait).
   */
  #suppressInit(): void {
    if (this.#initDone || this.state === 'dead') return
    this.initSuppressed = true
    this.log(initReportLine(this.fn.logFormat, {status: 'timeout', durationMs: this.options.initTimeoutMs}))
    this.#readyResolve()
  }

  /** The runtime reported init/error: the (first) invocation reports it at once, as on Lambda. */
  #initFailed(payload: Buffer, errorType: string): void {
    this.initError = payload
    this.log(initReportLine(this.fn.logFormat, {status: 'error', durationMs: this.#initElapsed(), errorType}))
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

  /** Runs one invocation; the environment must be ready (or its init suppressed: then it waits for `next`). */
  invoke(request: Pick<Current, 'requestId' | 'payload' | 'clientContext' | 'onChunk'> & {waitForLogs: boolean}) {
    const cold = this.invocations === 0 && this.fn.initializationType !== 'provisioned-concurrency' // init ahead
    const dead = this.state === 'dead'
    this.invocations++
    if (!dead) this.state = 'busy'
    return new Promise<InvocationResult>((resolve) => {
      const lines: string[] = cold ? this.#initLines.splice(0) : []
      const start = startLine(this.fn.logFormat, request.requestId, this.fn.version)
      this.log(start)
      lines.push(start)
      const current: Current = {
        requestId: request.requestId,
        payload: request.payload,
        clientContext: request.clientContext,
        onChunk: request.onChunk,
        deadlineMs: Date.now() + this.fn.timeoutS * 1000,
        lines,
        finish: (outcome) => {
          if (this.#current !== current) return
          clearTimeout(current.timer)
          const durationMs = current.dispatchedAt === undefined ? 0 : performance.now() - current.dispatchedAt
          this.#current = undefined
          if (this.#queued === current) this.#queued = undefined
          void this.#complete(request, {lines, cold, durationMs}, outcome).then(resolve)
        },
      }
      this.#current = current
      if (dead || this.#exitReason) {
        const reason = this.#exitReason ?? exitReasons.ended()
        current.finish({
          payload: functionErrors.ended(request.requestId, reason),
          error: true,
          status: 'error',
          errorType: reason.errorType,
        })
        return
      }
      // The timeout runs from here: for a suppressed init it covers the rest of init, as on Lambda.
      current.timer = setTimeout(() => {
        this.#exitReason = exitReasons.timedOut(this.fn.timeoutS)
        current.finish({
          payload: functionErrors.ended(current.requestId, this.#exitReason),
          error: true,
          status: 'timeout',
          errorType: 'Sandbox.Timedout',
        })
        void this.destroy()
      }, this.fn.timeoutS * 1000)
      this.#dispatch(current)
    })
  }

  /** After an invocation: let late lines land, read the memory peak, frame the log with END and REPORT. */
  async #complete(
    request: {requestId: string; waitForLogs: boolean},
    run: {lines: string[]; cold: boolean; durationMs: number},
    outcome: Outcome,
  ): Promise<InvocationResult> {
    const {lines, cold, durationMs} = run
    // Lines printed may still be in flight through the engine (its copy lags the Runtime API on a busy machine): they
    // join the call's lines meanwhile. A cold tail waits from now, longest when only START was heard (init's lines).
    if (request.waitForLogs && this.#container && this.state !== 'dead') {
      this.#settling = lines
      await this.#container.logsSettled(!cold ? 15 : lines.length > 1 ? 50 : 200, cold ? 1000 : 150, cold)
      if (this.#settling === lines) this.#settling = undefined
    }
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
    const breakdown = initDurationMs === undefined ? undefined : this.#initBreakdown(initDurationMs)
    if (this.state === 'busy') {
      this.state = 'idle'
      this.lastUsed = Date.now()
    }
    const framed = {requestId: request.requestId, lines, cold, durationMs, initDurationMs, maxMemoryUsedMb, breakdown}
    return completedInvocation(this.fn, this.emulated, framed, outcome, this.log)
  }

  /** What a call gets when init failed before any invocation: the init error, reported at once. */
  initFailureResult(requestId: string): InvocationResult {
    const result = initFailureResult(this.fn, this.emulated, requestId, this.initError)
    for (const line of result.logLines) this.log(line)
    return result
  }

  /** Stops the container and the Runtime API; idempotent. */
  async destroy(): Promise<void> {
    if (this.state === 'dead') return
    const wasBusy = this.state === 'busy'
    this.state = 'dead'
    this.hold.fail(new Error('destroyed'))
    this.#readyReject(new Error('destroyed'))
    this.#onDead(this)
    // Its container still being made: that start removes it, waited for (bounded: an engine that never answers must
    // not hold the service's close) so that nothing is left.
    if (!this.#container && this.#starting) await settledWithin(this.#starting, 15_000)
    const id = this.#container?.id
    if (id) {
      if (wasBusy) await killContainer(this.engine, id)
      // The engine away: the next sweep (once it answers) removes the container.
      await removeContainer(this.engine, id).catch(() => this.options.reserve?.orphan(id))
    }
    this.#server?.closeAllConnections()
    this.#server?.close()
    this.#peerResolve(undefined)
    this.#grant?.close()
    this.#disposeLaunch?.()
  }
}
