import {randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {availableParallelism} from 'node:os'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {silent} from '../core/events.js'
import {findContainersByLabel, removeContainer} from '../docker/containers.js'
import {DockerEngine} from '../docker/engine.js'
import * as control from './control-api.js'
import {generateSecrets, type ServiceSecrets} from './credentials.js'
import {LABEL} from './environment.js'
import {FunctionPool, ThrottledError} from './pool.js'
import {readBody} from './runtime-api.js'
import {identityProof, verifySigV4, type KnownKey} from './sigv4.js'
import type {LocalFunction, ServiceOptions} from './types.js'

export const MAX_SYNC_REQUEST = 6 * 1024 * 1024
export const MAX_ASYNC_REQUEST = 256 * 1024
const LOG_TAIL_BYTES = 4096
const PID_LABEL = 'dev.faas.local.pid'

export const defaultServiceOptions = (overrides: Partial<ServiceOptions> = {}): ServiceOptions => ({
  port: 9001,
  region: 'us-east-1',
  accountId: '000000000000',
  instanceId: randomUUID(),
  maxEnvironmentsPerFunction: 16,
  idleTimeoutMs: 10 * 60_000,
  initTimeoutMs: 10_000,
  cpuFloor: 0.25,
  hostCpus: availableParallelism(),
  ...overrides,
  secrets: overrides.secrets ?? generateSecrets(),
})

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers})
  res.end(text)
}

function sendError(res: ServerResponse, error: control.LambdaApiError): void {
  sendJson(res, error.status, {Type: 'User', message: error.message, ...error.extra}, {'x-amzn-ErrorType': error.type})
}

/** The last 4 KB of an invocation's framed log, as Lambda's X-Amz-Log-Result carries it. */
export function logTail(lines: string[]): string {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64')
}

/**
 * The local Lambda service: the Invoke API and the control-plane subset on one 127.0.0.1 port,
 * one environment pool per function. `close()` removes every container it started.
 */
