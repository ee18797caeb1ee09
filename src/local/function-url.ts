import type {CorsConfig} from './types.js'

/**
 * A Function URL's HTTP mapping as Lambda does it, as pure functions (no sockets, no clock, no
 * randomness: the caller passes them in): an HTTP request becomes the payload format 2.0 event,
 * the function's answer becomes the HTTP response, and the URL's Cors answers preflights and
 * decides which Access-Control-* headers a response carries. url-front.ts does the I/O.
 */

/** An HTTP request as it arrived, before mapping. */
export interface UrlRequest {
  method: string
  /** The request target exactly as sent: path and query, still percent-encoded. */
  target: string
  httpVersion: string
  /** Node's rawHeaders: name, value, name, value… in arrival order. */
  rawHeaders: string[]
  body: Buffer
  sourceIp: string
}

/** What the event says about the URL and the caller. */
export interface UrlEventContext {
  urlId: string
  region: string
  requestId: string
  /** ms since the epoch. */
  now: number
  /** Set for AWS_IAM URLs: the signing key's owner. */
  iam?: {accessKey: string; accountId: string; callerId: string; userArn: string; userId: string}
}

/** An HTTP response to send. */
export interface UrlResponse {
  status: number
  headers: Record<string, string>
  /** One Set-Cookie header each. */
  cookies: string[]
  body: Buffer
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number) => String(n).padStart(2, '0')

/** requestContext.time: `07/Dec/2026:02:41:42 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs)
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  )
}

/** Bodies Lambda passes as text; anything else (and a body without a type) arrives base64-encoded. */
export function isTextual(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|javascript|x-javascript|ecmascript)$/.test(type) ||
    /^application\/[\w.+-]+\+(json|xml)$/.test(type)
  )
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/** The payload format 2.0 event of one request to a Function URL. */
export function requestEvent(request: UrlRequest, ctx: UrlEventContext): Record<string, unknown> {
  const queryAt = request.target.indexOf('?')
  const rawPath = queryAt < 0 ? request.target : request.target.slice(0, queryAt)
  const rawQueryString = queryAt < 0 ? '' : request.target.slice(queryAt + 1)
  const headers: Record<string, string> = {}
  let cookies: string[] = []
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase()
    const value = request.rawHeaders[i + 1]!
    if (name === 'cookie') {
      cookies = cookies.concat(value.split(/;\s*/).filter(Boolean))
      continue
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value
  }
  const query: Record<string, string> = {}
  for (const pair of rawQueryString.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const key = decode(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1))
    query[key] = key in query ? `${query[key]},${value}` : value
  }
  const textual = isTextual(headers['content-type'])
  const domainName = `${ctx.urlId}.lambda-url.${ctx.region}.localhost`
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: rawPath || '/',
    rawQueryString,
    ...(cookies.length > 0 ? {cookies} : {}),
    headers,
    ...(Object.keys(query).length > 0 ? {queryStringParameters: query} : {}),
    requestContext: {
      accountId: ctx.iam ? ctx.iam.accountId : 'anonymous',
      apiId: ctx.urlId,
      ...(ctx.iam ? {authorizer: {iam: {...ctx.iam, cognitoIdentity: null, principalOrgId: null}}} : {}),
      domainName,
      domainPrefix: ctx.urlId,
      http: {
        method: request.method,
        path: decode(rawPath || '/'),
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(ctx.now),
      timeEpoch: ctx.now,
    },
    ...(request.body.length > 0
      ? {body: textual ? request.body.toString('utf8') : request.body.toString('base64')}
      : {}),
    pathParameters: null,
    isBase64Encoded: request.body.length > 0 && !textual,
    stageVariables: null,
  }
}

/** Lambda's answer to the caller when the function failed or answered something it cannot map. */
export const badGateway = (): UrlResponse => message(502, 'Internal Server Error')

