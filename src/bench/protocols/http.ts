import http from 'node:http'

import {UserError, messageOf} from '../../core/errors.js'
import type {Invoke} from '../runner.js'
import {splitAddress} from './endpoints.js'
import {epochNowUs, type ProtocolInvoker} from './invoker.js'

/**
 * Knative/vHive-style HTTP functions: `POST /` on host:port with the event as the JSON body; the
 * answer's body is the result and a status of 400 or more is an error. Keep-alive connections, at
 * most `maxSockets` at once (the bench's in-flight cap).
 */
export function httpProtocol(options: {maxSockets: number; timeoutMs: number}): ProtocolInvoker {
  const agent = new http.Agent({keepAlive: true, maxSockets: options.maxSockets})
  const request = (address: string, method: string, body?: Buffer) =>
    new Promise<{statusCode: number; body: string; startedAtUs: number; clientLatencyUs: number}>((resolve, reject) => {
      const {host, port} = splitAddress(address)
      const startedAtUs = epochNowUs()
      const t0 = performance.now()
      const req = http.request(
        {
          host,
          port,
          agent,
          method,
          path: '/',
          timeout: options.timeoutMs,
          headers: {'content-type': 'application/json', 'content-length': body?.length ?? 0},
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () =>
            resolve({
              statusCode: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              startedAtUs,
              clientLatencyUs: (performance.now() - t0) * 1000,
            }),
          )
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)))
      req.on('error', reject)
      req.end(body)
    })
  const invoke: Invoke = async ({name, payload}) => {
    const answer = await request(name, 'POST', Buffer.from(payload))
    return {
      name,
      statusCode: answer.statusCode,
      payload: answer.body,
      startedAtUs: answer.startedAtUs,
      clientLatencyUs: answer.clientLatencyUs,
    }
  }
  return {
    protocol: 'http',
    invoke,
    // Any HTTP answer to a HEAD (even 404 or 501) shows a server is there; the function itself is not run.
    async check(endpoints) {
      for (const address of new Set(endpoints)) {
        try {
          await request(address, 'HEAD')
        } catch (error) {
          throw new UserError(`Endpoint ${address} does not answer HTTP (${messageOf(error)}).`, {
            code: 'ENDPOINT_UNREACHABLE',
            fix: 'Start the server (e.g. `faas serve <benchmark> --protocol http`, which prints an endpoints file) or fix the hostname[:port] in the endpoints file; --port sets the port of entries without one.',
          })
        }
      }
    },
    close: () => agent.destroy(),
  }
}