export class LocalService {
  readonly options: ServiceOptions
  readonly functions = new Map<string, LocalFunction>()
  readonly pools = new Map<string, FunctionPool>()
  /** The last lines of each function's log (START/END/REPORT framed). */
  readonly logs = new Map<string, string[]>()
  #server?: Server
  /** Session credentials handed to environments, by access key id. */
  #sessions = new Map<string, KnownKey & {expiresAt: number}>()
  /** Other addresses the service listens on (the functions' network gateway). */
  #extraHosts: string[] = []
  #reclaimer?: NodeJS.Timeout
  #closing?: Promise<void>
  #background = new Set<Promise<unknown>>()
  #closedResolve!: () => void
  /** Settles once close() has finished. */
  readonly closed = new Promise<void>((resolve) => (this.#closedResolve = resolve))

  constructor(
    readonly engine: DockerEngine = new DockerEngine(),
    options: Partial<ServiceOptions> = {},
    private readonly emit: Emit = silent,
  ) {
    this.options = defaultServiceOptions(options)
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`
  }

  /** The pair an SDK signs its requests to this service with. */
  get credentials(): {accessKeyId: string; secretAccessKey: string} {
    return {accessKeyId: this.options.secrets.accessKeyId, secretAccessKey: this.options.secrets.secretAccessKey}
  }

  async start(): Promise<this> {
    await this.engine.ping()
    await this.removeLeftovers()
    const server = createServer((req, res) => {
      this.#gate(req, res).catch((error) => {
        if (error instanceof control.LambdaApiError) sendError(res, error)
        else if (!res.headersSent) sendJson(res, 500, {Type: 'Service', message: String(error?.message ?? error)}, {'x-amzn-ErrorType': 'ServiceException'})
      })
    })
    server.keepAliveTimeout = 65_000
    server.requestTimeout = 0
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new UserError(`Port ${this.options.port} on 127.0.0.1 is already in use.`, {code: 'PORT_IN_USE', fix: 'Stop what uses it (`faas local stop` if it is a faas service) or choose another port with --port or FAAS_LOCAL_PORT.'})
            : error,
        ),
      )
      server.listen(this.options.port, '127.0.0.1', () => resolve())
    })
    this.#server = server
    this.options.port = (server.address() as AddressInfo).port
    const every = Math.max(100, Math.min(10_000, this.options.idleTimeoutMs / 2))
    this.#reclaimer = setInterval(() => {
      for (const pool of this.pools.values()) pool.reclaimIdle()
    }, every)
    this.#reclaimer.unref()
    return this
  }

  /** Removes containers left by services that are no longer running (a crash, a kill -9). */
  async removeLeftovers(): Promise<number> {
    let removed = 0
    for (const container of await findContainersByLabel(this.engine, LABEL)) {
      const pid = Number(container.labels[PID_LABEL])
      if (pid === process.pid && container.labels[LABEL] === this.options.instanceId) continue
      if (pid && pid !== process.pid && isAlive(pid)) continue
      await removeContainer(this.engine, container.id)
      removed++
    }
    return removed
  }

  #log(name: string, line: string): void {
    let lines = this.logs.get(name)
    if (!lines) this.logs.set(name, (lines = []))
    lines.push(line)
    if (lines.length > 2000) lines.splice(0, lines.length - 1000)
    this.emit({kind: 'log', subject: name, message: line})
  }

  #pool(name: string): FunctionPool {
    let pool = this.pools.get(name)
    if (!pool) {
      pool = new FunctionPool(this.engine, () => this.functions.get(name)!, this.options, (line) => this.#log(name, line))
      this.pools.set(name, pool)
    }
    return pool
  }

  #control(): control.ControlContext {
    return {
      engine: this.engine,
      functions: this.functions,
      region: this.options.region,
      accountId: this.options.accountId,
      changed: async (name, deleted) => {
        this.emit({kind: 'progress', subject: name, message: deleted ? 'deleted' : 'configured'})
        const pool = this.pools.get(name)
        if (!pool) return
        if (deleted) {
          this.pools.delete(name)
          await pool.close()
        } else {
          pool.reclaimIdle(Number.POSITIVE_INFINITY)
        }
      },
    }
  }

  /** The addresses (host:port) this service answers as: anything else in Host is refused. */
  get hosts(): Set<string> {
    const port = this.options.port
    return new Set([`127.0.0.1:${port}`, `localhost:${port}`, ...this.#extraHosts])
  }

  /**
   * Every request passes here first: a Host that is not our address (DNS rebinding) or any
   * browser Origin (a web page) is refused; then, except for the identity proof, a valid SigV4
   * signature with a key we issued. Nothing is read or changed before that.
   */
  async #gate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = String(req.headers.host ?? '')
    if (!this.hosts.has(host.toLowerCase())) {
      req.resume()
      throw new control.LambdaApiError(403, 'AccessDeniedException', `The local Lambda service answers only as ${[...this.hosts][0]}; the request named the host "${host.slice(0, 100)}".`)
    }
    if (req.headers.origin !== undefined) {
      req.resume()
      throw new control.LambdaApiError(403, 'AccessDeniedException', 'The local Lambda service refuses requests from web pages (the request carries an Origin header).')
    }
    const url = new URL(req.url ?? '/', 'http://local')
    if (url.pathname === '/faas/identity' && req.method === 'GET') {
      req.resume()
      const nonce = url.searchParams.get('nonce') ?? ''
      if (!/^[0-9a-f]{32,128}$/.test(nonce)) throw control.invalid('nonce must be 32 to 128 hexadecimal characters.')
      return sendJson(res, 200, {service: 'faas-local', region: this.options.region, proof: identityProof(this.options.secrets.identityKey, nonce, this.options.port)})
    }
    const body = await readBody(req, MAX_SYNC_REQUEST)
    if (body === undefined) throw new control.LambdaApiError(413, 'RequestTooLargeException', `Request must be smaller than ${MAX_SYNC_REQUEST} bytes.`)
    const rawPath = (req.url ?? '/').split('?')[0]!
    const key = await verifySigV4({method: req.method ?? 'GET', rawPath, query: url.searchParams, headers: req.headers, body}, {region: this.options.region, lookup: (id) => this.#keyOf(id)})
    return this.#route(req, res, url, body, key)
  }

  /** The key pair behind an access key id: the service's own, or session credentials it handed to an environment. */
  #keyOf(accessKeyId: string): KnownKey | undefined {
    const {secrets} = this.options
    if (accessKeyId === secrets.accessKeyId) return {secretAccessKey: secrets.secretAccessKey, scope: 'all', principal: `arn:aws:iam::${this.options.accountId}:user/faas-local`}
    const session = this.#sessions.get(accessKeyId)
    if (!session) return undefined
    if (session.expiresAt <= Date.now()) {
      this.#sessions.delete(accessKeyId)
      return undefined
    }
    return session
  }

  /**
   * Session credentials for a function's environment: they sign Invoke calls only, expire, and
   * are forgotten when the environment ends (revokeSession). How functions invoke functions.
   */
  issueSession(principal: string, lifetimeMs = 60 * 60_000): {accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date} {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`
    const secretAccessKey = randomBytes(30).toString('base64')
    const sessionToken = randomBytes(48).toString('base64')
    const expiresAt = Date.now() + lifetimeMs
    this.#sessions.set(accessKeyId, {secretAccessKey, sessionToken, scope: 'invoke', principal, expiresAt})
    return {accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt)}
  }

  /** Accepts credentials obtained elsewhere (STS, with --pass-credentials) as Invoke credentials of an environment. */
  acceptSession(credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date}, principal: string): void {
    this.#sessions.set(credentials.accessKeyId, {secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken, scope: 'invoke', principal, expiresAt: credentials.expiration?.getTime() ?? Date.now() + 60 * 60_000})
  }

