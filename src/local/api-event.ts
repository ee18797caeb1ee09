import type {RouteMatch} from '../core/api-routes.js'
import {isTextual, requestEvent, requestTime, responseOf, type UrlRequest, type UrlResponse} from './function-url.js'

/**
 * An API route's HTTP mapping as API Gateway's HTTP APIs do it, as pure functions (url-front's
 * function-url.ts does the same for URLs): a request becomes the route's payload format (1.0, the
 * REST-proxy event; or 2.0), and the function's answer becomes the HTTP response. api-front.ts does the I/O.
 */

export interface ApiEventContext {
  apiId: string
  region: string
  accountId: string
  /** `$default` or the stage name (then the request's path starts with /<stage>). */
  stage: string
  requestId: string
  now: number
}

/** API Gateway's own answers carry a lowercase `message`. */
export const apiMessage = (status: number, text: string): UrlResponse => ({
  status,
  headers: {'content-type': 'application/json'},
  cookies: [],
  body: Buffer.from(JSON.stringify({message: text})),
})

export const notFound = () => apiMessage(404, 'Not Found')
export const internalError = () => apiMessage(500, 'Internal Server Error')

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

const domainOf = (ctx: ApiEventContext) => `${ctx.apiId}.execute-api.${ctx.region}.localhost`

/** The route's event in its payload format. `request.target` is the whole path, the stage's segment included. */
export function routeEvent(request: UrlRequest, match: RouteMatch, ctx: ApiEventContext): Record<string, unknown> {
  return match.route.payloadFormat === '1.0' ? restEvent(request, match, ctx) : httpEvent(request, match, ctx)
}

function httpEvent(request: UrlRequest, match: RouteMatch, ctx: ApiEventContext): Record<string, unknown> {
  const base = requestEvent(request, {urlId: ctx.apiId, region: ctx.region, requestId: ctx.requestId, now: ctx.now})
  const {pathParameters: _p, stageVariables: _s, ...event} = base
  const requestContext = base.requestContext as Record<string, unknown>
  const params = match.pathParameters
  return {
    ...event,
    routeKey: match.route.routeKey,
    requestContext: {
      ...requestContext,
      accountId: ctx.accountId,
      domainName: domainOf(ctx),
      routeKey: match.route.routeKey,
      stage: ctx.stage,
    },
    ...(Object.keys(params).length > 0 ? {pathParameters: params} : {}),
  }
}

/** The payload format 1.0 event: the REST-proxy shape (single- and multi-value headers and query). */
function restEvent(request: UrlRequest, match: RouteMatch, ctx: ApiEventContext): Record<string, unknown> {
  const queryAt = request.target.indexOf('?')
  const fullPath = queryAt < 0 ? request.target : request.target.slice(0, queryAt)
  const rawQuery = queryAt < 0 ? '' : request.target.slice(queryAt + 1)
  const path = ctx.stage === '$default' ? fullPath : fullPath.slice(ctx.stage.length + 1) || '/'
  const headers: Record<string, string> = {}
  const multiValueHeaders: Record<string, string[]> = {}
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase()
    const value = request.rawHeaders[i + 1]!
    headers[name] = value
    ;(multiValueHeaders[name] ??= []).push(value)
  }
  const query: Record<string, string> = {}
  const multiQuery: Record<string, string[]> = {}
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const key = decode(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1))
    query[key] = value
    ;(multiQuery[key] ??= []).push(value)
  }
  const hasQuery = Object.keys(query).length > 0
  const textual = isTextual(headers['content-type'])
  const resource = match.route.routeKey === '$default' ? '$default' : match.route.path
  const params = match.pathParameters
  return {
    version: '1.0',
    resource,
    path: decode(path),
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: domainOf(ctx),
      domainPrefix: ctx.apiId,
      extendedRequestId: ctx.requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headers['user-agent'] ?? '',
        userArn: null,
      },
      path: decode(fullPath),
      protocol: `HTTP/${request.httpVersion}`,
      requestId: ctx.requestId,
      requestTime: requestTime(ctx.now),
      requestTimeEpoch: ctx.now,
      resourceId: match.route.routeKey,
      resourcePath: resource,
      routeKey: match.route.routeKey,
      stage: ctx.stage,
    },
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body: request.body.length > 0 ? (textual ? request.body.toString('utf8') : request.body.toString('base64')) : null,
    isBase64Encoded: request.body.length > 0 && !textual,
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The HTTP response for a function's answer. 2.0: as a Function URL maps it (any value without statusCode is a
 * JSON 200). 1.0: it must be an object with an integer statusCode, string headers, list multiValueHeaders, a
 * string body. A function error or an answer that breaks these is API Gateway's 500 Internal Server Error.
 */
export function routeResponse(format: '1.0' | '2.0', payload: Buffer, functionError: boolean): UrlResponse {
  if (format === '2.0') return responseOf(payload, functionError, internalError)
  if (functionError) return internalError()
  let answer: unknown
  try {
    answer = JSON.parse(payload.toString('utf8'))
  } catch {
    return internalError()
  }
  if (!isRecord(answer)) return internalError()
  const {statusCode, headers = {}, multiValueHeaders = {}, body = null, isBase64Encoded = false} = answer
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    return internalError()
  if (!isRecord(headers) || !isRecord(multiValueHeaders) || typeof isBase64Encoded !== 'boolean') return internalError()
  if (body !== null && typeof body !== 'string') return internalError()
  const mapped: Record<string, string> = {}
  const cookies: string[] = []
  const add = (name: string, value: unknown): boolean => {
    if (value === null || value === undefined) return true
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(String(value))) return false
    const key = name.toLowerCase()
    if (key === 'set-cookie') cookies.push(String(value))
    else mapped[key] = key in mapped ? `${mapped[key]},${String(value)}` : String(value)
    return true
  }
  const multiNames = new Set(Object.keys(multiValueHeaders).map((n) => n.toLowerCase()))
  for (const [name, values] of Object.entries(multiValueHeaders)) {
    if (!Array.isArray(values) || !values.every((v) => add(name, v))) return internalError()
  }
  for (const [name, value] of Object.entries(headers)) {
    if (multiNames.has(name.toLowerCase())) continue
    if (!add(name, value)) return internalError()
  }
  const text = body ?? ''
  return {
    status: statusCode,
    headers: mapped,
    cookies,
    body: isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  }
}
