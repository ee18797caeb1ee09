import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

/**
 * The Lambda Runtime API for ONE execution environment, on its own 127.0.0.1 port: the runtime
 * interface client in the container long-polls `next` and answers on `response` / `error`, or
 * reports `init/error`. The environment decides what each call means; this is only the HTTP layer.
 */

// What Lambda (and the RIE) allow and name in the error message.
export const MAX_RESPONSE_BYTES = 6291556
/** Streamed responses (Lambda-Runtime-Function-Response-Mode: streaming): at most 200 MB, the first 6 MB at full
 * speed, then about 2 MB/s, as Lambda documents. */
export const MAX_STREAMED_BYTES = 200 * 1024 * 1024
export const FULL_SPEED_BYTES = 6 * 1024 * 1024
export const STREAM_BYTES_PER_SECOND = 2 * 1024 * 1024

export interface NextEvent {
  requestId: string
  payload: Buffer
  deadlineMs: number
  functionArn: string
  clientContext?: string
}

export interface RuntimeHandlers {
  /** The runtime asks for work; call `deliver` once an event exists (possibly much later). */
  next(deliver: (event: NextEvent) => void, res: ServerResponse): void
  response(requestId: string, body: Buffer): boolean
  error(requestId: string, body: Buffer, errorType: string | undefined): boolean
  oversize(requestId: string): boolean
  initError(body: Buffer, errorType: string | undefined): void
  /**
   * A streamed response begins (its Content-Type as the runtime set it): where its chunks go, or undefined when the
   * request id is not the current one.
   */
  streamStart?(requestId: string, contentType: string | undefined): ((chunk: Buffer) => unknown) | undefined
  /**
   * The sandbox helper asks for the function's hidden variables: `deliver` them once (possibly much later, when a
   * prepared sandbox is claimed), or undefined when they were already handed over.
   */
  sandboxEnv?(deliver: (vars: Buffer | undefined) => void, res: ServerResponse): void
}

const PREFIX = '/2018-06-01/runtime'

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) over = true
    if (!over) chunks.push(chunk as Buffer)
  }
  return over ? undefined : Buffer.concat(chunks)
}

/**
 * A streamed response: each chunk goes to `sink` as it comes (a slow client holds the runtime back; past the first
 * 6 MB no faster than 2 MB/s, the runtime held back as Lambda holds it), then the outcome from the trailers:
 * Lambda-Runtime-Function-Error-Type and -Error-Body (base64 JSON) make it an error after the fact; malformed trailers
 * are reported as such, past 200 MB the stream is cut with Function.ResponseSizeTooLarge.
 */
async function readStream(
  handlers: RuntimeHandlers,
  id: string,
  req: IncomingMessage,
  sink: (chunk: Buffer) => unknown,
): Promise<void> {
  const kept: Buffer[] = []
  let size = 0
  let slowFrom: number | undefined
  for await (const chunk of req) {
    const bytes = chunk as Buffer
    size += bytes.length
    if (size > MAX_STREAMED_BYTES) {
      req.destroy()
      handlers.error(
        id,
        Buffer.from(
          JSON.stringify({
            errorMessage: `Response size exceeded the maximum of ${MAX_STREAMED_BYTES} bytes for a streamed response.`,
            errorType: 'Function.ResponseSizeTooLarge',
          }),
        ),
        'Function.ResponseSizeTooLarge',
      )
      return
    }
    if (size - bytes.length < MAX_RESPONSE_BYTES) kept.push(bytes)
    await sink(bytes) // a promise while the client cannot take more: the runtime is held back meanwhile
    if (size > FULL_SPEED_BYTES) {
      slowFrom ??= performance.now()
      const due = slowFrom + ((size - FULL_SPEED_BYTES) / STREAM_BYTES_PER_SECOND) * 1000
      const ahead = due - performance.now()
      if (ahead > 1) await new Promise((resolve) => setTimeout(resolve, ahead))
    }
  }
  const errorType = req.trailers['lambda-runtime-function-error-type']
  const errorBody = req.trailers['lambda-runtime-function-error-body']
  if (errorType === undefined && errorBody === undefined) {
    handlers.response(id, Buffer.concat(kept))
    return
  }
  let body: Buffer
  try {
    const decoded = Buffer.from(errorBody ?? '', 'base64').toString('utf8')
    JSON.parse(decoded)
    body = Buffer.from(decoded)
  } catch {
    body = Buffer.from(
      JSON.stringify({
        errorMessage:
          `The runtime ended the streamed response with malformed trailers (Lambda-Runtime-Function-Error-Body must ` +
          `be base64 JSON): ${JSON.stringify(String(errorBody ?? '').slice(0, 200))}`,
        errorType: 'Runtime.MalformedTrailers',
      }),
    )
  }
  handlers.error(id, body, errorType ?? 'Runtime.MalformedTrailers')
}