export const message = (status: number, text: string): UrlResponse => ({
  status,
  headers: {'content-type': 'application/json'},
  cookies: [],
  body: Buffer.from(JSON.stringify({Message: text})),
})

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The HTTP response for a function's answer, as Lambda maps it: an object with statusCode gives the status,
 * headers, cookies (one Set-Cookie each), body and isBase64Encoded; any other JSON value is the body of a 200
 * application/json answer. A function error, or a statusCode/headers/cookies/body of the wrong type, is a 502.
 */
export function responseOf(
  payload: Buffer,
  functionError: boolean,
  invalid: () => UrlResponse = badGateway,
): UrlResponse {
  if (functionError) return invalid()
  let answer: unknown
  try {
    answer = JSON.parse(payload.toString('utf8'))
  } catch {
    return invalid()
  }
  if (!isRecord(answer) || !('statusCode' in answer))
    return {status: 200, headers: {'content-type': 'application/json'}, cookies: [], body: payload}
  const {statusCode, headers = {}, cookies = [], body = '', isBase64Encoded = false} = answer
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    return invalid()
  if (!isRecord(headers) || !Array.isArray(cookies) || typeof isBase64Encoded !== 'boolean') return invalid()
  if (typeof body !== 'string' || cookies.some((c) => typeof c !== 'string')) return invalid()
  const mapped: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === null || value === undefined) continue
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(String(value))) return invalid()
    mapped[name.toLowerCase()] = String(value)
  }
  return {
    status: statusCode,
    headers: mapped,
    cookies: cookies as string[],
    body: isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  }
}

/** The Origin a URL's Cors allows, or undefined. */
export function allowedOrigin(cors: CorsConfig | undefined, origin: string | undefined): string | undefined {
  if (!cors || !origin) return undefined
  const origins = cors.AllowOrigins ?? []
  if (origins.includes('*')) return cors.AllowCredentials ? origin : '*'
  return origins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined
}

/** A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method), answered from the URL's Cors. */
export function isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined
}

/** Lambda's answer to a preflight: the Allow-* headers for an allowed origin and method, none otherwise. */
export function preflightResponse(
  cors: CorsConfig | undefined,
  origin: string | undefined,
  requestMethod: string | undefined,
  requestHeaders: string | undefined,
): UrlResponse {
  const response: UrlResponse = {status: 200, headers: {vary: 'Origin'}, cookies: [], body: Buffer.alloc(0)}
  const allowed = allowedOrigin(cors, origin)
  const methods = (cors?.AllowMethods ?? []).map((m) => m.toUpperCase())
  const method = (requestMethod ?? '').toUpperCase()
  if (!allowed || !(methods.includes('*') || methods.includes(method))) return response
  response.headers['access-control-allow-origin'] = allowed
  response.headers['access-control-allow-methods'] = methods.includes('*') ? method : methods.join(',')
  const asked = (requestHeaders ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)
  const listed = (cors?.AllowHeaders ?? []).map((h) => h.toLowerCase())
  const headers = listed.includes('*') ? asked : asked.filter((h) => listed.includes(h))
  if (headers.length > 0) response.headers['access-control-allow-headers'] = headers.join(',')
  if (cors?.AllowCredentials) response.headers['access-control-allow-credentials'] = 'true'
  if (cors?.MaxAge !== undefined) response.headers['access-control-max-age'] = String(cors.MaxAge)
  return response
}

/**
 * A response's CORS headers when the URL has Cors: the function's own Access-Control-* headers are replaced
 * (as Lambda does), and the URL's are added only for an allowed origin.
 */
export function withCors(response: UrlResponse, cors: CorsConfig | undefined, origin: string | undefined): UrlResponse {
  if (!cors) return response
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers))
    if (!name.startsWith('access-control-')) headers[name] = value
  const allowed = allowedOrigin(cors, origin)
  if (allowed) {
    headers['access-control-allow-origin'] = allowed
    if (cors.AllowCredentials) headers['access-control-allow-credentials'] = 'true'
    if (cors.ExposeHeaders?.length) headers['access-control-expose-headers'] = cors.ExposeHeaders.join(',')
  }
  headers.vary = headers.vary ? `${headers.vary}, Origin` : 'Origin'
  return {...response, headers}
}
