import {randomBytes} from 'node:crypto'

import {isOrigin} from '../core/function-config.js'
import type {ControlContext, Result} from './control-api.js'
import {arnOf, nameOf} from './arns.js'
import {invalid, notFound, resourceConflict, resourceMissing, validation} from './lambda-errors.js'
import type {CorsConfig, FunctionUrlConfig, LocalFunction} from './types.js'

/**
 * The Function URL half of Lambda's control plane (2021-10-31/functions/{name}/url[s]): create, get,
 * update, delete and list URL configs, with Lambda's checks of AuthType, InvokeMode, Qualifier and
 * Cors. A config lives on its function (so the function store persists it); the service's URL
 * fronts (url-front.ts) make it answer.
 */

export type UrlBody = Partial<{AuthType: unknown; Cors: unknown; InvokeMode: unknown}>

const QUALIFIER = /^[0-9a-zA-Z-_]{1,128}$/
const AUTH_TYPES = ['AWS_IAM', 'NONE']
const INVOKE_MODES = ['BUFFERED', 'RESPONSE_STREAM']
const METHODS = ['*', 'GET', 'PUT', 'HEAD', 'POST', 'PATCH', 'DELETE']
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export const urlOf = (port: number): string => `http://127.0.0.1:${port}/`

/** `$LATEST` (also for no qualifier) or an existing alias; a version number never has a URL. */
export function urlQualifier(
  ctx: Pick<ControlContext, 'region' | 'accountId' | 'aliases'>,
  fn: LocalFunction,
  qualifier: string | null,
): string {
  if (qualifier === null || qualifier === '' || qualifier === '$LATEST') return '$LATEST'
  if (/^\d+$/.test(qualifier) || !QUALIFIER.test(qualifier))
    throw validation(
      qualifier,
      'qualifier',
      'Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$) (a function URL is for an ' +
        'alias or $LATEST, never a version)',
    )
  if (!ctx.aliases(fn, qualifier)) throw notFound(`${arnOf(ctx, fn.name)}:${qualifier}`)
  return qualifier
}

function stringList(value: unknown, field: string, most: number, longest: number, shortest = 0): string[] {
  if (!Array.isArray(value)) throw validation(value, field, 'Member must be a list of strings')
  if (value.length > most) throw validation(value, field, `Member must have length less than or equal to ${most}`)
  for (const item of value) {
    if (typeof item !== 'string') throw validation(value, field, 'Member must be a list of strings')
    if (item.length > longest || item.length < shortest)
      throw validation(
        value,
        field,
        `Member must satisfy constraint: [Member must have length less than or equal to ${longest}, Member must ` +
          `have length greater than or equal to ${shortest}]`,
      )
  }
  return value as string[]
}

function checkOrigin(origin: string): void {
  if (!isOrigin(origin))
    throw invalid(
      `Cors.AllowOrigins: "${origin}" is not an origin. Give * or a scheme, host and optional port with nothing ` +
        `after them, such as https://www.example.com or http://localhost:3000.`,
    )
}

/** Lambda's Cors with its limits: lists of at most 100 (methods: 6), origins that are origins, MaxAge 0–86400. */
export function checkCors(value: unknown): CorsConfig | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw validation(value, 'cors', 'Member must be a structure')
  const given = value as Record<string, unknown>
  const cors: CorsConfig = {}
  if (given.AllowCredentials !== undefined) {
    if (typeof given.AllowCredentials !== 'boolean')
      throw validation(given.AllowCredentials, 'cors.allowCredentials', 'Member must be a boolean')
    cors.AllowCredentials = given.AllowCredentials
  }
  for (const [key, field] of [
    ['AllowHeaders', 'cors.allowHeaders'],
    ['ExposeHeaders', 'cors.exposeHeaders'],
  ] as const) {
    if (given[key] === undefined) continue
    const headers = stringList(given[key], field, 100, 1024)
    const bad = headers.find((h) => !TOKEN.test(h))
    if (bad !== undefined) throw invalid(`Cors.${key}: "${bad}" is not an HTTP header name.`)
    cors[key] = headers
  }
  if (given.AllowMethods !== undefined) {
    const methods = stringList(given.AllowMethods, 'cors.allowMethods', 6, 6)
    const bad = methods.find((m) => !METHODS.includes(m.toUpperCase()))
    if (bad !== undefined) throw invalid(`Cors.AllowMethods: "${bad}" is not one of ${METHODS.join(', ')}.`)
    cors.AllowMethods = methods
  }
  if (given.AllowOrigins !== undefined) {
    cors.AllowOrigins = stringList(given.AllowOrigins, 'cors.allowOrigins', 100, 253, 1)
    cors.AllowOrigins.forEach(checkOrigin)
  }
  if (given.MaxAge !== undefined) {
    const age = given.MaxAge
    if (typeof age !== 'number' || !Number.isInteger(age) || age < 0 || age > 86400)
      throw validation(age, 'cors.maxAge', 'Member must have value between 0 and 86400')
    cors.MaxAge = age
  }
  return cors
}

function authTypeOf(value: unknown): FunctionUrlConfig['authType'] {
  if (typeof value !== 'string' || !AUTH_TYPES.includes(value))
    throw validation(value, 'authType', `Member must satisfy enum value set: [${AUTH_TYPES.join(', ')}]`)
  return value as FunctionUrlConfig['authType']
}

