import {randomBytes} from 'node:crypto'
import {request as httpRequest} from 'node:http'

import {UserError} from '../core/errors.js'
import {stateDir} from './contracts.js'
import {readSecrets, type ServiceSecrets} from './credentials.js'

/** Talking to a running service: proving it is ours before sending it anything, then signed calls. */

/**
 * The proofs and the signer (the SDK's SigV4, some 25 ms to load), loaded once something answers: a command that starts
 * the service loads them while it starts (on the other core), not before.
 */
let sigv4: Promise<typeof import('./sigv4.js')> | undefined
export const loadSigner = (): Promise<typeof import('./sigv4.js')> => (sigv4 ??= import('./sigv4.js'))

/**
 * One bodiless request, answered as fetch answers. Not fetch itself: Node's fetch parses HTTP in WebAssembly, which
 * V8 optimises on background threads after the first requests, and a short-lived command waits for that before it
 * exits (0.1 s and more after `faas local start --detach` on a busy machine); node:http parses natively.
 */
function request(
  target: URL,
  init: {method: string; headers?: Record<string, string>; timeoutMs?: number},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, {method: init.method, headers: init.headers, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const status = res.statusCode ?? 502
        const headers = Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))
        const body = [204, 304].includes(status) ? null : Buffer.concat(chunks)
        resolve(new Response(body, {status, headers: headers as Array<[string, string]>}))
      })
    })
    if (init.timeoutMs)
      req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`no answer in ${init.timeoutMs} ms`)))
    req.on('error', reject).end()
  })
}

/**
 * Who answers at `url`: 'none' (nothing listens), 'ours' (it proved it holds this FAAS_HOME's
 * identity key: HMAC of a fresh nonce and its port) or 'other' (something answers but cannot
 * prove it; it is sent nothing more).
 */
export async function identify(
  url: string,
  timeoutMs = 1000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{who: 'none'} | {who: 'other'} | {who: 'ours'; region: string; secrets: ServiceSecrets}> {
  const nonce = randomBytes(32).toString('hex')
  let answer: {proof?: unknown; region?: unknown}
  try {
    const res = await request(new URL(`/faas/identity?nonce=${nonce}`, url), {method: 'GET', timeoutMs})
    answer = (await res.json().catch(() => ({}))) as typeof answer
  } catch {
    return {who: 'none'}
  }
  const {identityProof, sameProof} = await loadSigner()
  const secrets = readSecrets(env)
  const port = Number(new URL(url).port)
  if (
    !secrets ||
    typeof answer?.proof !== 'string' ||
    !sameProof(answer.proof, identityProof(secrets.identityKey, nonce, port))
  )
    return {who: 'other'}
  return {who: 'ours', region: typeof answer.region === 'string' ? answer.region : 'us-east-1', secrets}
}

export const notOurs = (url: string, env: NodeJS.ProcessEnv = process.env) =>
  new UserError(
    `Something answers on ${url} but cannot prove it is your faas local service (it does not hold the key ` +
      `in ${stateDir(env)}); faas sent it nothing.`,
    {
      code: 'LOCAL_NOT_OURS',
      fix:
        `Find and stop what listens on that port (ss -ltnp | grep ${new URL(url).port}), or use another port ` +
        `with --port or FAAS_LOCAL_PORT.`,
    },
  )

/** A request to our service, signed with its key pair; throws when what answers is not ours. */
export async function serviceFetch(
  url: string,
  path: string,
  init: {method?: string; timeoutMs?: number} = {},
): Promise<Response | undefined> {
  const id = await identify(url, init.timeoutMs)
  if (id.who === 'none') return undefined
  if (id.who === 'other') throw notOurs(url)
  const target = new URL(path, url)
  const method = init.method ?? 'GET'
  const {signRequest} = await loadSigner()
  const headers = await signRequest(target, {method, body: Buffer.alloc(0)}, id.secrets, id.region)
  return request(target, {method, headers, timeoutMs: init.timeoutMs})
}

/** What GET /faas/health answers (LocalLambdaService.health), as far as faas reads it. */
export interface HealthAnswer {
  service: 'faas-local'
  pid: number
  id: string
  url: string
  region: string
  s3Endpoint?: string
  /** The AWS emulator it polls queues of and sends destinations to (--aws-endpoint); else s3Endpoint's. */
  awsEndpoint?: string
  idleTimeoutMs?: number
  functions: string[]
  /** Function URLs that answer (absent from services before URLs). */
  urls?: FunctionUrlStatus[]
  /** The benchmarks' HTTP APIs (absent from services before APIs). */
  apis?: ApiStatus[]
  environments: Record<string, {busy?: number; queued?: number; preparing?: boolean}>
  prepared?: {perFunction: number; total: number; held: number}
  /** /tmp disks being made in the background. */
  tmpDisksMaking?: number
}

/** One Function URL as health and `faas local status` list it. */
export interface FunctionUrlStatus {
  function: string
  qualifier: string
  url: string
  authType: string
  invokeMode: string
}

/** What our service at `url` says about itself; undefined when nothing answers. Throws when something else answers. */
export async function health(url: string, timeoutMs = 1000): Promise<HealthAnswer | undefined> {
  let res: Response | undefined
  try {
    res = await serviceFetch(url, '/faas/health', {timeoutMs})
  } catch (error) {
    if (error instanceof UserError) throw error
    return undefined
  }
  if (!res?.ok) return undefined
  const body = (await res.json().catch(() => undefined)) as HealthAnswer | undefined
  return body?.service === 'faas-local' ? body : undefined
}

/** One benchmark's HTTP API as health and `faas local status` list it. */
export interface ApiStatus {
  name: string
  url: string
  stage: string
  routes: Array<{routeKey: string; function: string; payloadFormat: string}>
}