async function streamedResponse(
  handlers: RuntimeHandlers,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const sink = handlers.streamStart?.(id, req.headers['content-type'])
  if (!sink) {
    req.resume()
    return send(res, 400, {errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID'})
  }
  await readStream(handlers, id, req, sink)
  send(res, 202, {status: 'OK'})
}

function send(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

/**
 * Where the Runtime API listens and whom it serves: `accept` sees each connection's peer address
 * (the environment's own container address only); requests from web pages (Origin) are refused.
 */
export interface RuntimeListen {
  host: string
  accept?: (peer: string) => Promise<boolean>
}

export async function startRuntimeApi(
  handlers: RuntimeHandlers,
  listen: RuntimeListen = {host: '127.0.0.1'},
): Promise<{server: Server; port: number}> {
  const server = createServer(async (req, res) => {
    const url = req.url ?? ''
    try {
      const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
      if (req.headers.origin !== undefined || (listen.accept && !(await listen.accept(peer)))) {
        req.resume()
        send(res, 403, {
          errorMessage: 'This Runtime API serves only its own execution environment.',
          errorType: 'Forbidden',
        })
        return
      }
      if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
        handlers.next((event) => {
          const headers: Record<string, string | number> = {
            'Content-Type': 'application/json',
            'Content-Length': event.payload.length,
            'Lambda-Runtime-Aws-Request-Id': event.requestId,
            'Lambda-Runtime-Deadline-Ms': event.deadlineMs,
            'Lambda-Runtime-Invoked-Function-Arn': event.functionArn,
            'Lambda-Runtime-Trace-Id':
              `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-` +
              `${event.requestId.replace(/-/g, '').slice(0, 24)};Parent=0000000000000000;Sampled=0`,
          }
          if (event.clientContext) headers['Lambda-Runtime-Client-Context'] = event.clientContext
          res.writeHead(200, headers)
          res.end(event.payload)
        }, res)
        return
      }
      // Not Lambda's: faas's sandbox helper fetches the variables kept out of the container's configuration.
      if (req.method === 'GET' && url === '/2018-06-01/faas/sandbox/env' && listen.accept) {
        const deliver = (vars: Buffer | undefined) => {
          if (vars === undefined)
            send(res, 410, {errorMessage: 'The variables were already handed over.', errorType: 'Gone'})
          else {
            res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': vars.length})
            res.end(vars)
          }
        }
        if (handlers.sandboxEnv) handlers.sandboxEnv(deliver, res)
        else deliver(undefined)
        return
      }
      if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
        const body = (await readBody(req, MAX_RESPONSE_BYTES)) ?? Buffer.from('{}')
        handlers.initError(body, req.headers['lambda-runtime-function-error-type'] as string | undefined)
        send(res, 202, {status: 'OK'})
        return
      }
      const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url)
      const streaming = String(req.headers['lambda-runtime-function-response-mode'] ?? '').toLowerCase() === 'streaming'
      if (req.method === 'POST' && match && match[2] === 'response' && streaming && handlers.streamStart) {
        return await streamedResponse(handlers, decodeURIComponent(match[1]!), req, res)
      }
      if (req.method === 'POST' && match) {
        const id = decodeURIComponent(match[1]!)
        const body = await readBody(req, MAX_RESPONSE_BYTES)
        let known: boolean
        if (body === undefined) {
          known = handlers.oversize(id)
          if (known) {
            send(res, 413, {
              errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
              errorType: 'RequestEntityTooLarge',
            })
            return
          }
        } else if (match[2] === 'response') {
          known = handlers.response(id, body)
        } else {
          known = handlers.error(id, body, req.headers['lambda-runtime-function-error-type'] as string | undefined)
        }
        if (known) send(res, 202, {status: 'OK'})
        else send(res, 400, {errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID'})
        return
      }
      send(res, 404, {errorMessage: `Unknown Runtime API path ${req.method} ${url}`, errorType: 'NotFound'})
    } catch (error) {
      if (!res.headersSent) send(res, 500, {errorMessage: String(error), errorType: 'ServiceException'})
    }
  })
  server.keepAliveTimeout = 0
  server.requestTimeout = 0
  server.headersTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, listen.host, () => resolve())
  })
  return {server, port: (server.address() as AddressInfo).port}
}
