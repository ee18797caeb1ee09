import {randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {checkApi, matchRoute, type ApiRoute, type ParsedRoute} from '../core/api-routes.js'
import {isUserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {readJsonFileSync, writeJsonFileSync} from '../core/files.js'
import {apiMessage, internalError, notFound, routeEvent, routeResponse} from './api-event.js'
import type {UrlResponse} from './function-url.js'
import {MAX_SYNC_REQUEST} from './invoke-api.js'
import {invalid} from './lambda-errors.js'
import {NotRunError, ThrottledError, type FunctionPool} from './pool.js'
import {readBody} from './runtime-api.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * A benchmark's HTTP API on the local service (what `sam local start-api` serves, and an API Gateway HTTP
 * API on AWS): one 127.0.0.1 port per API, its stage as the first path segment, API Gateway's route
 * matching (core/api-routes.ts) and each route's payload format (api-event.ts). APIs are put whole
 * (PUT /faas/apis/{name}) and kept in apis.json beside the functions, so a restarted service answers on the
 * same port.
 */

export interface LocalApi {
  name: string
  /** 10 lowercase letters and digits, as API Gateway's ids: the events' apiId. */
  apiId: string
  stage: string
  /** Routes with deployed function names. */
  routes: ApiRoute[]
  port?: number
}

export interface ApiContext {
  functions: Map<string, LocalFunction>
  options: Pick<ServiceOptions, 'region' | 'accountId'>
  pool(name: string): FunctionPool
  emit: Emit
  /** Where APIs are kept; none: memory only. */
  file?: string
}

interface Running {
  api: LocalApi
  routes: ParsedRoute[]
  server: Server
  port: number
}

const urlOf = (api: {stage: string}, port: number) =>
  `http://127.0.0.1:${port}${api.stage === '$default' ? '/' : `/${api.stage}`}`

function send(res: ServerResponse, response: UrlResponse, headOnly: boolean, requestId?: string): void {
  const headers: Record<string, string | string[]> = {...response.headers}
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies
  if (requestId) headers['apigw-requestid'] = requestId
  headers['content-length'] = String(response.body.length)
  res.writeHead(response.status, headers)
  res.end(headOnly ? undefined : response.body)
}

export class ApiFronts {
  readonly #running = new Map<string, Running>()

  constructor(private readonly ctx: ApiContext) {}

  /** APIs a previous service kept, answering again (on their ports when free). */
  async reopen(): Promise<void> {
    const saved = this.ctx.file
      ? readJsonFileSync<{apis?: LocalApi[]}>(this.ctx.file, {
          what: "the local service's APIs",
          fix: 'Repair it, or remove it and deploy the benchmarks with APIs again.',
        })
      : undefined
    for (const api of saved?.apis ?? []) await this.put(api.name, {stage: api.stage, routes: api.routes}, api)
  }

  /** Creates or replaces an API; the port stays when it exists. Answers as the API's description. */
  async put(name: string, given: {stage?: unknown; routes?: unknown}, saved?: LocalApi) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) throw invalid(`API name "${name}" is not one.`)
    const stage = typeof given.stage === 'string' ? given.stage : '$default'
    if (!Array.isArray(given.routes)) throw invalid('routes must be a list of {routeKey, function, payloadFormat}.')
    const routes = given.routes as ApiRoute[]
    let parsed: ParsedRoute[]
    try {
      parsed = checkApi({stage, routes}, [...new Set(routes.map((r) => r.function))], `API ${name}`)
    } catch (error) {
      if (isUserError(error)) throw invalid(`${error.message} ${error.fix ?? ''}`.trim())
      throw error
    }
    const running = this.#running.get(name)
    const api: LocalApi = {
      name,
      apiId: running?.api.apiId ?? saved?.apiId ?? randomBytes(5).toString('hex'),
      stage,
      routes: routes.map((r) => ({routeKey: r.routeKey, function: r.function, payloadFormat: r.payloadFormat})),
    }
    if (running) {
      running.api = {...api, port: running.port}
      running.routes = parsed
    } else {
      const entry: Running = {api, routes: parsed, server: createServer(), port: 0}
      entry.server.on('request', (req, res) => {
        this.#answer(entry, req, res).catch((error) => {
          if (!res.headersSent) send(res, apiMessage(500, String((error as Error)?.message ?? error)), false)
          else res.destroy()
        })
      })
      entry.server.keepAliveTimeout = 65_000
      entry.server.requestTimeout = 0
      entry.port = await this.#listen(entry.server, saved?.port ?? 0, name)
      entry.api = {...api, port: entry.port}
      this.#running.set(name, entry)
    }
    this.#save()
    return this.#describe(this.#running.get(name)!)
  }

  async delete(name: string): Promise<boolean> {
    const running = this.#running.get(name)
    if (!running) return false
    this.#running.delete(name)
    running.server.closeAllConnections()
    await new Promise<void>((resolve) => running.server.close(() => resolve()))
    this.#save()
    return true
  }

  async closeAll(): Promise<void> {
    for (const running of this.#running.values()) {
      running.server.closeAllConnections()
      await new Promise<void>((resolve) => running.server.close(() => resolve()))
    }
    this.#running.clear()
  }

  /** Every API that answers, for health, `faas local status` and GET /faas/apis. */
  list() {
    return [...this.#running.values()].map((r) => this.#describe(r))
  }

  #describe(r: Running) {
    return {name: r.api.name, apiId: r.api.apiId, stage: r.api.stage, url: urlOf(r.api, r.port), routes: r.api.routes}
  }

  #save(): void {
    if (!this.ctx.file) return
    try {
      writeJsonFileSync(this.ctx.file, {apis: [...this.#running.values()].map((r) => r.api)})
    } catch (error) {
      this.ctx.emit({kind: 'warn', subject: 'local', message: `${(error as Error).message} APIs were not saved.`})
    }
  }

  async #listen(server: Server, port: number, name: string): Promise<number> {
    const listenOn = (p: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject)
        server.listen(p, '127.0.0.1', () => {
          server.off('error', reject)
          resolve((server.address() as AddressInfo).port)
        })
      })
    try {
      return await listenOn(port)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !port) throw error
      const moved = await listenOn(0)
      this.ctx.emit({kind: 'warn', subject: name, message: `its API's port ${port} is taken; it is now ${moved}`})
      return moved
    }
  }

  async #answer(entry: Running, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headOnly = req.method === 'HEAD'
    // DNS rebinding: a page on another name that resolves to loopback sends its own name in Host.
    const host = String(req.headers.host ?? '').toLowerCase()
    if (![`127.0.0.1:${entry.port}`, `localhost:${entry.port}`].includes(host)) {
      req.resume()
      return send(res, apiMessage(403, 'Forbidden'), headOnly)
    }
    const body = await readBody(req, MAX_SYNC_REQUEST)
    if (body === undefined) return send(res, apiMessage(413, 'Request Entity Too Large'), false)
    const target = req.url ?? '/'
    const path = target.split('?')[0]!
    const stage = entry.api.stage
    const prefix = `/${stage}`
    const inStage = stage === '$default' || path === prefix || path.startsWith(`${prefix}/`)
    const match = inStage
      ? matchRoute(entry.routes, req.method ?? 'GET', stage === '$default' ? path : path.slice(prefix.length))
      : undefined
    if (!match) return send(res, notFound(), headOnly)
    const requestId = randomUUID()
    const event = routeEvent(
      {
        method: req.method ?? 'GET',
        target,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      match,
      {...this.ctx.options, apiId: entry.api.apiId, stage, requestId, now: Date.now()},
    )
    const payload = Buffer.from(JSON.stringify(event))
    if (payload.length > MAX_SYNC_REQUEST) return send(res, apiMessage(413, 'Request Entity Too Large'), headOnly)
    const fn = match.route.function
    if (!this.ctx.functions.has(fn)) return send(res, internalError(), headOnly, requestId)
    try {
      const result = await this.ctx.pool(fn).invoke({payload, sync: true, waitForLogs: false, requestId})
      send(
        res,
        routeResponse(match.route.payloadFormat, result.payload, Boolean(result.functionError)),
        headOnly,
        requestId,
      )
    } catch (error) {
      if (error instanceof ThrottledError) return send(res, apiMessage(429, 'Too Many Requests'), headOnly, requestId)
      if (error instanceof NotRunError) return send(res, internalError(), headOnly, requestId)
      throw error
    }
  }
}