function invokeModeOf(value: unknown): FunctionUrlConfig['invokeMode'] {
  if (typeof value !== 'string' || !INVOKE_MODES.includes(value))
    throw validation(value, 'invokeMode', `Member must satisfy enum value set: [${INVOKE_MODES.join(', ')}]`)
  return value as FunctionUrlConfig['invokeMode']
}

function functionOf(ctx: ControlContext, ref: string): LocalFunction {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx, name))
  return fn
}

/** The ARN a qualifier's URL or policy is for: the function's own for `$LATEST`, the alias's otherwise. */
export const qualifiedArn = (ctx: Pick<ControlContext, 'region' | 'accountId'>, name: string, qualifier: string) =>
  qualifier === '$LATEST' ? arnOf(ctx, name) : `${arnOf(ctx, name)}:${qualifier}`

/** The API's FunctionUrlConfig for a config. */
export function describeUrl(
  ctx: Pick<ControlContext, 'region' | 'accountId'>,
  fn: LocalFunction,
  c: FunctionUrlConfig,
) {
  return {
    FunctionUrl: urlOf(c.port ?? 0),
    FunctionArn: qualifiedArn(ctx, fn.name, c.qualifier),
    AuthType: c.authType,
    ...(c.cors ? {Cors: c.cors} : {}),
    CreationTime: c.creationTime,
    LastModifiedTime: c.lastModifiedTime,
    InvokeMode: c.invokeMode,
  }
}

const now = (): string => new Date().toISOString().replace('Z', '000Z')

function existing(ctx: ControlContext, ref: string, query: URLSearchParams) {
  const fn = functionOf(ctx, ref)
  const qualifier = urlQualifier(ctx, fn, query.get('Qualifier'))
  const config = fn.urls?.find((u) => u.qualifier === qualifier)
  if (!config) throw resourceMissing()
  return {fn, config}
}

export async function createUrl(ctx: ControlContext, ref: string, query: URLSearchParams, body: UrlBody) {
  const fn = functionOf(ctx, ref)
  const qualifier = urlQualifier(ctx, fn, query.get('Qualifier'))
  const authType = authTypeOf(body.AuthType)
  const cors = checkCors(body.Cors)
  const invokeMode = body.InvokeMode === undefined ? 'BUFFERED' : invokeModeOf(body.InvokeMode)
  const exists = () => fn.urls?.some((u) => u.qualifier === qualifier)
  const refuse = () =>
    resourceConflict(
      `Failed to create function url config for [functionArn = ${qualifiedArn(ctx, fn.name, qualifier)}]. ` +
        `Error message:  FunctionUrlConfig exists for this Lambda function`,
    )
  if (exists()) throw refuse()
  const time = now()
  const config: FunctionUrlConfig = {
    urlId: randomBytes(16).toString('hex'),
    qualifier,
    authType,
    ...(cors ? {cors} : {}),
    invokeMode,
    creationTime: time,
    lastModifiedTime: time,
  }
  config.port = await ctx.urls.open(fn, config)
  // Two creates racing both passed the check while the first listened: one wins, the other's port closes.
  if (exists() || ctx.functions.get(fn.name) !== fn) {
    await ctx.urls.close(config.urlId)
    throw refuse()
  }
  fn.urls = [...(fn.urls ?? []), config]
  await ctx.changed(fn.name, 'url')
  const {LastModifiedTime: _, ...created} = describeUrl(ctx, fn, config)
  return [201, created] as Result
}

export function getUrl(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  const {fn, config} = existing(ctx, ref, query)
  return [200, describeUrl(ctx, fn, config)]
}

export async function updateUrl(ctx: ControlContext, ref: string, query: URLSearchParams, body: UrlBody) {
  const {fn, config} = existing(ctx, ref, query)
  // Checked whole before anything changes.
  const authType = body.AuthType === undefined ? config.authType : authTypeOf(body.AuthType)
  const cors = body.Cors === undefined ? config.cors : checkCors(body.Cors)
  const invokeMode = body.InvokeMode === undefined ? config.invokeMode : invokeModeOf(body.InvokeMode)
  config.authType = authType
  config.invokeMode = invokeMode
  if (cors) config.cors = cors
  else delete config.cors
  config.lastModifiedTime = now()
  await ctx.changed(fn.name, 'url')
  return [200, describeUrl(ctx, fn, config)] as Result
}

export async function deleteUrl(ctx: ControlContext, ref: string, query: URLSearchParams): Promise<Result> {
  const {fn, config} = existing(ctx, ref, query)
  fn.urls = fn.urls!.filter((u) => u !== config)
  await ctx.urls.close(config.urlId)
  await ctx.changed(fn.name, 'url')
  return [204, undefined]
}

export function listUrls(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  const fn = functionOf(ctx, ref)
  const maxText = query.get('MaxItems')
  const max = maxText === null ? 50 : Number(maxText)
  if (!Number.isInteger(max) || max < 1 || max > 50)
    throw validation(maxText, 'maxItems', 'Member must have value between 1 and 50')
  const start = Number(query.get('Marker') ?? 0)
  if (!Number.isInteger(start) || start < 0) throw invalid('Marker is not one this service gave out.')
  const all = fn.urls ?? []
  const page = all.slice(start, start + max)
  return [
    200,
    {
      FunctionUrlConfigs: page.map((c) => describeUrl(ctx, fn, c)),
      ...(start + max < all.length ? {NextMarker: String(start + max)} : {}),
    },
  ]
}
