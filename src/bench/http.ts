import {Agent} from 'undici'

import {parseReport} from '../core/report.js'
import {epochNowUs} from './protocols/invoker.js'
import type {Invoke} from './runner.js'

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

const header = (headers: HttpAnswer['headers'], name: string) => {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * A lean Invoke over the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) without
 * the SDK: what the perf script and tests use to drive a plain HTTP endpoint. Answers carry
 * X-Amz-Function-Error and X-Amz-Log-Result as Lambda's do.
 */
export function httpInvoke(baseUrl: string, options: {maxSockets?: number} = {}): Invoke & {close(): void} {
  const origin = new URL(baseUrl).origin
  const client = httpClient({connections: options.maxSockets ?? 1000})
  const invoke: Invoke = async (request) => {
    const answer = await client.send({
      origin,
      method: 'POST',
      path: `/2015-03-31/functions/${encodeURIComponent(request.name)}/invocations`,
      headers: {
        'content-type': 'application/json',
        'x-amz-invocation-type': request.invocationType ?? 'RequestResponse',
        'x-amz-log-type': request.logTail ? 'Tail' : 'None',
      },
      body: request.payload,
    })
    const tail = header(answer.headers, 'x-amz-log-result')
    const log = tail === undefined ? undefined : Buffer.from(tail, 'base64').toString('utf8')
    return {
      name: request.name,
      statusCode: answer.statusCode,
      requestId: header(answer.headers, 'x-amzn-requestid'),
      payload: answer.body,
      functionError: header(answer.headers, 'x-amz-function-error'),
      log,
      report: log ? parseReport(log) : undefined,
      startedAtUs: answer.startedAtUs,
      clientLatencyUs: answer.clientLatencyUs,
    }
  }
  return Object.assign(invoke, {close: client.close})
}
