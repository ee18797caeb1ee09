import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import type {Emit} from '../core/events.js'
import {badGateway, message, preflightResponse, requestEvent, responseOf, withCors} from './function-url.js'
import type {UrlEventContext, UrlResponse} from './function-url.js'
import {MAX_SYNC_REQUEST} from './invoke-api.js'
import {LambdaApiError} from './lambda-errors.js'
import {publicUrlAllowed} from './permissions.js'
import {NotRunError, ThrottledError, type FunctionPool} from './pool.js'
import {readBody} from './runtime-api.js'
import {verifySigV4, type KnownKey} from './sigv4.js'
import type {FunctionUrlConfig, LocalFunction, ServiceOptions, UrlFronts} from './types.js'
import {urlOf} from './url-config.js'
import {UrlStreamWriter} from './url-stream.js'

/**
 * The Function URLs' HTTP fronts: each URL listens on its own 127.0.0.1 port (any client reaches
 * http://127.0.0.1:<port>/ with no DNS set-up, and each URL is its own browser origin). A request
 * passes the Host check (DNS rebinding), the body limit, CORS preflight, the URL's auth (NONE: the
 * resource policy; AWS_IAM: a SigV4 signature with a key of this service), then becomes a payload
 * format 2.0 event for the function's pool; function-url.ts maps both ways (BUFFERED), url-stream.ts writes a
 * RESPONSE_STREAM answer as the function streams it.
 */

export interface FrontContext {
  functions: Map<string, LocalFunction>
  options: Pick<ServiceOptions, 'region' | 'accountId'>
  keyOf(accessKeyId: string): KnownKey | undefined
  pool(name: string): FunctionPool
  emit: Emit
}

/** A refusal to send, or who the caller is (for AWS_IAM URLs). */
type Authorization = {refused: UrlResponse} | {iam?: UrlEventContext['iam']}

interface Front {
  server: Server
  port: number
  urlId: string
}

/** The function and config a URL id belongs to now (configs change under a running front). */
function lookup(functions: Map<string, LocalFunction>, urlId: string) {
  for (const fn of functions.values()) {
    const config = fn.urls?.find((u) => u.urlId === urlId)
    if (config) return {fn, config}
  }
  return undefined
}

/** The status line and headers; a streamed answer has no length (it goes chunked). */
function writeHead(res: ServerResponse, response: UrlResponse, requestId: string | undefined, streaming: boolean) {
  const headers: Record<string, string | string[]> = {...response.headers}
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies
  if (requestId) headers['x-amzn-requestid'] = requestId
  if (streaming) delete headers['content-length']
  else headers['content-length'] = String(response.body.length)
  res.writeHead(response.status, headers)
}

function send(res: ServerResponse, response: UrlResponse, headOnly: boolean, requestId?: string): void {
  writeHead(res, response, requestId, false)
  res.end(headOnly ? undefined : response.body)
}

export class FunctionUrlFronts implements UrlFronts {
  readonly #fronts = new Map<string, Front>()

  constructor(private readonly ctx: FrontContext) {}

