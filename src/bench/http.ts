import http from 'node:http'

import {parseReport} from '../core/report.js'
import type {Invoke} from './runner.js'

/**
 * A lean Invoke over the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) with
 * keep-alive connections: what the perf script and tests use to drive a plain HTTP endpoint without
 * the SDK's overhead. Answers carry X-Amz-Function-Error and X-Amz-Log-Result as Lambda's do.
 */
export function httpInvoke(baseUrl: string, options: {maxSockets?: number} = {}): Invoke & {close(): void} {
  const url = new URL(baseUrl)
  const agent = new http.Agent({keepAlive: true, maxSockets: options.maxSockets ?? 1000})
  const invoke = (request: Parameters<Invoke>[0]) =>
    new Promise<Awaited<ReturnType<Invoke>>>((resolve, reject) => {
      const startedAtUs = (performance.timeOrigin + performance.now()) * 1000
      const t0 = performance.now()
      const body = Buffer.from(request.payload)
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          agent,
          method: 'POST',
          path: `/2015-03-31/functions/${encodeURIComponent(request.name)}/invocations`,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-amz-invocation-type': request.invocationType ?? 'RequestResponse',
            'x-amz-log-type': request.logTail ? 'Tail' : 'None',
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            const header = res.headers['x-amz-log-result']
            const log = typeof header === 'string' ? Buffer.from(header, 'base64').toString('utf8') : undefined
            const functionError = res.headers['x-amz-function-error']
            resolve({
              name: request.name,
              statusCode: res.statusCode ?? 0,
              requestId:
                typeof res.headers['x-amzn-requestid'] === 'string' ? res.headers['x-amzn-requestid'] : undefined,
              payload: Buffer.concat(chunks).toString('utf8'),
              functionError: typeof functionError === 'string' ? functionError : undefined,
              log,
              report: log ? parseReport(log) : undefined,
              startedAtUs,
              clientLatencyUs: (performance.now() - t0) * 1000,
            })
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  return Object.assign(invoke, {close: () => agent.destroy()})
}
