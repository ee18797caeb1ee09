import type {ServerResponse} from 'node:http'

import {badGateway, type UrlResponse} from './function-url.js'
import {writeStreamed} from './http.js'
import type {InvocationResult} from './invocation.js'

/**
 * A RESPONSE_STREAM Function URL's answer, written to the HTTP client as the function streams it. A runtime that
 * streams with Content-Type `application/vnd.awslambda.http-integration-response` (Node.js's
 * `awslambda.HttpResponseStream.from`) first writes a JSON prelude ({statusCode, headers, cookies}) and eight NUL
 * bytes: they become the status line and headers, the rest is the body. Any other stream is a 200 with the stream's
 * Content-Type. A function that does not stream has its payload sent as it is (not read as statusCode/body, as on
 * Lambda). An error before the first byte is a 502; after it the connection is cut, the client sees a short body.
 */

export const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response'
const DELIMITER = Buffer.alloc(8)
/** How much a prelude may take before its delimiter: more means the runtime is not writing one. */
const MAX_PRELUDE = 64 * 1024

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The status and headers a prelude names, or undefined when it is not a JSON object of that shape. */
export function preludeHead(prelude: Buffer): UrlResponse | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(prelude.toString('utf8') || '{}')
  } catch {
    return undefined
  }
  if (!isRecord(parsed)) return undefined
  const status = parsed.statusCode ?? 200
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return undefined
  const headers: Record<string, string> = {}
  if (parsed.headers !== undefined && !isRecord(parsed.headers)) return undefined
  for (const [name, value] of Object.entries(parsed.headers ?? {})) headers[name.toLowerCase()] = String(value)
  const cookies = Array.isArray(parsed.cookies) ? parsed.cookies.map(String) : []
  return {status, headers, cookies, body: Buffer.alloc(0)}
}

export class UrlStreamWriter {
  #pending: Buffer[] = []
  #pendingSize = 0
  #opened = false
  #streamed = false
  #malformed = false

  /** `head` adds what every answer of this URL carries (CORS, the request id) and writes the status line. */
  constructor(
    private readonly res: ServerResponse,
    private readonly head: (response: UrlResponse, streaming: boolean) => void,
    private readonly headOnly: boolean,
  ) {}

  /** A chunk the function wrote, with its stream's Content-Type; a promise while the client cannot take more. */
  chunk(bytes: Buffer, contentType: string | undefined): Promise<void> | undefined {
    this.#streamed = true
    if (this.#malformed) return undefined
    if (this.#opened) return this.#write(bytes)
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== HTTP_INTEGRATION) {
      this.#open({status: 200, headers: {'content-type': contentType ?? 'application/octet-stream'}, cookies: []})
      return this.#write(bytes)
    }
    this.#pending.push(bytes)
    this.#pendingSize += bytes.length
    const seen = Buffer.concat(this.#pending)
    const at = seen.indexOf(DELIMITER)
    if (at < 0) {
      if (this.#pendingSize > MAX_PRELUDE) this.#malformed = true
      return undefined
    }
    const head = preludeHead(seen.subarray(0, at))
    if (!head) {
      this.#malformed = true
      return undefined
    }
    this.#pending = []
    this.#open(head)
    return this.#write(seen.subarray(at + DELIMITER.length))
  }

  /** The invocation ended: end the body, or answer now what never streamed. */
  end(result: InvocationResult): void {
    if (result.functionError || this.#malformed || (this.#streamed && !this.#opened)) return this.#fail()
    if (!this.#streamed) {
      const body = result.payload
      this.#open({status: 200, headers: {'content-type': 'application/json'}, cookies: [], body}, false)
      this.res.end(this.headOnly ? undefined : body)
      return
    }
    this.res.end()
  }

  /** Whether the client already has the status line (an error now can only cut the body short). */
  get opened(): boolean {
    return this.#opened
  }

  /** An answer instead of the stream (throttled, not run), before anything was sent. */
  refuse(response: UrlResponse): void {
    this.#open(response, false)
    this.res.end(this.headOnly ? undefined : response.body)
  }

  #fail(): void {
    if (this.#opened) this.res.destroy()
    else this.refuse(badGateway())
  }

  #open(response: Omit<UrlResponse, 'body'> & {body?: Buffer}, streaming = true): void {
    this.#opened = true
    this.head({...response, body: response.body ?? Buffer.alloc(0)}, streaming)
    if (streaming) this.res.flushHeaders()
  }

  #write(bytes: Buffer): Promise<void> | undefined {
    return this.headOnly || bytes.length === 0 ? undefined : writeStreamed(this.res, bytes)
  }
}
