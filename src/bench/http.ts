import {Agent} from 'undici'

import {epochNowUs} from './protocols/invoker.js'

/** One HTTP exchange as the load generator sees it: timed from the send to the last byte of the answer. */
export interface HttpAnswer {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: string
  startedAtUs: number
  clientLatencyUs: number
}

export interface HttpClient {
  send(request: {
    origin: string
    method: string
    path: string
    headers?: Record<string, string>
    body?: string
  }): Promise<HttpAnswer>
  close(): void
}

/**
 * The load generator's HTTP client: keep-alive connections, at most `connections` per origin (the
 * bench's in-flight cap, so calls past it never wait inside the client), and no answer within
 * `timeoutMs` (0: no limit) fails the call. Built on undici's dispatcher, which costs markedly
 * less CPU per call than node:http's request objects and streams (scripts/perf/bench.ts).
 */
export function httpClient(options: {connections: number; timeoutMs?: number}): HttpClient {
  const timeoutMs = options.timeoutMs ?? 0
  const agent = new Agent({connections: options.connections, headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
  const send: HttpClient['send'] = (request) =>
    new Promise((resolve, reject) => {
      const startedAtUs = epochNowUs()
      const t0 = performance.now()
      const chunks: Buffer[] = []
      let statusCode = 0
      let headers: HttpAnswer['headers'] = {}
      agent.dispatch(request, {
        onRequestStart() {},
        onResponseStart(_controller, status, answerHeaders) {
          statusCode = status
          headers = answerHeaders
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk)
        },
        onResponseEnd() {
          const clientLatencyUs = (performance.now() - t0) * 1000
          resolve({statusCode, headers, body: Buffer.concat(chunks).toString('utf8'), startedAtUs, clientLatencyUs})
        },
        onResponseError(_controller, error: Error & {code?: string}) {
          reject(clientError(error, timeoutMs))
        },
      })
    })
  return {send, close: () => void agent.destroy()}
}

/** undici's own words for the two failures a bench meets most, said as a user would. */
function clientError(error: Error & {code?: string}, timeoutMs: number): Error {
  if (error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_BODY_TIMEOUT')
    return new Error(`no answer within ${timeoutMs / 1000} s`)
  if (error.code === 'UND_ERR_SOCKET') return new Error('the server closed the connection before it answered')
  return error
}
