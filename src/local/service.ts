import {GetSessionTokenCommand, STSClient} from '@aws-sdk/client-sts'
import {createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID, timingSafeEqual} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {readFileSync, readlinkSync} from 'node:fs'
import type {AddressInfo} from 'node:net'

import {UserError} from '../core/errors.js'
import {readJsonFileSync, writeJsonFileSync} from '../core/files.js'
import type {Emit} from '../core/events.js'
import {silent} from '../core/events.js'
import {findContainersByLabel, removeContainer} from '../docker/containers.js'
import {DockerEngine} from '../docker/engine.js'
import {ensureFunctionNetwork, removeFunctionNetworkIfUnused} from '../docker/networks.js'
import * as control from './control-api.js'
import {forwardToLoopback, isLoopbackEndpoint, type LoopbackForwarder} from './loopback-forwarder.js'
import {generateSecrets} from './credentials.js'
import {LABEL} from './environment.js'
import {checkServiceOptions, defined, serviceDefaults} from './options.js'
import {FunctionPool, NotRunError, ThrottledError} from './pool.js'
import {readBody} from './runtime-api.js'
import {identityProof, verifySigV4, type KnownKey} from './sigv4.js'
import type {EnvironmentGrants, LocalFunction, ServiceOptions} from './types.js'

/** Session credentials as the container-credentials endpoint serves them. */
interface SessionCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration: Date
}

/** Credentials are renewed when less than this is left (botocore refreshes 15 min before expiry). */
const RENEW_BEFORE_MS = 20 * 60_000

export const MAX_SYNC_REQUEST = 6 * 1024 * 1024
export const MAX_ASYNC_REQUEST = 256 * 1024
const LOG_TAIL_BYTES = 4096
const PID_LABEL = 'dev.faas.local.pid'
export const PORT_LABEL = 'dev.faas.local.port'
export const PIDNS_LABEL = 'dev.faas.local.pidns'

