import {UserError, messageOf} from '../../core/errors.js'
import type {Invoke} from '../runner.js'
import {splitAddress} from './endpoints.js'
import {httpClient} from '../http.js'
import type {ProtocolInvoker} from './invoker.js'

/**
 * Knative/vHive-style HTTP functions: `POST /` on host:port (or POST to a whole http:// URL: a Function URL, an
 * API route) with the event as the JSON body; the answer's body is the result and a status of 400 or more is an
 * error. Keep-alive connections, at
 * most `maxSockets` at once (the bench's in-flight cap).
 */
export function httpProtocol(options: {maxSockets: number; timeoutMs: number}): ProtocolInvoker {
  const client = httpClient({connections: options.maxSockets, timeoutMs: options.timeoutMs})
  const request = (address: string, method: string, body?: string) => {
    const headers = {'content-type': 'application/json'}
    // A whole URL (a Function URL, an API route) is called at its path; host:port at `/`.
    if (address.startsWith('http://')) {
      const url = new URL(address)
      return client.send({origin: url.origin, method, path: `${url.pathname}${url.search}`, headers, body})
    }
    const {host, port} = splitAddress(address)
    return client.send({
      origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      method,
      path: '/',
      headers,
      body,
    })
  }
  const invoke: Invoke = async ({name, payload}) => {
    const answer = await request(name, 'POST', payload)
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
            fix:
              'Start the server (e.g. `faas serve <benchmark> --protocol http`, which prints an endpoints file) ' +
              'or fix the hostname[:port] in the endpoints file; --port sets the port of entries without one.',
          })
        }
      }
    },
    close: client.close,
  }
}
