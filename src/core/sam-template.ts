import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Node} from 'yaml'

import {checkApi, type ApiRoute, type ApiSpec} from './api-routes.js'
import {UserError} from './errors.js'
import {checkEnv, checkMemory, checkTimeout, isOrigin, type FunctionUrlSpec} from './function-config.js'
import {checkFunctionName} from './names.js'

/**
 * An AWS SAM template as `sam local start-lambda` / `start-api` read it, for the functions faas runs:
 * `AWS::Serverless::Function` with `PackageType: Image` (ImageUri, MemorySize, Timeout, Environment,
 * Architectures, ImageConfig.Command), `Globals.Function`, `Events` of type `Api` / `HttpApi` (routes) and
 * `FunctionUrlConfig`. Intrinsics are resolved where faas can (`Ref` to a parameter's Default, a pseudo
 * parameter or a function; `Sub`; `Join`); those it cannot are named with their line, all at once. Resources
 * it does not emulate are listed, not dropped silently. Pure: the caller reads the file.
 */

export interface TemplateFunction {
  logicalId: string
  name: string
  imageUri: string
  memoryMb: number
  timeoutS: number
  env: Record<string, string>
  architecture: 'arm64' | 'x86_64'
  /** ImageConfig.Command's one element (the handler). */
  handler?: string
  url?: FunctionUrlSpec
}

export interface SamTemplate {
  functions: TemplateFunction[]
  /** The Api / HttpApi events as one API served from the root (as `sam local start-api` serves them). */
  api?: ApiSpec
  /** What faas does not emulate: `LogicalId (Type)`, and function properties it leaves out. */
  ignored: string[]
}

/** An intrinsic function as written (short `!Ref` or long `{Ref: …}` form), with its line. */
class Intrinsic {
  constructor(
    readonly fn: string,
    readonly arg: unknown,
    readonly line: number,
  ) {}
}

const LONG = /^(Ref|Condition|Fn::[A-Za-z]+)$/

