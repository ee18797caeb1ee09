import {httpClient, type HttpAnswer} from '../../src/bench/http.js'
import type {Invoke} from '../../src/bench/runner.js'
import {parseReport} from '../../src/core/report.js'

const header = (headers: HttpAnswer['headers'], name: string) => {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * A lean Invoke over the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) without
 * the SDK, through bench's HTTP client: how tests drive a plain HTTP endpoint that answers as Lambda's
 * API does (X-Amz-Function-Error, X-Amz-Log-Result).
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