export const defaultServiceOptions = (overrides: Partial<ServiceOptions> = {}): ServiceOptions =>
  checkServiceOptions({
    ...serviceDefaults(),
    instanceId: randomUUID(),
    ...defined(overrides),
    secrets: overrides.secrets ?? generateSecrets(),
  })

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  })
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
  /** Listeners on the functions' network: the API for functions. */
  #gatewayServers: Server[] = []
  /** The S3 forwarder on the functions' network. */
  /** Container-credentials grants by id: the token's secret half, who may use it, what it was given. */
  #grants = new Map<
    string,
    {secret: Buffer; fn: LocalFunction; peer: () => Promise<string | undefined>; issued?: SessionCredentials}
  >()
  #forwarder?: LoopbackForwarder
  /** With --pass-credentials: the user's keys exchanged for an STS session, shared by environments. */
  #passed?: Promise<SessionCredentials>
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
    this.#loadFunctions()
    const server = createServer((req, res) => {
      this.#gate(req, res).catch((error) => {
        if (error instanceof control.LambdaApiError) sendError(res, error)
        else if (!res.headersSent)
          sendJson(
            res,
            500,
            {Type: 'Service', message: String(error?.message ?? error)},
            {'x-amzn-ErrorType': 'ServiceException'},
          )
      })
    })
    server.keepAliveTimeout = 65_000
    server.requestTimeout = 0
    // Everything is in place before the port answers: a client that sees /faas/health also finds
    // the gateway open and (once start() returns, in the same tick) the state file written.
    await this.#openGateway(server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void)
    try {
      await new Promise<void>((resolve, reject) => {
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
    } catch (error) {
      await this.close() // the gateway's listeners would otherwise keep the process alive
      throw error
    }
    this.#server = server
    this.options.port = (server.address() as AddressInfo).port
    const every = Math.max(100, Math.min(10_000, this.options.idleTimeoutMs / 2))
    this.#reclaimer = setInterval(() => {
      for (const pool of this.pools.values()) pool.reclaimIdle()
    }, every)
    this.#reclaimer.unref()
    return this
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
    const apiPort = await listen(api, network.gateway)
    this.#gatewayServers.push(api)
    this.#extraHosts.push(`${network.gateway}:${apiPort}`)
    const s3 = this.options.s3Endpoint ? new URL(this.options.s3Endpoint) : undefined
    if (s3 && isLoopbackEndpoint(s3.href)) {
      const forwarder = await forwardToLoopback(network.gateway, Number(s3.port || 80))
      this.#forwarder = forwarder
      this.options.functionS3Endpoint = `${s3.protocol}//${network.gateway}:${forwarder.port}`
    }
    const grants: EnvironmentGrants = {
      serviceUrl: `http://${network.gateway}:${apiPort}`,
      open: (fn, peer) => {
        const id = randomUUID()
        const secret = randomBytes(32)
        this.#grants.set(id, {secret, fn, peer})
        return {
          token: `${id}.${secret.toString('hex')}`,
          close: () => {
            const grant = this.#grants.get(id)
            if (grant?.issued && !this.#passed) this.revokeSession(grant.issued.accessKeyId)
            this.#grants.delete(id)
          },
        }
      },
    }
    this.options.grants = grants
    if (this.options.credentials) {
      this.#passed = this.#exchange(this.options.credentials)
      await this.#passed
    }
  }

  /**
   * --pass-credentials: the user's long-lived keys never reach a container; STS turns them into
   * a session (GetSessionToken) that environments get from the credentials endpoint. Keys that
   * are already a session are served as they are.
   */
  async #exchange(user: NonNullable<ServiceOptions['credentials']>): Promise<SessionCredentials> {
    let session: SessionCredentials
    if (user.sessionToken) {
      session = {
        accessKeyId: user.accessKeyId,
        secretAccessKey: user.secretAccessKey,
        sessionToken: user.sessionToken,
        expiration: new Date(Date.now() + 60 * 60_000),
      }
    } else {
      const sts = new STSClient({
        region: this.options.region,
        credentials: {accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey},
        maxAttempts: 3,
      })
      try {
        const out = await sts.send(new GetSessionTokenCommand({DurationSeconds: 3600}))
        const c = out.Credentials!
        session = {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken,
          expiration: c.Expiration ?? new Date(Date.now() + 60 * 60_000),
        }
      } catch (error) {
        throw new UserError(
          `--pass-credentials: STS did not exchange your AWS keys for session credentials (${(error as Error).name}).`,
          {
            code: 'PASS_CREDENTIALS_FAILED',
            fix:
              'Functions get only short-lived credentials: make STS reachable (AWS_ENDPOINT_URL_STS for an ' +
              'emulator), use session credentials (AWS_SESSION_TOKEN), or leave out --pass-credentials.',
          },
        )
      } finally {
        sts.destroy()
      }
    }
    this.acceptSession(session, `arn:aws:sts::${this.options.accountId}:federated-user/faas-local`)
    return session
  }

  /**
   * GET /faas/credentials with the environment's token, from the environment's own address: what its SDK signs with.
   */
  async #serveCredentials(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume()
    const [id = '', secret = ''] = String(req.headers.authorization ?? '').split('.')
    const grant = this.#grants.get(id)
    const given = Buffer.from(secret, 'hex')
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    if (
      !grant ||
      given.length !== grant.secret.length ||
      !timingSafeEqual(given, grant.secret) ||
      peer !== (await grant.peer())
    ) {
      return sendJson(res, 403, {message: 'The authorization token is not valid for this environment.'})
    }
    let creds: SessionCredentials
    if (this.#passed) {
      let passed = await this.#passed
      if (passed.expiration.getTime() - Date.now() < RENEW_BEFORE_MS && this.options.credentials)
        passed = await (this.#passed = this.#exchange(this.options.credentials))
      creds = passed
    } else {
      if (!grant.issued || grant.issued.expiration.getTime() - Date.now() < RENEW_BEFORE_MS) {
        grant.issued = this.issueSession(
          `arn:aws:sts::${this.options.accountId}:assumed-role/${grant.fn.name}-role/${grant.fn.name}`,
        )
      }
      creds = grant.issued
    }
    return sendJson(res, 200, {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      Token: creds.sessionToken,
      Expiration: creds.expiration.toISOString(),
      RoleArn: `arn:aws:iam::${this.options.accountId}:role/${grant.fn.name}-role`,
    })
  }

  /**
   * Removes containers left by services proven gone (a crash, a kill -9): same PID namespace, the
   * process no longer exists, and nothing answers on the port it served. Anything unproven stays.
   */
  async removeLeftovers(): Promise<number> {
    let removed = 0
    for (const container of await findContainersByLabel(this.engine, LABEL)) {
      if (container.labels[LABEL] === this.options.instanceId) continue
      if (!(await provenGone(container.labels))) continue
      await removeContainer(this.engine, container.id)
      removed++
    }
    return removed
  }

  /**
   * Functions a previous service on the same FAAS_HOME knew (a corrupt file stops the start, naming
   * it). Their variables may be secrets: they are kept encrypted, as Lambda keeps them, under a key
   * derived from the service's own secret; a function whose variables cannot be opened (the key was
   * replaced) is left out with a warning to deploy it again.
   */
  #loadFunctions(): void {
    const file = this.options.functionsFile
    if (!file) return
    const saved = readJsonFileSync<{
      functions?: Array<Omit<LocalFunction, 'env'> & {env?: unknown; sealedEnv?: SealedEnv}>
    }>(file, {
      what: "the local service's functions",
      fix: `Repair it, or remove it and deploy your functions again (faas deploy --target local).`,
    })
    for (const fn of saved?.functions ?? []) {
      if (typeof fn?.name !== 'string' || typeof fn.imageUri !== 'string') continue
      const env = fn.sealedEnv ? openEnv(fn.sealedEnv, this.options.secrets.identityKey) : {}
      if (!env) {
        this.emit({
          kind: 'warn',
          subject: fn.name,
          message:
            `its saved variables cannot be opened with this service's key; deploy it again (faas deploy ` +
            `--target local)`,
        })
        continue
      }
      const {sealedEnv: _sealed, ...rest} = fn
      this.functions.set(fn.name, {
        ...rest,
        env,
        ephemeralStorageMb: fn.ephemeralStorageMb ?? 512,
        logFormat: fn.logFormat ?? 'Text',
        revision: fn.revision ?? 1,
      })
    }
  }

  /** Saves the functions atomically (variables encrypted), so a restarted service still knows them. */
  #saveFunctions(): void {
    const file = this.options.functionsFile
    if (!file) return
    try {
      const functions = [...this.functions.values()].map(({env, ...fn}) => ({
        ...fn,
        sealedEnv: sealEnv(env, this.options.secrets.identityKey),
      }))
      writeJsonFileSync(file, {functions})
    } catch (error) {
      this.emit({
        kind: 'warn',
        subject: 'local',
        message: `${(error as Error).message} A restarted service will not know the latest functions.`,
      })
    }
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
      pool = new FunctionPool(
        this.engine,
        () => this.functions.get(name)!,
        this.options,
        (line) => this.#log(name, line),
      )
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
      changed: async (name, what) => {
        this.emit({kind: 'progress', subject: name, message: what})
        this.#saveFunctions()
        const pool = this.pools.get(name)
        if (!pool) return
        if (what === 'deleted') {
          this.pools.delete(name)
          await pool.close()
        } else if (what === 'concurrency') {
          pool.wakeAll()
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
      throw new control.LambdaApiError(
        403,
        'AccessDeniedException',
        `The local Lambda service answers only as ${[...this.hosts][0]}; the request named the host ` +
          `"${host.slice(0, 100)}".`,
      )
    }
    if (req.headers.origin !== undefined) {
      req.resume()
      throw new control.LambdaApiError(
        403,
        'AccessDeniedException',
        'The local Lambda service refuses requests from web pages (the request carries an Origin header).',
      )
    }
    const url = new URL(req.url ?? '/', 'http://local')
    if (url.pathname === '/faas/identity' && req.method === 'GET') {
      req.resume()
      const nonce = url.searchParams.get('nonce') ?? ''
      if (!/^[0-9a-f]{32,128}$/.test(nonce)) throw control.invalid('nonce must be 32 to 128 hexadecimal characters.')
      return sendJson(res, 200, {
        service: 'faas-local',
        region: this.options.region,
        proof: identityProof(this.options.secrets.identityKey, nonce, this.options.port),
      })
    }
    if (url.pathname === '/faas/credentials' && req.method === 'GET') return this.#serveCredentials(req, res)
    const body = await readBody(req, MAX_SYNC_REQUEST)
    if (body === undefined)
      throw new control.LambdaApiError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_SYNC_REQUEST} bytes.`,
      )
    const rawPath = (req.url ?? '/').split('?')[0]!
    const key = await verifySigV4(
      {method: req.method ?? 'GET', rawPath, query: url.searchParams, headers: req.headers, body},
      {region: this.options.region, lookup: (id) => this.#keyOf(id)},
    )
    return this.#route(req, res, url, body, key)
  }

  /** The key pair behind an access key id: the service's own, or session credentials it handed to an environment. */
  #keyOf(accessKeyId: string): KnownKey | undefined {
    const {secrets} = this.options
    if (accessKeyId === secrets.accessKeyId)
      return {
        secretAccessKey: secrets.secretAccessKey,
        scope: 'all',
        principal: `arn:aws:iam::${this.options.accountId}:user/faas-local`,
      }
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
  issueSession(
    principal: string,
    lifetimeMs = 60 * 60_000,
  ): {accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date} {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`
    const secretAccessKey = randomBytes(30).toString('base64')
    const sessionToken = randomBytes(48).toString('base64')
    const expiresAt = Date.now() + lifetimeMs
    this.#sessions.set(accessKeyId, {secretAccessKey, sessionToken, scope: 'invoke', principal, expiresAt})
    return {accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt)}
  }

  /** Accepts credentials obtained elsewhere (STS, with --pass-credentials) as Invoke credentials of an environment. */
  acceptSession(
    credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date},
    principal: string,
  ): void {
    this.#sessions.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      scope: 'invoke',
      principal,
      expiresAt: credentials.expiration?.getTime() ?? Date.now() + 60 * 60_000,
    })
  }

  revokeSession(accessKeyId: string): void {
    this.#sessions.delete(accessKeyId)
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, key: KnownKey): Promise<void> {
    const path = url.pathname
    const method = req.method ?? 'GET'
    const ctx = this.#control()
    let m: RegExpExecArray | null
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path)) && method === 'POST')
      return this.#invoke(m[1]!, req, res, body)
    if (key.scope !== 'all') {
      throw new control.LambdaApiError(
        403,
        'AccessDeniedException',
        `User: ${key.principal} is not authorized to perform: ${method} ${path} (function credentials may only ` +
          `invoke functions).`,
      )
    }
    if (path === '/faas/health') return sendJson(res, 200, this.health())
    if (path === '/faas/shutdown' && method === 'POST') {
      sendJson(res, 202, {status: 'stopping'})
      void this.close()
      return
    }
    if ((m = /^\/faas\/functions\/([^/]+)\/logs$/.exec(path)))
      return sendJson(res, 200, {lines: this.logs.get(control.nameOf(m[1]!)) ?? []})
    if (/^\/2015-03-31\/functions\/?$/.test(path)) {
      if (method === 'GET') return sendJson(res, ...control.listFunctions(ctx))
      if (method === 'POST')
        return sendJson(res, ...(await control.createFunction(ctx, jsonBody(body) as control.CreateFunctionBody)))
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/?$/.exec(path))) {
      if (method === 'GET') return sendJson(res, ...control.getFunction(ctx, m[1]!))
      if (method === 'DELETE') return sendJson(res, ...(await control.deleteFunction(ctx, m[1]!)))
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/.exec(path))) {
      if (method === 'GET') return sendJson(res, ...control.getConfiguration(ctx, m[1]!))
      if (method === 'PUT')
        return sendJson(
          res,
          ...(await control.updateConfiguration(ctx, m[1]!, jsonBody(body) as control.UpdateConfigurationBody)),
        )
    }
    if ((m = /^\/2015-03-31\/functions\/([^/]+)\/code$/.exec(path)) && method === 'PUT') {
      return sendJson(res, ...(await control.updateCode(ctx, m[1]!, jsonBody(body) as control.UpdateCodeBody)))
    }
    if ((m = /^\/20\d\d-\d\d-\d\d\/functions\/([^/]+)\/concurrency$/.exec(path))) {
      if (method === 'PUT')
        return sendJson(
          res,
          ...(await control.putConcurrency(ctx, m[1]!, jsonBody(body) as control.PutConcurrencyBody)),
        )
      if (method === 'GET') return sendJson(res, ...control.getConcurrency(ctx, m[1]!))
      if (method === 'DELETE') return sendJson(res, ...(await control.deleteConcurrency(ctx, m[1]!)))
    }
    throw new control.LambdaApiError(
      404,
      'UnknownOperationException',
      `The local Lambda service does not implement ${method} ${path}.`,
    )
  }

  async #invoke(ref: string, req: IncomingMessage, res: ServerResponse, received: Buffer): Promise<void> {
    const name = control.nameOf(ref)
    const fn = this.functions.get(name)
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw control.invalid(
        `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must ` +
          `satisfy enum value set: [Event, RequestResponse, DryRun]`,
      )
    }
    const limit = type === 'Event' ? MAX_ASYNC_REQUEST : MAX_SYNC_REQUEST
    const body = received.length > limit ? undefined : received
    if (!fn) throw control.notFound(control.arnOf(this.options, name))
    if (body === undefined)
      throw new control.LambdaApiError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
      )
    const payload = body.length === 0 ? Buffer.from('{}') : body
    try {
      JSON.parse(payload.toString('utf8'))
    } catch (error) {
      throw new control.LambdaApiError(
        400,
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(error as Error).message}`,
      )
    }
    const headers: Record<string, string> = {'X-Amz-Executed-Version': '$LATEST'}
    if (type === 'DryRun') return sendJson(res, 204, undefined, headers)
    const clientContext = req.headers['x-amz-client-context']
      ? Buffer.from(String(req.headers['x-amz-client-context']), 'base64').toString('utf8')
      : undefined
    const pool = this.#pool(name)
    if (type === 'Event') {
      const requestId = randomUUID()
      // Accepted at once, as on Lambda; it waits for concurrency up to the maximum event age, then is discarded.
      const job = pool.invoke({payload, clientContext, waitForLogs: false, sync: false, requestId}).catch((error) => {
        this.#log(
          name,
          `EVENT RequestId: ${requestId} ` +
            `discarded: ${error instanceof NotRunError ? error.message : String((error as Error)?.message ?? error)}`,
        )
      })
      this.#background.add(job)
      void job.finally(() => this.#background.delete(job))
      return sendJson(res, 202, undefined, {...headers, 'x-amzn-RequestId': requestId})
    }
    const tail = String(req.headers['x-amz-log-type'] ?? '').toLowerCase() === 'tail'
    let result
    try {
      result = await pool.invoke({payload, clientContext, waitForLogs: tail, sync: true})
    } catch (error) {
      if (error instanceof ThrottledError)
        throw new control.LambdaApiError(429, 'TooManyRequestsException', 'Rate Exceeded.', {Reason: error.reason})
      if (error instanceof NotRunError) throw new control.LambdaApiError(500, 'ServiceException', error.message)
      throw error
    }
    headers['x-amzn-RequestId'] = result.requestId
    if (result.functionError) headers['X-Amz-Function-Error'] = result.functionError
    // Not Lambda's: says the figures came from an emulated environment (the REPORT line says so too).
    if (result.emulated) headers['X-Faas-Emulated'] = 'true'
    if (tail) headers['X-Amz-Log-Result'] = logTail(result.logLines)
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': String(result.payload.length),
      ...headers,
    })
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
      await this.#forwarder?.close()
      for (const gateway of this.#gatewayServers) {
        if ('closeAllConnections' in gateway) gateway.closeAllConnections()
        await new Promise<void>((resolve) => gateway.close(() => resolve()))
      }
      // Anything that slipped through (a container created while closing).
      for (const container of await findContainersByLabel(this.engine, `${LABEL}=${this.options.instanceId}`))
        await removeContainer(this.engine, container.id)
      // The network goes with the last service using it.
      if (this.options.network) await removeFunctionNetworkIfUnused(this.engine)
      this.#closedResolve()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** A function's variables encrypted at rest (AES-256-GCM). */
interface SealedEnv {
  iv: string
  tag: string
  data: string
}

const envKey = (identityKey: string): Buffer =>
  Buffer.from(
    hkdfSync('sha256', Buffer.from(identityKey, 'utf8'), Buffer.alloc(0), 'faas-local function variables', 32),
  )

function sealEnv(env: Record<string, string>, identityKey: string): SealedEnv {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', envKey(identityKey), iv)
  const data = Buffer.concat([cipher.update(JSON.stringify(env), 'utf8'), cipher.final()])
  return {iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64')}
}

function openEnv(sealed: SealedEnv, identityKey: string): Record<string, string> | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', envKey(identityKey), Buffer.from(sealed.iv, 'base64'))
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    return JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8'),
    )
  } catch {
    return undefined
  }
}

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new control.LambdaApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json.')
  }
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port))
  })
}

/** This process's PID namespace (`pid:[4026531836]`): a pid label means something only within it. */
export function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return 'unknown'
  }
}

/** Does the process exist? EPERM means it does (another user's): only ESRCH proves it gone. */
export function processGone(
  pid: number,
  kill: (pid: number, signal: 0) => void = (p, sig) => process.kill(p, sig),
): boolean {
  try {
    kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  // A killed service whose parent has not reaped it yet still answers kill 0: a zombie is gone too.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** A leftover's service is gone only when all of these hold; any doubt keeps its containers. */
export async function provenGone(
  labels: Record<string, string>,
  kill?: (pid: number, signal: 0) => void,
): Promise<boolean> {
  const pid = Number(labels[PID_LABEL])
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  if ((labels[PIDNS_LABEL] ?? pidNamespace()) !== pidNamespace()) return false
  if (!processGone(pid, kill)) return false
  const port = Number(labels[PORT_LABEL])
  if (port > 0) {
    const answers = await fetch(`http://127.0.0.1:${port}/faas/identity`, {signal: AbortSignal.timeout(1000)}).then(
      () => true,
      (error: {cause?: {code?: string}}) => error?.cause?.code !== 'ECONNREFUSED',
    )
    if (answers) return false
  }
  return true
}

export {PID_LABEL}
