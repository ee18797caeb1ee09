import {UserError} from './errors.js'

/**
 * HTTP routes in front of functions, as an API Gateway HTTP API declares and matches them: a route key is
 * `$default` or `METHOD /path` (METHOD one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY; a path segment a
 * literal, `{name}`, or, last, the greedy `{name+}`). Matching is API Gateway's: the most specific route
 * wins (literal segments before variables, variables before a greedy one, a method before ANY), then
 * `$default`; nothing matching is 404 `{"message":"Not Found"}`. Pure: the manifest and the local
 * service's API front share it.
 */

export type PayloadFormat = '1.0' | '2.0'

export interface ApiRoute {
  /** As written: `$default` or `METHOD /path`. */
  routeKey: string
  /** The function it invokes (the manifest's short name until deploy resolves it). */
  function: string
  payloadFormat: PayloadFormat
}

export interface ApiSpec {
  /** The stage, the URL's first path segment; `$default` serves from the root. */
  stage: string
  routes: ApiRoute[]
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$/
const VARIABLE = /^\{([A-Za-z_][A-Za-z0-9_.-]*)(\+?)\}$/
const STAGE = /^(\$default|[A-Za-z0-9_-]{1,128})$/

type Segment = {kind: 'literal'; text: string} | {kind: 'variable'; name: string} | {kind: 'greedy'; name: string}

export interface ParsedRoute extends ApiRoute {
  method: string | undefined
  /** The route's path as written (the 1.0 event's `resource`). */
  path: string
  segments: Segment[]
}

const routeError = (what: string, fix: string) => new UserError(what, {code: 'BAD_ROUTE', fix})

const FORMAT_FIX =
  'Write `$default` or `METHOD /path`, METHOD one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY, and each ' +
  'path segment a literal, {name}, or (last only) {name+}: e.g. POST /stateflow, GET /items/{id}, ANY /{proxy+}.'

/** One route key, checked; `where` names it in errors (e.g. the manifest file). */
export function parseRouteKey(routeKey: string, where: string): Omit<ParsedRoute, 'function' | 'payloadFormat'> {
  if (routeKey === '$default') return {routeKey, method: undefined, path: '$default', segments: []}
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey)
  if (!match || !METHODS.includes(match[1]!))
    throw routeError(`${where}: route "${routeKey}" is not a route key.`, FORMAT_FIX)
  const [, method, path] = match as unknown as [string, string, string]
  const parts = path === '/' ? [] : path.slice(1).split('/')
  const names = new Set<string>()
  const segments = parts.map((part, i): Segment => {
    const variable = VARIABLE.exec(part)
    if (variable) {
      const name = variable[1]!
      if (names.has(name))
        throw routeError(
          `${where}: route "${routeKey}" names {${name}} twice.`,
          'Give each path variable its own name.',
        )
      names.add(name)
      if (variable[2] && i !== parts.length - 1)
        throw routeError(`${where}: route "${routeKey}" has a greedy {${name}+} before its last segment.`, FORMAT_FIX)
      return variable[2] ? {kind: 'greedy', name} : {kind: 'variable', name}
    }
    if (!LITERAL.test(part) || part.includes('{') || part.includes('}'))
      throw routeError(`${where}: route "${routeKey}" has the path segment "${part}", which is not one.`, FORMAT_FIX)
    return {kind: 'literal', text: part}
  })
  return {routeKey, method, path, segments}
}

/** The route's shape with variables unnamed: two routes of one method and shape conflict. */
const shapeOf = (r: Omit<ParsedRoute, 'function' | 'payloadFormat'>) => {
  const shape = r.segments.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'variable' ? '{}' : '{+}'))
  return `${r.method ?? ''} ${shape.join('/')}`
}

/** A whole API, checked: stage, route keys, no two routes that would match the same requests, known functions. */
export function checkApi(api: ApiSpec, functions: string[], where: string): ParsedRoute[] {
  if (!STAGE.test(api.stage))
    throw routeError(
      `${where}: stage "${api.stage}" is not a stage name.`,
      'Use $default (served from the root) or letters, digits, "_" and "-" (up to 128), e.g. dev.',
    )
  if (api.routes.length === 0) throw routeError(`${where}: the API has no routes.`, 'Add at least one route.')
  const seen = new Map<string, string>()
  return api.routes.map((route) => {
    const parsed = parseRouteKey(route.routeKey, where)
    const shape = shapeOf(parsed)
    const other = seen.get(shape)
    if (other !== undefined)
      throw routeError(
        `${where}: routes "${other}" and "${route.routeKey}" match the same requests.`,
        'Keep one of them, or change a method or a literal segment.',
      )
    seen.set(shape, route.routeKey)
    if (!functions.includes(route.function))
      throw routeError(
        `${where}: route "${route.routeKey}" names the function "${route.function}", which is not one of its ` +
          `functions.`,
        `Name one of: ${functions.join(', ')}.`,
      )
    if (route.payloadFormat !== '1.0' && route.payloadFormat !== '2.0')
      throw routeError(
        `${where}: route "${route.routeKey}" has payload format "${String(route.payloadFormat)}".`,
        'Use "1.0" (the REST-proxy event) or "2.0".',
      )
    return {...parsed, function: route.function, payloadFormat: route.payloadFormat}
  })
}

export interface RouteMatch {
  route: ParsedRoute
  pathParameters: Record<string, string>
}

const decodeSegment = (text: string) => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** A matching route's ranks (lower: more specific): per segment literal 0, variable 1, greedy 2; ANY after a method. */
function matchOne(
  route: ParsedRoute,
  method: string,
  parts: string[],
): {rank: number[]; params: Record<string, string>} | undefined {
  if (route.method === undefined) return undefined
  if (route.method !== 'ANY' && route.method !== method) return undefined
  const params: Record<string, string> = {}
  const rank: number[] = []
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i]!
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i)
      if (rest.length === 0 || rest.every((p) => p === '')) return undefined
      params[segment.name] = decodeSegment(rest.join('/'))
      rank.push(2)
      return {rank: [...rank, route.method === 'ANY' ? 1 : 0], params}
    }
    const part = parts[i]
    if (part === undefined || part === '') return undefined
    if (segment.kind === 'literal') {
      if (segment.text !== part) return undefined
      rank.push(0)
    } else {
      params[segment.name] = decodeSegment(part)
      rank.push(1)
    }
  }
  if (parts.length !== route.segments.length) return undefined
  return {rank: [...rank, route.method === 'ANY' ? 1 : 0], params}
}

const compareRanks = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1)
    if (d !== 0) return d
  }
  return 0
}

/** The route a request (method, path below the stage, still percent-encoded) goes to, or undefined: 404. */
export function matchRoute(routes: ParsedRoute[], method: string, path: string): RouteMatch | undefined {
  const trimmed = path.replace(/^\/+/, '')
  const parts = trimmed === '' ? [] : trimmed.split('/')
  let best: {route: ParsedRoute; rank: number[]; params: Record<string, string>} | undefined
  for (const route of routes) {
    const m = matchOne(route, method.toUpperCase(), parts)
    if (m && (!best || compareRanks(m.rank, best.rank) < 0)) best = {route, ...m}
  }
  if (best) return {route: best.route, pathParameters: best.params}
  const fallback = routes.find((r) => r.routeKey === '$default')
  return fallback ? {route: fallback, pathParameters: {}} : undefined
}
