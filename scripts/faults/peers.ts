// Fake peers for the faults faas cannot get from the real ones: an HTTP server answering as told, a registry that
// fails uploads, and the environment that points faas's AWS clients at such a server.
import {createServer as createHttpServer, request as httpRequest, type Server} from 'node:http'

import {REGISTRY} from './harness.js'

/** An HTTP server on 127.0.0.1 answering every request with `respond`. */
export async function fakeServer(
  respond: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{url: string; hits: () => number; close: () => Promise<void>}> {
  let hits = 0
  const server: Server = createHttpServer((req, res) => {
    hits++
    req.resume()
    req.on('end', () => respond(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
  return {
    url,
    hits: () => hits,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

/** A registry front that forwards reads to the real registry and answers 503 to blob uploads. */
export async function failingRegistry(): Promise<{address: string; close: () => Promise<void>}> {
  const [host, port] = REGISTRY.split(':')
  const server = createHttpServer((req, res) => {
    if (
      req.method === 'PATCH' ||
      req.method === 'PUT' ||
      (req.method === 'POST' && req.url?.includes('/blobs/uploads'))
    ) {
      req.resume()
      res
        .writeHead(503, {'content-type': 'application/json'})
        .end('{"errors":[{"code":"UNAVAILABLE","message":"injected 503"}]}')
      return
    }
    const upstream = httpRequest(
      {host, port: Number(port), method: req.method, path: req.url, headers: req.headers},
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${(server.address() as {port: number}).port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

export const awsEnv = (url: string) => ({
  FAAS_TARGET: 'aws',
  AWS_ENDPOINT_URL: url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_ACCOUNT_ID: '123456789012',
  FAAS_REGISTRY: REGISTRY,
})