  revokeSession(accessKeyId: string): void {
    this.#sessions.delete(accessKeyId)
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, key: KnownKey): Promise<void> {
    const path = url.pathname
    const method = req.method ?? 'GET'
    const ctx = this.#control()
    let m: RegExpExecArray | null
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path)) && method === 'POST') return this.#invoke(m[1]!, req, res, body)
    if (key.scope !== 'all') {
      throw new control.LambdaApiError(403, 'AccessDeniedException', `User: ${key.principal} is not authorized to perform: ${method} ${path} (function credentials may only invoke functions).`)
    }
    if (path === '/faas/health') return sendJson(res, 200, this.health())
    if (path === '/faas/shutdown' && method === 'POST') {
      sendJson(res, 202, {status: 'stopping'})
      void this.close()
      return
    }
    if ((m = /^\/faas\/functions\/([^/]+)\/logs$/.exec(path))) return sendJson(res, 200, {lines: this.logs.get(control.nameOf(m[1]!)) ?? []})
    if (/^\/2015-03-31\/functions\/?$/.test(path)) {
      if (method === 'GET') return sendJson(res, ...control.listFunctions(ctx))
      if (method === 'POST') return sendJson(res, ...(await control.createFunction(ctx, jsonBody(body))))
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/?$/.exec(path))) {
      if (method === 'GET') return sendJson(res, ...control.getFunction(ctx, m[1]!))
      if (method === 'DELETE') return sendJson(res, ...(await control.deleteFunction(ctx, m[1]!)))
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/.exec(path))) {
      if (method === 'GET') return sendJson(res, ...control.getConfiguration(ctx, m[1]!))
      if (method === 'PUT') return sendJson(res, ...(await control.updateConfiguration(ctx, m[1]!, jsonBody(body))))
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/code$/.exec(path)) && method === 'PUT') {
      return sendJson(res, ...(await control.updateCode(ctx, m[1]!, jsonBody(body))))
    }
    if ((m = /^\/20\d\d-\d\d-\d\d\/functions\/([^/]+)\/concurrency$/.exec(path))) {
      if (method === 'PUT') return sendJson(res, ...control.putConcurrency(ctx, m[1]!, jsonBody(body)))
      if (method === 'GET') return sendJson(res, ...control.getConcurrency(ctx, m[1]!))
      if (method === 'DELETE') return sendJson(res, ...control.deleteConcurrency(ctx, m[1]!))
    }
    throw new control.LambdaApiError(404, 'UnknownOperationException', `The local Lambda service does not implement ${method} ${path}.`)
  }

  async #invoke(ref: string, req: IncomingMessage, res: ServerResponse, received: Buffer): Promise<void> {
    const name = control.nameOf(ref)
    const fn = this.functions.get(name)
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw control.invalid(`1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`)
    }
    const limit = type === 'Event' ? MAX_ASYNC_REQUEST : MAX_SYNC_REQUEST
    const body = received.length > limit ? undefined : received
    if (!fn) throw control.notFound(control.arnOf(this.options, name))
    if (body === undefined) throw new control.LambdaApiError(413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`)
    const payload = body.length === 0 ? Buffer.from('{}') : body
    try {
      JSON.parse(payload.toString('utf8'))
    } catch (error) {
      throw new control.LambdaApiError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`)
    }
    const headers: Record<string, string> = {'X-Amz-Executed-Version': '$LATEST'}
    if (type === 'DryRun') return sendJson(res, 204, undefined, headers)
    const clientContext = req.headers['x-amz-client-context'] ? Buffer.from(String(req.headers['x-amz-client-context']), 'base64').toString('utf8') : undefined
    const pool = this.#pool(name)
    if (type === 'Event') {
      const requestId = randomUUID()
      const job = pool.invoke({payload, clientContext, waitForLogs: false, sync: false, requestId}).catch(() => {})
      this.#background.add(job)
      void job.finally(() => this.#background.delete(job))
      return sendJson(res, 202, undefined, {...headers, 'x-amzn-RequestId': requestId})
    }
    const tail = String(req.headers['x-amz-log-type'] ?? '').toLowerCase() === 'tail'
    let result
    try {
      result = await pool.invoke({payload, clientContext, waitForLogs: tail, sync: true})
    } catch (error) {
      if (error instanceof ThrottledError) throw new control.LambdaApiError(429, 'TooManyRequestsException', 'Rate Exceeded.', {Reason: error.reason})
      throw error
    }
    headers['x-amzn-RequestId'] = result.requestId
    if (result.functionError) headers['X-Amz-Function-Error'] = result.functionError
    if (tail) headers['X-Amz-Log-Result'] = logTail(result.logLines)
    res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': String(result.payload.length), ...headers})
    res.end(result.payload)
  }

  health(): Record<string, unknown> {
    return {
      service: 'faas-local',
      pid: process.pid,
      id: this.options.instanceId,
      url: this.url,
      region: this.options.region,
      s3Endpoint: this.options.s3Endpoint,
      idleTimeoutMs: this.options.idleTimeoutMs,
      functions: [...this.functions.keys()],
      environments: Object.fromEntries([...this.pools].map(([name, pool]) => [name, pool.stats()])),
    }
  }

  /** Stops serving and removes every container this service started. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#reclaimer)
      const server = this.#server
      await Promise.all([...this.pools.values()].map((pool) => pool.close()))
      if (server) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
      // Anything that slipped through (a container created while closing).
      for (const container of await findContainersByLabel(this.engine, `${LABEL}=${this.options.instanceId}`)) await removeContainer(this.engine, container.id)
      this.#closedResolve()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

function jsonBody(body: Buffer): Record<string, any> {
  if (body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new control.LambdaApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json.')
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export {PID_LABEL}
