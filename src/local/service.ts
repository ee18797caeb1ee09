import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {dirname, join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {silent} from '../core/events.js'
import {findContainersByLabel, removeContainer} from '../docker/containers.js'
import {DockerEngine} from '../docker/engine.js'
import {ensureFunctionNetwork, onFunctionNetwork, removeFunctionNetworkIfUnused} from '../docker/networks.js'
import {ApiFronts} from './api-front.js'
import {AsyncInvoker} from './async-invoke.js'
import {LABEL, stateDir} from './contracts.js'
import type {ControlContext} from './control-api.js'
import {generateSecrets} from './credentials.js'
import {EventSourceMappings} from './event-sources.js'
import {loadFunctions, saveFunctions} from './function-store.js'
import {gate, type GateContext} from './gate.js'
import {listen, sendError, sendJson} from './http.js'
import {invoke, invokeStreaming, type InvokeContext} from './invoke-api.js'
import {LambdaApiError} from './lambda-errors.js'
import {removeLeftovers} from './leftovers.js'
import {forwardToLoopback, isLoopbackEndpoint, type LoopbackForwarder} from './loopback-forwarder.js'
import {DEFAULT_EPHEMERAL_MB} from './container-spec.js'
import {checkServiceOptions, defined, serviceDefaults} from './options.js'
import type {FunctionPool} from './pool.js'
import {SandboxReserve} from './prepared.js'
import {route, type RouteContext} from './routes.js'
import {Sessions, type SessionCredentials} from './sessions.js'
import {TmpDisks} from './tmp-disk.js'
import type {LocalFunction, ServiceOptions} from './types.js'
import {VersionPools} from './version-pools.js'
import {codeSha256Of} from './versions.js'
import {FunctionUrlFronts} from './url-front.js'

/** Longest GetFunction waits for a Pending function to settle (a sandbox is prepared in well under a second). */
const SETTLE_WAIT_MS = 3000

export const defaultServiceOptions = (overrides: Partial<ServiceOptions> = {}): ServiceOptions =>
  checkServiceOptions({
    ...serviceDefaults(),
    instanceId: randomUUID(),
    ...defined(overrides),
    secrets: overrides.secrets ?? generateSecrets(),
  })

/**
 * The local Lambda service: the Invoke API and the control-plane subset on one 127.0.0.1 port,
 * one environment pool per function. `close()` removes every container it started. The parts are
 * in their own modules: gate (Host, Origin, body limit, SigV4), routes, invoke-api, sessions,
 * function-store, lambda-errors; this class holds their state and their lifecycle.
 */
export class LocalService {
  readonly options: ServiceOptions
  readonly functions = new Map<string, LocalFunction>()
  /** Environments per (function, version), and those provisioned ahead (version-pools.ts). */
  readonly versionPools: VersionPools
  /** The on-demand pools: `name` for $LATEST, `name:N` for version N. */
  readonly pools: Map<string, FunctionPool>
  /** The last lines of each function's log (START/END/REPORT framed). */
  readonly logs = new Map<string, string[]>()
  #server?: Server
  #sessions: Sessions
  /** Other addresses the service listens on (the functions' network gateway). */
  #extraHosts: string[] = []
  /** Listeners on the functions' network: the API for functions. */
  #gatewayServers: Server[] = []
  /** The S3 forwarder on the functions' network. */
  #forwarder?: LoopbackForwarder
  #reclaimer?: NodeJS.Timeout
  #closing?: Promise<void>
  /** Event invocations: queued, retried, sent to destinations (async-invoke.ts). */
  readonly async: AsyncInvoker
  /** SQS event source mappings: pollers of the emulator's queues (event-sources.ts). */
  readonly mappings: EventSourceMappings
  /** The Function URLs' listeners, one loopback port each. */
  readonly urls: FunctionUrlFronts
  /** The benchmarks' HTTP APIs, one loopback port each. */
  readonly apis: ApiFronts
  #closedResolve!: () => void
  /** Settles once close() has finished. */
  readonly closed = new Promise<void>((resolve) => (this.#closedResolve = resolve))

  constructor(
    readonly engine: DockerEngine = new DockerEngine(),
    options: Partial<ServiceOptions> = {},
    private readonly emit: Emit = silent,
  ) {
    this.options = defaultServiceOptions(options)
    this.options.reserve ??= new SandboxReserve(this.options.preparedPerFunction, this.options.preparedTotal)
    this.#sessions = new Sessions(this.options)
    this.versionPools = new VersionPools(this.engine, this.functions, this.options, (name, line) =>
      this.#log(name, line),
    )
    this.pools = this.versionPools.pools
    this.async = new AsyncInvoker({
      functions: this.functions,
      options: this.options,
      pool: (name, version) => this.versionPools.pool(name, version),
      log: (name, line) => this.#log(name, line),
      dir: this.options.functionsFile ? join(dirname(this.options.functionsFile), 'async-events') : undefined,
    })
    this.mappings = new EventSourceMappings({
      functions: this.functions,
      options: this.options,
      pool: (name) => this.versionPools.pool(name),
      log: (name, line) => this.#log(name, line),
      file: this.options.functionsFile
        ? join(dirname(this.options.functionsFile), 'event-source-mappings.json')
        : undefined,
    })
    this.urls = new FunctionUrlFronts({
      functions: this.functions,
      options: this.options,
      keyOf: (id) => this.#sessions.keyOf(id),
      pool: (name) => this.versionPools.pool(name),
      emit: this.emit,
    })
    const functionsFile = this.options.functionsFile
    this.apis = new ApiFronts({
      functions: this.functions,
      options: this.options,
      pool: (name) => this.versionPools.pool(name),
      emit: this.emit,
      file: functionsFile ? join(dirname(functionsFile), 'apis.json') : undefined,
    })
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`
  }

  /** The pair an SDK signs its requests to this service with. */
  get credentials(): {accessKeyId: string; secretAccessKey: string} {
    return {accessKeyId: this.options.secrets.accessKeyId, secretAccessKey: this.options.secrets.secretAccessKey}
  }

  async start(): Promise<this> {
    process.on('unhandledRejection', this.#engineSocketLost)
    await this.engine.ping()
    this.options.tmpDisks ??= new TmpDisks(this.engine, this.options, stateDir(), (message) =>
      this.emit({kind: 'warn', subject: 'local', message}),
    )
    // Early, while the service sets up: a new function's first sandbox (its Pending) waits for the keeper and a disk.
    void this.options.tmpDisks.warm(DEFAULT_EPHEMERAL_MB).catch(() => undefined)
    await this.removeLeftovers()
    for (const fn of loadFunctions(this.options.functionsFile, this.options.secrets.identityKey, this.emit))
      this.functions.set(fn.name, fn)
    await this.#resolveDigests()
    for (const name of this.functions.keys()) await this.versionPools.syncProvisioned(name)
    const handler = this.#handler()
    const server = createServer(handler)
    server.keepAliveTimeout = 65_000
    server.requestTimeout = 0
    // Everything is in place before the port answers: a client that sees /faas/health also finds
    // the gateway open and (once start() returns, in the same tick) the state file written.
    await this.#openGateway(handler)
    try {
      await this.#listen(server)
    } catch (error) {
      await this.close() // the gateway's listeners would otherwise keep the process alive
      throw error
    }
    this.#server = server
    this.options.port = (server.address() as AddressInfo).port
    await this.#reopenUrls()
    await this.apis.reopen()
    const every = Math.max(100, Math.min(10_000, this.options.idleTimeoutMs / 2))
    this.#reclaimer = setInterval(() => this.versionPools.reclaimIdle(), every)
    this.#reclaimer.unref()
    // Functions a previous service knew are Active: their sandboxes are prepared in the background.
    for (const name of this.functions.keys()) this.versionPools.pool(name).prepare()
    this.mappings.resume()
    const resumed = this.async.resume()
    if (resumed)
      this.emit({kind: 'progress', subject: 'local', message: `${resumed} queued Event invocation(s) resumed`})
    return this
  }

  /**
   * Functions saved before digests were recorded (an older faas) get their image's digest now, as
   * UpdateFunctionCode would have resolved it; an image no longer there leaves them as they were.
   */
  async #resolveDigests(): Promise<void> {
    for (const fn of this.functions.values()) {
      if (fn.imageDigest) continue
      const image = await this.engine.inspectImage(fn.imageUri).catch(() => undefined)
      if (!image) continue
      fn.imageDigest = image.id
      fn.codeSha256 = codeSha256Of(image.id)
    }
  }

  /** Every request goes through the gate; a Lambda error becomes its answer, anything else a ServiceException. */
  #handler(): (req: IncomingMessage, res: ServerResponse) => void {
    const routes = this.#routes()
    const ctx: GateContext = {
      hosts: () => this.hosts,
      options: this.options,
      sessions: this.#sessions,
      route: (req, res, url, body, key) => route(routes, req, res, url, body, key),
    }
    return (req, res) => {
      gate(ctx, req, res).catch((error) => {
        if (error instanceof LambdaApiError) sendError(res, error)
        else if (!res.headersSent)
          sendJson(
            res,
            500,
            {Type: 'Service', message: String(error?.message ?? error)},
            {'x-amzn-ErrorType': 'ServiceException'},
          )
      })
    }
  }

  #listen(server: Server): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new UserError(`Port ${this.options.port} on 127.0.0.1 is already in use.`, {
                code: 'PORT_IN_USE',
                fix:
                  'Stop what uses it (`faas local stop` if it is a faas service) or choose another port with ' +
                  '--port or FAAS_LOCAL_PORT.',
              })
            : error,
        ),
      )
      server.listen(this.options.port, '127.0.0.1', () => resolve())
    })
  }

  /**
   * Environments live on faas's internal network: the service meets them on its gateway with a
   * second listener for the same API (signed Invoke calls, the credentials endpoint), and a TCP
   * forwarder to a loopback S3 store, which they could not reach otherwise.
   */
  async #openGateway(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<void> {
    const network = await ensureFunctionNetwork(this.engine)
    this.options.network = network
    const api = createServer(handler)
    api.keepAliveTimeout = 65_000
    api.requestTimeout = 0
    const apiPort = await onFunctionNetwork(this.engine, () => listen(api, network.gateway))
    this.#gatewayServers.push(api)
    this.#extraHosts.push(`${network.gateway}:${apiPort}`)
    const s3 = this.options.s3Endpoint ? new URL(this.options.s3Endpoint) : undefined
    if (s3 && isLoopbackEndpoint(s3.href)) {
      const forwarder = await onFunctionNetwork(this.engine, () =>
        forwardToLoopback(network.gateway, Number(s3.port || 80)),
      )
      this.#forwarder = forwarder
      this.options.functionS3Endpoint = `${s3.protocol}//${network.gateway}:${forwarder.port}`
    }
    this.options.grants = this.#sessions.grants(`http://${network.gateway}:${apiPort}`)
    await this.#sessions.start()
  }

  /** The URLs a previous service on the same FAAS_HOME had answer again, on their ports when those are free. */
  async #reopenUrls(): Promise<void> {
    let moved = false
    for (const fn of this.functions.values()) {
      for (const config of fn.urls ?? []) {
        const port = await this.urls.open(fn, config)
        moved ||= port !== config.port
        config.port = port
      }
    }
    if (moved)
      saveFunctions(this.options.functionsFile, this.functions.values(), this.options.secrets.identityKey, this.emit)
  }

  /** Removes containers left by services proven gone (see leftovers.ts). */
  removeLeftovers(): Promise<number> {
    return removeLeftovers(this.engine, this.options.instanceId)
  }

  /** Session credentials that may only invoke functions (see sessions.ts). */
  issueSession(principal: string, lifetimeMs?: number): Required<SessionCredentials> {
    return this.#sessions.issueSession(principal, lifetimeMs)
  }

  acceptSession(credentials: Parameters<Sessions['acceptSession']>[0], principal: string): void {
    this.#sessions.acceptSession(credentials, principal)
  }

  revokeSession(accessKeyId: string): void {
    this.#sessions.revokeSession(accessKeyId)
  }

  #log(name: string, line: string): void {
    let lines = this.logs.get(name)
    if (!lines) this.logs.set(name, (lines = []))
    lines.push(line)
    if (lines.length > 2000) lines.splice(0, lines.length - 1000)
    this.emit({kind: 'log', subject: name, message: line})
  }

  #routes(): RouteContext {
    const invokeContext: InvokeContext = {
      functions: this.functions,
      options: this.options,
      runner: (name, qualifier, version) => this.versionPools.runner(name, qualifier, version),
      log: (name, line) => this.#log(name, line),
      enqueue: (name, payload, requestId, clientContext, version) =>
        this.async.enqueue(name, payload, requestId, clientContext, version),
    }
    return {
      invoke: (ref, req, res, body) => invoke(invokeContext, ref, req, res, body),
      invokeStreaming: (ref, req, res, body) => invokeStreaming(invokeContext, ref, req, res, body),
      control: () => this.#control(),
      health: () => this.health(),
      logsOf: (name) => this.logs.get(name) ?? [],
      shutdown: () => void this.close(),
      apis: this.apis,
    }
  }

  #control(): ControlContext {
    return {
      engine: this.engine,
      functions: this.functions,
      region: this.options.region,
      accountId: this.options.accountId,
      destinations: (arn, fn) => this.async.problemWith(arn, fn),
      mappings: this.mappings,
      urls: this.urls,
      // URLs and policies stay on $LATEST until the URL front routes through an alias's versions.
      aliases: () => false,
      changed: async (name, what, version) => {
        this.emit({kind: 'progress', subject: name, message: version ? `${what} ${version}` : what})
        this.versionPools.forget(name)
        saveFunctions(this.options.functionsFile, this.functions.values(), this.options.secrets.identityKey, this.emit)
        if (what === 'deleted') this.mappings.functionDeleted(name)
        if (what === 'url' || what === 'policy' || what === 'event-invoke-config') return
        if (what === 'configured') {
          // Its pool is made with the function: a new one is Pending until its first sandbox is prepared.
          const existed = this.pools.has(name)
          this.versionPools.pool(name).revise(!existed)
          return
        }
        await this.versionPools.changed(name, what, version)
      },
      maxEnvironments: this.options.maxEnvironmentsPerFunction,
      accountConcurrency: this.options.accountConcurrency,
      provisioning: (name, qualifier) => this.versionPools.provisioning(name, qualifier),
      status: (name) => this.pools.get(name)?.status(),
      // A read of a Pending function answers once it is ready (bounded): waiters then see Active on their first look.
      settled: (name) => this.pools.get(name)?.settled(SETTLE_WAIT_MS) ?? Promise.resolve(),
    }
  }

  /** The addresses (host:port) this service answers as: anything else in Host is refused. */
  get hosts(): Set<string> {
    const port = this.options.port
    return new Set([`127.0.0.1:${port}`, `localhost:${port}`, ...this.#extraHosts])
  }

  health(): Record<string, unknown> {
    return {
      service: 'faas-local',
      pid: process.pid,
      id: this.options.instanceId,
      url: this.url,
      region: this.options.region,
      s3Endpoint: this.options.s3Endpoint,
      awsEndpoint: this.options.awsEndpoint,
      idleTimeoutMs: this.options.idleTimeoutMs,
      queuedEvents: this.async.size,
      tmp: this.options.tmpDisks && !this.options.tmpDisks.reason ? 'disk' : 'tmpfs',
      tmpDisksMaking: this.options.tmpDisks?.making ?? 0,
      functions: [...this.functions.keys()],
      urls: this.urls.list(),
      apis: this.apis.list(),
      environments: this.versionPools.stats(),
      prepared: this.options.reserve!.stats(),
    }
  }

  /** Stops serving and removes every container this service started. Idempotent. */
  /**
   * The engine going away must not end the service (docs/local.md): an engine call whose failure nothing awaited
   * (seen with disk-backed /tmp when the engine's socket closes mid-request) is logged; anything else is rethrown.
   */
  readonly #engineSocketLost = (reason: unknown): void => {
    const code = (reason as {code?: string})?.code
    if (!code || !['EPIPE', 'ECONNRESET', 'ENOENT', 'ECONNREFUSED'].includes(code)) throw reason
    this.emit({kind: 'warn', subject: 'local', message: `The Docker engine went away during a call (${code})`})
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      process.off('unhandledRejection', this.#engineSocketLost)
      clearInterval(this.#reclaimer)
      const server = this.#server
      await this.async.close() // queued events stay on disk for the next start
      this.mappings.close() // received messages not yet deleted reappear on the queue
      await this.urls.closeAll()
      await this.apis.closeAll()
      await this.versionPools.close()
      await Promise.all([this.async.drained(), this.mappings.drained()])
      await this.#forwarder?.close()
      await this.options.tmpDisks?.close()
      for (const gateway of this.#gatewayServers) {
        if ('closeAllConnections' in gateway) gateway.closeAllConnections()
        await new Promise<void>((resolve) => gateway.close(() => resolve()))
      }
      // Anything that slipped through (a container created while closing).
      for (const container of await findContainersByLabel(this.engine, `${LABEL}=${this.options.instanceId}`))
        await removeContainer(this.engine, container.id)
      // The network goes with the last service using it.
      if (this.options.network) await removeFunctionNetworkIfUnused(this.engine)
      // Last: a client waiting for the service to stop answering (faas local stop) finds nothing of it left.
      if (server) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
      this.#closedResolve()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
