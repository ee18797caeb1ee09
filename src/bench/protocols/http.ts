import {connect} from 'node:net'

import {UserError, messageOf} from '../../core/errors.js'
import type {Invoke} from '../runner.js'
import {splitAddress} from './endpoints.js'
import {httpClient} from '../http.js'
import type {ProtocolInvoker} from './invoker.js'
import type {MixRequest} from '../mix.js'

/**
 * Knative/vHive-style HTTP functions: `POST /` on host:port with the event as the JSON body (a whole http:// URL
 * as the endpoint: POST to its path); or, with a request mix, each mix request's method, URL, headers and body (a
 * Function URL, an API route). The answer's body is the result and a status of 400 or more is an error. Keep-alive
 * connections, at most `maxSockets` at once (the bench's in-flight cap).
 */
export function httpProtocol(options: {maxSockets: number; timeoutMs: number; mix?: MixRequest[]}): ProtocolInvoker {
  const client = httpClient({connections: options.maxSockets, timeoutMs: options.timeoutMs})
  const routes = new Map((options.mix ?? []).map((r) => [r.name, r]))
  const request = (address: string, method: string, body?: string) => {
    const route = routes.get(address)
    if (route)
      return client.send({
        origin: route.url.origin,
        method: route.method,
        path: route.url.pathname + route.url.search,
        headers: route.headers,
        body: route.method === 'GET' || route.method === 'HEAD' ? undefined : body,
      })
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
    // Any HTTP answer to a HEAD (even 404 or 501) shows a server is there; the function itself is not run. A mix's
    // routes are only connected to: behind a Function URL or an API route any method would run the function.
    async check(endpoints) {
      for (const address of new Set(endpoints)) {
        const route = routes.get(address)
        try {
          await (route ? connects(route.url, options.timeoutMs) : request(address, 'HEAD'))
        } catch (error) {
          if (route)
            throw new UserError(
              `${route.name}'s URL ${route.url.origin} does not accept connections (${messageOf(error)}).`,
              {
                code: 'ENDPOINT_UNREACHABLE',
                fix: "Check the mix file's URLs (or --base-url) and that the server, Function URL or API is up.",
              },
            )
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

/** Resolves once a TCP connection to the URL's host and port is made (then closed). */
function connects(url: URL, timeoutMs: number): Promise<void> {
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
  return new Promise((resolve, reject) => {
    const socket = connect({host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, timeout: timeoutMs})
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('timeout', () => socket.destroy(new Error(`no answer in ${timeoutMs} ms`)))
    socket.once('error', reject)
  })
}
