import {Hash} from '@smithy/hash-node'
import {SignatureV4} from '@smithy/signature-v4'
import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'

import {denied} from './lambda-errors.js'

/**
 * SigV4 as Lambda checks it, recomputed with the SDK's own signer (@smithy/signature-v4): the
 * request is rebuilt from what the client says it signed, signed again with the secret we hold
 * for its access key, and the two signatures are compared in constant time.
 */

export const SERVICE = 'lambda'
/** How far a request's X-Amz-Date may be from our clock, as on AWS. */
export const MAX_SKEW_MS = 5 * 60_000

export interface KnownKey {
  secretAccessKey: string
  /** Session credentials must present this token (X-Amz-Security-Token). */
  sessionToken?: string
  /** 'all': the service's own pair; 'invoke': what functions get (the Invoke API only). */
  scope: 'all' | 'invoke'
  /** Who holds it, for AccessDenied messages (e.g. the function's role). */
  principal: string
}

export interface SignedRequest {
  method: string
  /** The path exactly as sent (still percent-encoded), without the query. */
  rawPath: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
}

const sha256 = Hash.bind(null, 'sha256') as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256']

const AUTH =
  /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;\-_.]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** 20240102T030405Z → Date, or undefined. */
function parseAmzDate(text: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '')
  if (!m) return undefined
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
  return Number.isNaN(date.getTime()) ? undefined : date
}

/**
 * Checks a request's SigV4 signature; returns the key it was signed with, or throws Lambda's 403.
 * Scope: the date must be the request's date, the region ours, the service lambda; the clock
 * skew at most five minutes; the payload hash, when sent, must be the body's.
 */
export async function verifySigV4(
  request: SignedRequest,
  options: {region: string; lookup: (accessKeyId: string) => KnownKey | undefined; now?: Date},
): Promise<KnownKey> {
  const authorization = header(request.headers, 'authorization')
  if (!authorization) throw denied.missing()
  const m = AUTH.exec(authorization)
  if (!m) throw denied.missing()
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedList, signature] = m as unknown as string[]
  const key = options.lookup(accessKeyId!)
  if (!key) throw denied.unknownKey()
  const amzDate = header(request.headers, 'x-amz-date')
  const date = parseAmzDate(amzDate)
  if (!date) throw denied.scope("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
  const now = options.now ?? new Date()
  const stamp = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')
  if (date.getTime() < now.getTime() - MAX_SKEW_MS)
    throw denied.scope(
      `Signature expired: ${amzDate} is now earlier than ${stamp(new Date(now.getTime() - MAX_SKEW_MS))} ` +
        `(${stamp(now)} - 5 min.)`,
    )
  if (date.getTime() > now.getTime() + MAX_SKEW_MS)
    throw denied.scope(
      `Signature not yet current: ${amzDate} is still later than ${stamp(new Date(now.getTime() + MAX_SKEW_MS))} ` +
        `(${stamp(now)} + 5 min.)`,
    )
  if (scopeDate !== amzDate!.slice(0, 8))
    throw denied.scope(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != ` +
        `'${amzDate!.slice(0, 8)}', from '${amzDate}'.`,
    )
  if (scopeService !== SERVICE) throw denied.scope(`Credential should be scoped to correct service: '${SERVICE}'.`)
  if (scopeRegion !== options.region)
    throw denied.scope(`Credential should be scoped to a valid region. This service is in ${options.region}.`)
  const signedHeaders = signedList!.split(';')
  if (!signedHeaders.includes('host')) throw denied.signature()
  if (key.sessionToken !== undefined) {
    const token = header(request.headers, 'x-amz-security-token')
    if (!token || !signedHeaders.includes('x-amz-security-token') || !sameText(token, key.sessionToken))
      throw denied.unknownKey()
  }
  const bodyHash = createHash('sha256').update(request.body).digest('hex')
  const claimedHash = header(request.headers, 'x-amz-content-sha256')
  if (claimedHash !== undefined && claimedHash !== bodyHash) throw denied.signature()

  const headers: Record<string, string> = {}
  for (const name of signedHeaders) {
    const value = header(request.headers, name)
    if (value === undefined) throw denied.signature()
    headers[name] = value
  }
  const query: Record<string, string | string[]> = {}
  for (const name of new Set(request.query.keys())) {
    const values = request.query.getAll(name)
    query[name] = values.length === 1 ? values[0]! : values
  }
  const signer = new SignatureV4({
    credentials: {accessKeyId: accessKeyId!, secretAccessKey: key.secretAccessKey},
    region: scopeRegion!,
    service: SERVICE,
    sha256,
    applyChecksum: false,
    uriEscapePath: true,
  })
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host!.replace(/:\d+$/, ''),
      path: request.rawPath,
      query,
      headers,
      body: request.body,
    } as never,
    {signingDate: date, signableHeaders: new Set(signedHeaders)},
  )
  const expected =
    /Signature=([0-9a-f]{64})/.exec(
      String((recomputed as unknown as {headers: Record<string, string>}).headers.authorization),
    )?.[1] ?? ''
  if (!sameText(expected, signature!)) throw denied.signature()
  return key
}

/** Signs a request to the local service the way the SDKs do; returns the headers to send. */
export async function signRequest(
  url: URL,
  init: {method: string; body?: Buffer; headers?: Record<string, string>},
  credentials: {accessKeyId: string; secretAccessKey: string},
  region: string,
): Promise<Record<string, string>> {
  const query: Record<string, string> = {}
  for (const [name, value] of url.searchParams) query[name] = value
  const signer = new SignatureV4({
    credentials,
    region,
    service: SERVICE,
    sha256,
    applyChecksum: true,
    uriEscapePath: true,
  })
  const signed = await signer.sign({
    method: init.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: {host: url.host, ...init.headers},
    body: init.body,
  } as never)
  return (signed as unknown as {headers: Record<string, string>}).headers
}

/**
 * The identity proof: HMAC of the client's nonce and the port the service listens on (a relay on another port cannot
 * reuse it).
 */
export const identityProof = (identityKey: string, nonce: string, port: number): string =>
  createHmac('sha256', identityKey).update(`faas-local:${port}:${nonce}`).digest('hex')

export const sameProof = sameText