/** The YAML (or JSON) tree as plain values, intrinsics kept as Intrinsic with the line they are on. */
function toValue(node: unknown, lines: LineCounter, line = 1): unknown {
  const here = (n: Node | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : line)
  let value: unknown
  if (isMap(node)) {
    const out: Record<string, unknown> = {}
    for (const pair of node.items) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key)
      out[key] = toValue(pair.value, lines, here(pair.key as Node))
    }
    const keys = Object.keys(out)
    value = keys.length === 1 && LONG.test(keys[0]!) ? new Intrinsic(keys[0]!, out[keys[0]!], line) : out
  } else if (isSeq(node)) {
    value = node.items.map((item) => toValue(item, lines, here(item as Node)))
  } else if (isScalar(node)) {
    value = node.value
  } else value = node ?? null
  const tag = (node as {tag?: string} | null)?.tag
  if (tag?.startsWith('!') && !tag.startsWith('!!')) {
    const name = tag.slice(1)
    const fn = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`
    // !GetAtt A.B is the long form's [A, B].
    const arg = fn === 'Fn::GetAtt' && typeof value === 'string' ? value.split('.') : value
    return new Intrinsic(fn, arg, line)
  }
  return value
}

const PSEUDO: Record<string, (ctx: Context) => string> = {
  'AWS::Region': (c) => c.region,
  'AWS::AccountId': (c) => c.accountId,
  'AWS::StackName': (c) => c.stackName,
  'AWS::Partition': () => 'aws',
  'AWS::URLSuffix': () => 'amazonaws.com',
}

interface Context {
  region: string
  accountId: string
  stackName: string
  parameters: Record<string, unknown>
  /** Function logical ids and their names (Ref to a function is its name). */
  functionNames: Record<string, string>
  unresolved: string[]
  file: string
}

const NO_VALUE = Symbol('AWS::NoValue')

function resolveName(name: string, ctx: Context, line: number, shown: string): unknown {
  if (name === 'AWS::NoValue') return NO_VALUE
  if (PSEUDO[name]) return PSEUDO[name](ctx)
  if (name in ctx.parameters) return ctx.parameters[name]
  if (name in ctx.functionNames) return ctx.functionNames[name]
  ctx.unresolved.push(`line ${line}: ${shown}`)
  return undefined
}

/** Resolves the intrinsics faas can; the others are recorded (with their line) and give undefined. */
function resolve(value: unknown, ctx: Context): unknown {
  if (value instanceof Intrinsic) {
    const {fn, arg, line} = value
    if (fn === 'Ref' && typeof arg === 'string') return resolveName(arg, ctx, line, `!Ref ${arg}`)
    if (fn === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? [arg[0], resolve(arg[1], ctx) as Record<string, unknown>] : [arg, {}]
      if (typeof text !== 'string') return void ctx.unresolved.push(`line ${line}: !Sub without a string`)
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
        if (vars && name in vars) return String(vars[name])
        if (name.includes('.')) {
          ctx.unresolved.push(`line ${line}: \${${name}} in !Sub`)
          return ''
        }
        return String(resolveName(name, ctx, line, `\${${name}} in !Sub`) ?? '')
      })
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string') {
      const list = resolve(arg[1], ctx)
      return Array.isArray(list) ? list.map(String).join(arg[0]) : undefined
    }
    const shown = fn === 'Fn::GetAtt' && Array.isArray(arg) ? arg.join('.') : JSON.stringify(arg)
    ctx.unresolved.push(`line ${line}: !${fn.replace(/^Fn::/, '')} ${shown}`)
    return undefined
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx)).filter((v) => v !== NO_VALUE)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const r = resolve(v, ctx)
      if (r !== NO_VALUE) out[k] = r
    }
    return out
  }
  return value
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const READ = new Set([
  'PackageType',
  'ImageUri',
  'MemorySize',
  'Timeout',
  'Environment',
  'Architectures',
  'ImageConfig',
  'Events',
  'FunctionUrlConfig',
  'FunctionName',
  'Metadata',
])

export function parseSamTemplate(
  text: string,
  file: string,
  where: {region: string; accountId: string; stackName: string; parameters?: Record<string, string>},
): SamTemplate {
  const bad = (what: string, fix = 'See docs/local.md#sam-templates for what faas reads.') =>
    new UserError(`${file}: ${what}`, {code: 'BAD_TEMPLATE', fix})
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, uniqueKeys: false})
  if (doc.errors.length > 0)
    throw bad(`is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}.`, 'Fix the syntax.')
  const raw = toValue(doc.contents, lines)
  if (!isObject(raw) || !isObject(raw.Resources)) throw bad('has no Resources.')
  const resources = raw.Resources as Record<string, unknown>
  const ctx: Context = {
    ...where,
    parameters: parametersOf(raw, where.parameters ?? {}, bad),
    functionNames: {},
    unresolved: [],
    file,
  }
  const globals = isObject(raw.Globals) && isObject(raw.Globals.Function) ? raw.Globals.Function : {}
  const ignored: string[] = []
  const fns: Array<[string, Record<string, unknown>]> = []
  for (const [id, r] of Object.entries(resources)) {
    const type = isObject(r) ? String(r.Type) : '?'
    const props = isObject(r) && isObject(r.Properties) ? r.Properties : {}
    const merged = {...globals, ...props}
    // As SAM merges them: the function's variables over the Globals' ones.
    const envOf = (e: unknown) => (isObject(e) && isObject(e.Variables) ? e.Variables : {})
    if (globals.Environment !== undefined || props.Environment !== undefined)
      merged.Environment = {Variables: {...envOf(globals.Environment), ...envOf(props.Environment)}}
    if (type === 'AWS::Serverless::Function' && merged.PackageType === 'Image') fns.push([id, merged])
    else ignored.push(`${id} (${type === 'AWS::Serverless::Function' ? 'a Zip function: faas runs images' : type})`)
  }
  for (const [id, p] of fns) {
    const name = resolve(p.FunctionName ?? id, ctx)
    ctx.functionNames[id] = typeof name === 'string' ? name : id
  }
  // Only what faas reads is resolved (an intrinsic in Policies, say, is not faas's to resolve), all before any check.
  const resolved = fns.map(([id, given]) => {
    for (const key of Object.keys(given)) if (!READ.has(key)) ignored.push(`${id}.${key}`)
    const picked = Object.fromEntries(Object.entries(given).filter(([k]) => READ.has(k)))
    return [id, resolve(picked, ctx) as Record<string, unknown>] as const
  })
  // Globals are resolved once per function: each one named once.
  const unresolved = [...new Set(ctx.unresolved)]
  if (unresolved.length > 0)
    throw bad(
      `faas cannot resolve ${unresolved.length === 1 ? 'this intrinsic function' : 'these intrinsic functions'}: ` +
        `${unresolved.join('; ')}.`,
      'Replace each with a literal value or a !Ref to a Parameter with a Default (pseudo parameters such as ' +
        'AWS::Region, !Sub and !Join are resolved).',
    )
  const functions = resolved.map(([id, p]) => functionOf(id, ctx.functionNames[id]!, p, bad))
  if (functions.length === 0)
    throw bad('has no AWS::Serverless::Function with PackageType: Image.', 'faas runs container-image functions.')
  const routes = resolved.flatMap(([id, p], i) => routesOf(id, functions[i]!.name, p.Events, ignored))
  const api = routes.length > 0 ? {stage: '$default', routes} : undefined
  if (api)
    checkApi(
      api,
      functions.map((f) => f.name),
      file,
    )
  return {functions, ...(api ? {api} : {}), ignored}
}

/** The template's parameters: their Defaults, and the overrides (each must name a declared parameter). */
function parametersOf(
  raw: Record<string, unknown>,
  overrides: Record<string, string>,
  bad: (what: string, fix?: string) => UserError,
): Record<string, unknown> {
  const declared = isObject(raw.Parameters) ? raw.Parameters : {}
  const parameters: Record<string, unknown> = {}
  for (const [name, p] of Object.entries(declared))
    if (isObject(p) && p.Default !== undefined) parameters[name] = p.Default
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in declared))
      throw bad(
        `--parameter-overrides names ${name}, which is not one of its Parameters.`,
        `Its parameters are: ${Object.keys(declared).join(', ') || 'none'}.`,
      )
    parameters[name] = value
  }
  return parameters
}

function functionOf(
  id: string,
  name: string,
  p: Record<string, unknown>,
  bad: (what: string, fix?: string) => UserError,
): TemplateFunction {
  const env = isObject(p.Environment) && isObject(p.Environment.Variables) ? p.Environment.Variables : {}
  const command = isObject(p.ImageConfig) ? p.ImageConfig.Command : undefined
  if (command !== undefined && (!Array.isArray(command) || command.length !== 1))
    throw bad(`${id}: ImageConfig.Command must be one handler, e.g. [app.handler].`)
  const arch = Array.isArray(p.Architectures) ? p.Architectures[0] : 'x86_64'
  if (arch !== 'x86_64' && arch !== 'arm64') throw bad(`${id}: Architectures must be [x86_64] or [arm64].`)
  if (typeof p.ImageUri !== 'string' || p.ImageUri === '')
    throw bad(`${id} has no ImageUri.`, 'Give the image as ImageUri (an image in the local engine, e.g. hello:latest).')
  return {
    logicalId: id,
    name: checkFunctionName(name),
    imageUri: p.ImageUri,
    memoryMb: checkMemory(Number(p.MemorySize ?? 128)),
    timeoutS: checkTimeout(Number(p.Timeout ?? 3)),
    env: checkEnv(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]))),
    architecture: arch,
    ...(command ? {handler: String((command as unknown[])[0])} : {}),
    ...(isObject(p.FunctionUrlConfig) ? {url: urlOf(id, p.FunctionUrlConfig, bad)} : {}),
  }
}

/** Api events are REST API routes (payload 1.0), HttpApi ones 2.0 (or PayloadFormatVersion); no Path: $default. */
function routesOf(id: string, fn: string, events: unknown, ignored: string[]): ApiRoute[] {
  const routes: ApiRoute[] = []
  for (const [eventId, event] of Object.entries(isObject(events) ? events : {})) {
    if (!isObject(event) || (event.Type !== 'Api' && event.Type !== 'HttpApi')) {
      ignored.push(`${id}.Events.${eventId} (${isObject(event) ? String(event.Type) : '?'})`)
      continue
    }
    const props = isObject(event.Properties) ? event.Properties : {}
    const method = String(props.Method ?? 'ANY').toUpperCase()
    const routeKey = props.Path === undefined && event.Type === 'HttpApi' ? '$default' : `${method} ${props.Path}`
    const format = event.Type === 'Api' ? '1.0' : String(props.PayloadFormatVersion ?? '2.0')
    routes.push({routeKey, function: fn, payloadFormat: format as ApiRoute['payloadFormat']})
  }
  return routes
}

function urlOf(id: string, config: Record<string, unknown>, bad: (what: string) => UserError): FunctionUrlSpec {
  const auth = config.AuthType
  if (auth !== 'NONE' && auth !== 'AWS_IAM') throw bad(`${id}: FunctionUrlConfig.AuthType must be NONE or AWS_IAM.`)
  const cors = isObject(config.Cors) ? config.Cors : {}
  const origins = Array.isArray(cors.AllowOrigins) ? cors.AllowOrigins.map(String) : []
  const wrong = origins.find((o) => !isOrigin(o))
  if (wrong !== undefined)
    throw bad(`${id}: FunctionUrlConfig.Cors.AllowOrigins has "${wrong}", which is not an origin.`)
  return {authType: auth, corsOrigins: origins}
}