  async open(fn: LocalFunction, config: FunctionUrlConfig): Promise<number> {
    const running = this.#fronts.get(config.urlId)
    if (running) return running.port
    const server = createServer((req, res) => {
      this.#answer(config.urlId, server, req, res).catch((error) => {
        if (!res.headersSent) send(res, message(500, String((error as Error)?.message ?? error)), false)
        else res.destroy()
      })
    })
    server.keepAliveTimeout = 65_000
    server.requestTimeout = 0
    server.headersTimeout = 30_000
    let port: number
    try {
      port = await listenOn(server, config.port ?? 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !config.port) throw error
      port = await listenOn(server, 0)
      this.ctx.emit({
        kind: 'warn',
        subject: fn.name,
        message: `its URL's port ${config.port} is taken; the URL is now ${urlOf(port)}`,
      })
    }
    this.#fronts.set(config.urlId, {server, port, urlId: config.urlId})
    return port
  }

  async close(urlId: string): Promise<void> {
    const front = this.#fronts.get(urlId)
    if (!front) return
    this.#fronts.delete(urlId)
    front.server.closeAllConnections()
    await new Promise<void>((resolve) => front.server.close(() => resolve()))
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#fronts.keys()].map((id) => this.close(id)))
  }

  /** Every URL that answers, for health and `faas local status`. */
  list(): Array<{function: string; qualifier: string; url: string; authType: string; invokeMode: string}> {
    const urls = []
    for (const front of this.#fronts.values()) {
      const found = lookup(this.ctx.functions, front.urlId)
      if (!found) continue
      urls.push({
        function: found.fn.name,
        qualifier: found.config.qualifier,
        url: urlOf(front.port),
        authType: found.config.authType,
        invokeMode: found.config.invokeMode,
      })
    }
    return urls
  }

  async #answer(urlId: string, server: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headOnly = req.method === 'HEAD'
    const port = (server.address() as AddressInfo).port
    const found = lookup(this.ctx.functions, urlId)
    if (!found) {
      req.resume()
      return send(res, message(404, 'Not Found'), headOnly)
    }
    const {fn, config} = found
    // DNS rebinding: a page on another name that resolves to loopback sends its own name in Host.
    const host = String(req.headers.host ?? '').toLowerCase()
    const names = ['127.0.0.1', 'localhost', `${urlId}.lambda-url.${this.ctx.options.region}.localhost`]
    if (!names.some((name) => host === `${name}:${port}`)) {
      req.resume()
      return send(res, message(403, 'Forbidden'), headOnly)
    }
    const origin = req.headers.origin
    const body = await readBody(req, MAX_SYNC_REQUEST)
    if (body === undefined)
      return send(res, withCors(message(413, 'Request Entity Too Large'), config.cors, origin), false)
    if (config.cors && req.method === 'OPTIONS' && origin && req.headers['access-control-request-method']) {
      const preflight = preflightResponse(
        config.cors,
        origin,
        String(req.headers['access-control-request-method']),
        req.headers['access-control-request-headers'],
      )
      return send(res, preflight, false)
    }
    const auth = await this.#authorize(fn, config, req, body)
    if ('refused' in auth) return send(res, withCors(auth.refused, config.cors, origin), headOnly)
    const requestId = randomUUID()
    const event = requestEvent(
      {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      {urlId, region: this.ctx.options.region, requestId, now: Date.now(), iam: auth.iam},
    )
    const payload = Buffer.from(JSON.stringify(event))
    if (payload.length > MAX_SYNC_REQUEST)
      return send(res, withCors(message(413, 'Request Entity Too Large'), config.cors, origin), headOnly, requestId)
    if (config.invokeMode === 'RESPONSE_STREAM') {
      const head = (response: UrlResponse, streaming: boolean) =>
        writeHead(res, withCors(response, config.cors, origin), requestId, streaming)
      return this.#stream(fn, payload, requestId, new UrlStreamWriter(res, head, headOnly))
    }
    const response = await this.#invoke(fn, payload, requestId)
    send(res, withCors(response, config.cors, origin), headOnly, requestId)
  }

  /** RESPONSE_STREAM: the function's stream goes to the client as it comes (url-stream.ts reads its prelude). */
  async #stream(fn: LocalFunction, payload: Buffer, requestId: string, writer: UrlStreamWriter): Promise<void> {
    let result
    try {
      result = await this.ctx.pool(fn.name).invoke({
        payload,
        sync: true,
        waitForLogs: false,
        requestId,
        onChunk: (chunk, contentType) => writer.chunk(chunk, contentType),
      })
    } catch (error) {
      if (writer.opened) throw error // the client has the status line: the front cuts the connection
      if (error instanceof ThrottledError) return writer.refuse(message(429, 'Rate Exceeded.'))
      if (error instanceof NotRunError) return writer.refuse(badGateway())
      throw error
    }
    writer.end(result)
  }

  async #invoke(fn: LocalFunction, payload: Buffer, requestId: string): Promise<UrlResponse> {
    try {
      const result = await this.ctx.pool(fn.name).invoke({payload, sync: true, waitForLogs: false, requestId})
      return responseOf(result.payload, Boolean(result.functionError))
    } catch (error) {
      if (error instanceof ThrottledError) return message(429, 'Rate Exceeded.')
      if (error instanceof NotRunError) return badGateway()
      throw error
    }
  }

  /**
   * NONE: the resource policy must allow the public call (403 otherwise, as on Lambda). AWS_IAM: a valid
   * SigV4 signature (service lambda) with one of this service's keys; the caller is then the account's.
   */
  async #authorize(
    fn: LocalFunction,
    config: FunctionUrlConfig,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<Authorization> {
    if (config.authType === 'NONE')
      return publicUrlAllowed(fn, config.qualifier) ? {} : {refused: message(403, 'Forbidden')}
    const url = new URL(req.url ?? '/', 'http://local')
    try {
      const key = await verifySigV4(
        {
          method: req.method ?? 'GET',
          rawPath: (req.url ?? '/').split('?')[0]!,
          query: url.searchParams,
          headers: req.headers,
          body,
        },
        {region: this.ctx.options.region, lookup: (id) => this.ctx.keyOf(id)},
      )
      const accountId = this.ctx.options.accountId
      const accessKey = /Credential=([^/]+)\//.exec(String(req.headers.authorization))![1]!
      const userArn = key.scope === 'all' ? `arn:aws:iam::${accountId}:root` : key.principal
      return {iam: {accessKey, accountId, callerId: accountId, userArn, userId: accountId}}
    } catch (error) {
      if (error instanceof LambdaApiError) return {refused: message(403, error.message)}
      throw error
    }
  }
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => reject(error)
    server.once('error', failed)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed)
      resolve((server.address() as AddressInfo).port)
    })
  })
}
