import type {IncomingMessage, ServerResponse} from 'node:http'

import {sendJson} from './http.js'
import {MAX_SYNC_REQUEST} from './invoke-api.js'
import {accessDenied, invalid, tooLarge} from './lambda-errors.js'
import {readBody} from './runtime-api.js'
import type {Sessions} from './sessions.js'
import {identityProof, verifySigV4, type KnownKey} from './sigv4.js'
import type {ServiceOptions} from './types.js'

/** What the gate needs of the service. */
export interface GateContext {
  /** The addresses (host:port) the service answers as: anything else in Host is refused. */
  hosts(): Set<string>
  /** Read at each request: the port is known only once the service listens. */
  options: Pick<ServiceOptions, 'region' | 'port' | 'secrets'>
  sessions: Sessions
  route(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, key: KnownKey): Promise<void>
}

/**
 * Every request passes here first: a Host that is not our address (DNS rebinding) or any
 * browser Origin (a web page) is refused; then, except for the identity proof and the
 * credentials endpoint (its own token), a body within the limit and a valid SigV4 signature with
 * a key we issued. Nothing is read or changed before that.
 */
export async function gate(ctx: GateContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = String(req.headers.host ?? '')
  const hosts = ctx.hosts()
  if (!hosts.has(host.toLowerCase())) {
    req.resume()
    throw accessDenied(
      `The local Lambda service answers only as ${[...hosts][0]}; the request named the host ` +
        `"${host.slice(0, 100)}".`,
    )
  }
  if (req.headers.origin !== undefined) {
    req.resume()
    throw accessDenied(
      'The local Lambda service refuses requests from web pages (the request carries an Origin header).',
    )
  }
  const url = new URL(req.url ?? '/', 'http://local')
  if (url.pathname === '/faas/identity' && req.method === 'GET') {
    req.resume()
    const nonce = url.searchParams.get('nonce') ?? ''
    if (!/^[0-9a-f]{32,128}$/.test(nonce)) throw invalid('nonce must be 32 to 128 hexadecimal characters.')
    return sendJson(res, 200, {
      service: 'faas-local',
      region: ctx.options.region,
      proof: identityProof(ctx.options.secrets.identityKey, nonce, ctx.options.port),
    })
  }
  if (url.pathname === '/faas/credentials' && req.method === 'GET') return ctx.sessions.serveCredentials(req, res)
  const body = await readBody(req, MAX_SYNC_REQUEST)
  if (body === undefined) throw tooLarge(`Request must be smaller than ${MAX_SYNC_REQUEST} bytes.`)
  const rawPath = (req.url ?? '/').split('?')[0]!
  const key = await verifySigV4(
    {method: req.method ?? 'GET', rawPath, query: url.searchParams, headers: req.headers, body},
    {region: ctx.options.region, lookup: (id) => ctx.sessions.keyOf(id)},
  )
  return ctx.route(req, res, url, body, key)
}
