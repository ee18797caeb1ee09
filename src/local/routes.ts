import type {IncomingMessage, ServerResponse} from 'node:http'

import {accountSettings} from './account.js'
import {nameOf} from './arns.js'
import type {ApiFronts} from './api-front.js'
import * as control from './control-api.js'
import * as eventInvoke from './event-invoke-config.js'
import * as provisioned from './provisioned-api.js'
import * as versions from './version-api.js'
import {jsonBody, sendJson} from './http.js'
import {accessDenied, resourceMissing, unknownOperation} from './lambda-errors.js'
import * as permissions from './permissions.js'
import type {KnownKey} from './sigv4.js'
import * as urls from './url-config.js'

/** What the routes call on the service. */
export interface RouteContext {
  invoke(ref: string, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>
  invokeStreaming(ref: string, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>
  control(): control.ControlContext
  health(): Record<string, unknown>
  logsOf(name: string): string[]
  shutdown(): void
  /** The benchmarks' HTTP APIs (api-front.ts). */
  apis: Pick<ApiFronts, 'put' | 'delete' | 'list'>
}

/** The control plane's routes, as [method, path, handler]: the handler gets the query and the path's captures. */
type Route = [
  string,
  RegExp,
  (ctx: control.ControlContext, body: Buffer, query: URLSearchParams, ...names: string[]) => unknown,
]

const FUNCTIONS = /^\/2015-03-31\/functions\/?$/
const FUNCTION = /^\/2015-03-31\/functions\/([^/]+)\/?$/
const CONFIGURATION = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/
const CODE = /^\/2015-03-31\/functions\/([^/]+)\/code$/
const CONCURRENCY = /^\/20\d\d-\d\d-\d\d\/functions\/([^/]+)\/concurrency$/
const VERSIONS = /^\/2015-03-31\/functions\/([^/]+)\/versions\/?$/
const ALIASES = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/?$/
const PROVISIONED = /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency\/?$/
const ACCOUNT_SETTINGS = /^\/2016-08-19\/account-settings\/?$/
const ALIAS = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)\/?$/

const CONTROL: Route[] = [
  ['GET', FUNCTIONS, (ctx) => control.listFunctions(ctx)],
  ['GET', ACCOUNT_SETTINGS, (ctx) => accountSettings(ctx)],
  ['POST', FUNCTIONS, (ctx, body) => control.createFunction(ctx, jsonBody(body) as control.CreateFunctionBody)],
  ['GET', FUNCTION, (ctx, _, query, name) => control.getFunction(ctx, name!, query.get('Qualifier'))],
  ['DELETE', FUNCTION, (ctx, _, query, name) => control.deleteFunction(ctx, name!, query.get('Qualifier'))],
  ['GET', CONFIGURATION, (ctx, _, query, name) => control.getConfiguration(ctx, name!, query.get('Qualifier'))],
  [
    'PUT',
    CONFIGURATION,
    (ctx, body, _, name) => control.updateConfiguration(ctx, name!, jsonBody(body) as control.UpdateConfigurationBody),
  ],
  ['PUT', CODE, (ctx, body, _, name) => control.updateCode(ctx, name!, jsonBody(body) as control.UpdateCodeBody)],
  [
    'PUT',
    CONCURRENCY,
    (ctx, body, _, name) => control.putConcurrency(ctx, name!, jsonBody(body) as control.PutConcurrencyBody),
  ],
  ['GET', CONCURRENCY, (ctx, _, __, name) => control.getConcurrency(ctx, name!)],
  ['DELETE', CONCURRENCY, (ctx, _, __, name) => control.deleteConcurrency(ctx, name!)],
  ['POST', VERSIONS, (ctx, body, _, name) => versions.publishVersion(ctx, name!, jsonBody(body))],
  ['GET', VERSIONS, (ctx, _, query, name) => versions.listVersions(ctx, name!, query)],
  ['POST', ALIASES, (ctx, body, _, name) => versions.createAlias(ctx, name!, jsonBody(body))],
  ['GET', ALIASES, (ctx, _, query, name) => versions.listAliases(ctx, name!, query)],
  ['GET', ALIAS, (ctx, _, __, name, alias) => versions.getAlias(ctx, name!, alias!)],
  ['PUT', ALIAS, (ctx, body, _, name, alias) => versions.updateAlias(ctx, name!, alias!, jsonBody(body))],
  ['DELETE', ALIAS, (ctx, _, __, name, alias) => versions.deleteAlias(ctx, name!, alias!)],
  ['PUT', PROVISIONED, (ctx, body, query, name) => provisioned.putProvisioned(ctx, name!, query, jsonBody(body))],
  ['GET', PROVISIONED, (ctx, _, query, name) => provisioned.getProvisioned(ctx, name!, query)],
  ['DELETE', PROVISIONED, (ctx, _, query, name) => provisioned.deleteProvisioned(ctx, name!, query)],
]

/** Routes that read the query (Qualifier, MaxItems, Marker) too. */
type QueriedRoute = [
  string,
  RegExp,
  (ctx: control.ControlContext, body: Buffer, query: URLSearchParams, ...names: string[]) => unknown,
]

const URL_CONFIG = /^\/2021-10-31\/functions\/([^/]+)\/url\/?$/
const URL_CONFIGS = /^\/2021-10-31\/functions\/([^/]+)\/urls\/?$/
const POLICY = /^\/2015-03-31\/functions\/([^/]+)\/policy\/?$/
const STATEMENT = /^\/2015-03-31\/functions\/([^/]+)\/policy\/([^/]+)$/

const QUERIED: QueriedRoute[] = [
  ['POST', URL_CONFIG, (ctx, body, query, name) => urls.createUrl(ctx, name!, query, jsonBody(body))],
  ['GET', URL_CONFIG, (ctx, _, query, name) => urls.getUrl(ctx, name!, query)],
  ['PUT', URL_CONFIG, (ctx, body, query, name) => urls.updateUrl(ctx, name!, query, jsonBody(body))],
  ['DELETE', URL_CONFIG, (ctx, _, query, name) => urls.deleteUrl(ctx, name!, query)],
  ['GET', URL_CONFIGS, (ctx, _, query, name) => urls.listUrls(ctx, name!, query)],
  ['POST', POLICY, (ctx, body, query, name) => permissions.addPermission(ctx, name!, query, jsonBody(body))],
  ['GET', POLICY, (ctx, _, query, name) => permissions.getPolicy(ctx, name!, query)],
  ['DELETE', STATEMENT, (ctx, _, query, name, sid) => permissions.removePermission(ctx, name!, sid!, query)],
]

const EVENT_INVOKE_CONFIG = /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/
const EVENT_INVOKE_CONFIGS = /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config\/list$/

/** The FunctionEventInvokeConfig calls (they take the Qualifier from the query). */
function eventInvokeConfig(
  ctx: control.ControlContext,
  method: string,
  url: URL,
  body: Buffer,
): Promise<control.Result> | control.Result | undefined {
  let m: RegExpExecArray | null
  if ((m = EVENT_INVOKE_CONFIGS.exec(url.pathname)) && method === 'GET')
    return eventInvoke.listEventInvokeConfigs(ctx, m[1]!)
  if (!(m = EVENT_INVOKE_CONFIG.exec(url.pathname))) return undefined
  const qualifier = url.searchParams.get('Qualifier') ?? undefined
  const config = () => jsonBody(body) as eventInvoke.EventInvokeConfigBody
  if (method === 'PUT') return eventInvoke.putEventInvokeConfig(ctx, m[1]!, qualifier, config(), true)
  if (method === 'POST') return eventInvoke.putEventInvokeConfig(ctx, m[1]!, qualifier, config(), false)
  if (method === 'GET') return eventInvoke.getEventInvokeConfig(ctx, m[1]!, qualifier)
  if (method === 'DELETE') return eventInvoke.deleteEventInvokeConfig(ctx, m[1]!, qualifier)
  return undefined
}

const MAPPINGS = /^\/2015-03-31\/event-source-mappings\/?$/
const MAPPING = /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/

/** The EventSourceMapping calls (List filters by the query's FunctionName and EventSourceArn). */
function eventSourceMapping(
  ctx: control.ControlContext,
  method: string,
  url: URL,
  body: Buffer,
): Promise<control.Result> | control.Result | undefined {
  const mappings = ctx.mappings
  if (!mappings) return undefined
  let m: RegExpExecArray | null
  const fields = () => jsonBody(body) as Record<string, unknown>
  if (MAPPINGS.test(url.pathname)) {
    if (method === 'POST') return mappings.create(fields())
    if (method === 'GET')
      return mappings.list(url.searchParams.get('FunctionName'), url.searchParams.get('EventSourceArn'))
  } else if ((m = MAPPING.exec(url.pathname))) {
    const uuid = decodeURIComponent(m[1]!)
    if (method === 'GET') return mappings.get(uuid)
    if (method === 'PUT') return mappings.update(uuid, fields())
    if (method === 'DELETE') return mappings.delete(uuid)
  }
  return undefined
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/
const INVOKE_STREAMING = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations\/?$/
const LOGS = /^\/faas\/functions\/([^/]+)\/logs$/
const API = /^\/faas\/apis\/([^/]+)$/

/**
 * A signed request's route. Invoke is open to every key; the rest (control plane, health,
 * shutdown, logs) only to the service's own pair, not to the sessions functions sign with.
 */
export async function route(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  key: KnownKey,
): Promise<void> {
  const path = url.pathname
  const method = req.method ?? 'GET'
  let m: RegExpExecArray | null
  if ((m = INVOKE.exec(path)) && method === 'POST') return ctx.invoke(m[1]!, req, res, body)
  if ((m = INVOKE_STREAMING.exec(path)) && method === 'POST') return ctx.invokeStreaming(m[1]!, req, res, body)
  if (key.scope !== 'all') {
    throw accessDenied(
      `User: ${key.principal} is not authorized to perform: ${method} ${path} (function credentials may only ` +
        `invoke functions).`,
    )
  }
  if (path === '/faas/health') return sendJson(res, 200, ctx.health())
  if (path === '/faas/shutdown' && method === 'POST') {
    sendJson(res, 202, {status: 'stopping'})
    ctx.shutdown()
    return
  }
  if ((m = LOGS.exec(path))) return sendJson(res, 200, {lines: ctx.logsOf(nameOf(m[1]!))})
  const configured =
    (await eventInvokeConfig(ctx.control(), method, url, body)) ??
    (await eventSourceMapping(ctx.control(), method, url, body))
  if (configured) return sendJson(res, configured[0], configured[1])
  if (path === '/faas/apis' && method === 'GET') return sendJson(res, 200, {apis: ctx.apis.list()})
  if ((m = API.exec(path)) && method === 'PUT')
    return sendJson(res, 200, await ctx.apis.put(decodeURIComponent(m[1]!), jsonBody(body)))
  if (m && method === 'DELETE') {
    if (!(await ctx.apis.delete(decodeURIComponent(m[1]!)))) throw resourceMissing()
    return sendJson(res, 204, undefined)
  }
  for (const [verb, pattern, handler] of CONTROL) {
    if (verb !== method || !(m = pattern.exec(path))) continue
    const [status, answer] = (await handler(ctx.control(), body, url.searchParams, ...m.slice(1))) as control.Result
    return sendJson(res, status, answer)
  }
  for (const [verb, pattern, handler] of QUERIED) {
    if (verb !== method || !(m = pattern.exec(path))) continue
    const [status, answer] = (await handler(ctx.control(), body, url.searchParams, ...m.slice(1))) as control.Result
    return sendJson(res, status, answer)
  }
  throw unknownOperation(method, path)
}
