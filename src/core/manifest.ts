import {readdir, readFile, stat} from 'node:fs/promises'
import {isAbsolute, join, resolve} from 'node:path'

import {checkApi, type ApiRoute, type ApiSpec} from './api-routes.js'
import {UserError, isUserError, messageOf} from './errors.js'
import {parseEventSources, type DeclaredSqsSource} from './event-sources.js'
import {checkEnv, MEMORY_RANGE, TIMEOUT_RANGE} from './function-config.js'
import {checkFunctionName, checkRepositoryName} from './names.js'
import {benchmarksDir} from './paths.js'
import {parseTables, resolveTableRefs, type TableManifest} from './tables.js'

/** One function of a benchmark, with the manifest's defaults applied. */
export interface FunctionManifest {
  /** Short name within the benchmark (driver, mapper…); also its source folder. */
  name: string
  /** Image CMD: module.function inside LAMBDA_TASK_ROOT. */
  handler: string
  /** Dockerfile for Lambda images, relative to the benchmark folder. */
  dockerfile: string
  policies: string[]
  /** Values may name another function's deployed name as ${function:<name>}. */
  env: Record<string, string>
  memoryMb: number
  timeoutS: number
  reservedConcurrency?: number
  /** /tmp size (EphemeralStorage), MB. */
  ephemeralStorageMb?: number
  /** LoggingConfig.LogFormat. */
  logFormat?: 'Text' | 'JSON'
  /** SQS queues whose messages invoke it (event source mappings); absent: faas leaves its mappings alone. */
  eventSources?: DeclaredSqsSource[]
}

export interface BenchmarkManifest {
  name: string
  description: string
  /** Absolute path of the benchmark folder (the build context). */
  dir: string
  /** The function `faas run` invokes. */
  entry: string
  /**
   * The folder's checker (docs/benchmarks.md): how `faas run` generates the input, drives `entry` and checks the
   * answer; absent: `faas run` invokes `entry` with `payload`, unchecked.
   */
  check?: {dockerfile: string}
  /** The event `faas bench` and `faas run` send by default. */
  payload: unknown
  /**
   * Container ports of docker/Dockerfile's servers (gRPC helloworld.Greeter, HTTP POST /); a missing key: not served.
   */
  serve?: {grpc?: number; http?: number}
  /** HTTP routes in front of its functions (an API Gateway HTTP API; locally, one loopback endpoint). */
  api?: ApiSpec
  functions: FunctionManifest[]
  /** DynamoDB tables the functions use (created where they run; see core/tables.ts). */
  tables: TableManifest[]
}

// The same defaults as faas deploy (1024 MB, and the seed's 120 s timeout); a manifest's "defaults" overrides them.
const DEFAULTS = {handler: 'handler.lambda_handler', dockerfile: 'docker/Dockerfile.Lambda', memory: 1024, timeout: 120}

/** Names of the benchmarks found under the benchmarks folder (those with a benchmark.json). */
export async function listBenchmarks(root = benchmarksDir()): Promise<string[]> {
  const entries = await readdir(root, {withFileTypes: true}).catch(() => [])
  const names: string[] = []
  for (const entry of entries) {
    if (entry.isDirectory() && (await stat(join(root, entry.name, 'benchmark.json')).catch(() => undefined)))
      names.push(entry.name)
  }
  return names.sort()
}

/** A benchmark named as a folder under the benchmarks folder: a plain name, never a path. */
const BENCHMARK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** A path rather than a name: `faas run ./mine`, `faas run /tmp/x/mine`. */
const isPath = (given: string) => isAbsolute(given) || given.startsWith('.') || given.includes('/')

const hasManifest = async (dir: string) => Boolean(await stat(join(dir, 'benchmark.json')).catch(() => undefined))

/**
 * A benchmark by folder or by name; its name is the manifest's. A path is that folder; a name is a folder of the
 * current directory holding a benchmark.json (what `faas new NAME` writes), else one under the benchmarks folder
 * (only the latter when the caller names the folder to look in, as an experiment file's does).
 */
export async function loadBenchmark(given: string, inRoot?: string): Promise<BenchmarkManifest> {
  const root = inRoot ?? benchmarksDir()
  if (!isPath(given) && (!BENCHMARK_NAME.test(given) || given.includes('..'))) {
    throw new UserError(`"${given}" is not a benchmark name.`, {
      code: 'UNKNOWN_BENCHMARK',
      fix:
        `Name a folder under ${root} (letters, digits, ".", "_" and "-"), e.g. map-reduce, or give a benchmark ` +
        `folder's path (./NAME); \`faas new NAME\` makes one.`,
    })
  }
  const dir =
    isPath(given) || (inRoot === undefined && (await hasManifest(resolve(given)))) ? resolve(given) : join(root, given)
  const file = join(dir, 'benchmark.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    const known = await listBenchmarks(root)
    throw new UserError(`Unknown benchmark "${given}" (no ${file}).`, {
      code: 'UNKNOWN_BENCHMARK',
      fix: isPath(given)
        ? 'Give the path of a folder holding a benchmark.json; `faas new NAME` makes one.'
        : known.length > 0
          ? `Known benchmarks: ${known.join(', ')}; or give a benchmark folder's path. To add one, see ` +
            'docs/benchmarks.md.'
          : `Add a folder with a benchmark.json under ${root}, or give a benchmark folder's path.`,
    })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${messageOf(error)}.`, {
      code: 'BAD_MANIFEST',
      fix: 'Fix the JSON syntax.',
    })
  }
  return parseManifest(raw, dir, file)
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isWhole = (value: unknown): value is number => Number.isInteger(value)

/** A function's settings (or "defaults") as benchmark.json writes them, before they are checked. */
interface RawFunctionSettings {
  handler?: unknown
  dockerfile?: unknown
  env?: unknown
  policies?: unknown
  memory?: unknown
  timeout?: unknown
  reservedConcurrency?: unknown
  ephemeralStorage?: unknown
  logFormat?: unknown
  eventSources?: unknown
}

/**
 * Checks the whole manifest against Lambda's limits when it is read, so a mistake is reported
 * before anything is built, pushed or deployed.
 */
export function parseManifest(raw: unknown, dir: string, file = join(dir, 'benchmark.json')): BenchmarkManifest {
  const bad = (what: string) =>
    new UserError(`${file}: ${what}.`, {
      code: 'BAD_MANIFEST',
      fix: 'See benchmarks/map-reduce/benchmark.json for the format.',
    })
  if (!isObject(raw)) throw bad('the manifest must be an object')
  if (typeof raw.name !== 'string') throw bad('"name" must be a string')
  checkRepositoryName(raw.name)
  const rawFunctions = raw.functions
  if (!isObject(rawFunctions) || Object.keys(rawFunctions).length === 0)
    throw bad('"functions" must name at least one function')
  const rawDefaults = raw.defaults === undefined ? {} : raw.defaults
  if (!isObject(rawDefaults)) throw bad('"defaults" must be an object')
  const defaults: RawFunctionSettings = {...DEFAULTS, ...rawDefaults}
  const defaultEnv = defaults.env === undefined ? {} : defaults.env
  if (!isObject(defaultEnv)) throw bad('"defaults.env" must be an object of names to strings')
  const names = Object.keys(rawFunctions)
  const tables = parseTables(raw.tables, file)
  const functions = Object.entries(rawFunctions).map(([fname, given]) =>
    parseFunction(fname, given, {defaults, defaultEnv, names, tables, file, bad}),
  )
  const entry = raw.entry ?? functions[0]!.name
  const entryFunction = functions.find((f) => f.name === entry)
  if (!entryFunction) throw bad(`"entry" names "${entry}", which is not one of its functions`)
  // The checks faas used to make itself now live in the folder: an old manifest must not run unchecked unawares.
  if (raw.workload !== undefined)
    throw bad(
      '"workload" is no longer read: a benchmark folder carries its own checker ("check": {"dockerfile": ' +
        '"check/Dockerfile"}, see docs/benchmarks.md); remove "workload" to run it unchecked',
    )
  const check = raw.check
  if (check !== undefined && !(isObject(check) && typeof check.dockerfile === 'string' && check.dockerfile !== ''))
    throw bad('"check" must be {"dockerfile": "<path of the checker\'s Dockerfile, e.g. check/Dockerfile>"}')
  const serve = raw.serve
  if (serve !== undefined) {
    const port = (value: unknown) =>
      value === undefined || (Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536)
    if (
      typeof serve !== 'object' ||
      serve === null ||
      !port((serve as {grpc?: unknown}).grpc) ||
      !port((serve as {http?: unknown}).http)
    )
      throw bad('"serve" must be {"grpc": <port>, "http": <port>} (either may be left out)')
  }
  const api =
    raw.api === undefined
      ? undefined
      : parseApi(
          raw.api,
          functions.map((f) => f.name),
          file,
          bad,
        )
  return {
    name: raw.name,
    description: String(raw.description ?? ''),
    dir,
    entry: entryFunction.name,
    ...(check ? {check: {dockerfile: check.dockerfile as string}} : {}),
    payload: raw.payload ?? {},
    serve: serve as BenchmarkManifest['serve'],
    ...(api ? {api} : {}),
    functions,
    tables,
  }
}

/**
 * `"api": {"stage": "dev", "payloadFormat": "1.0", "routes": {"POST /stateflow": "fn", "GET /items/{id}":
 * {"function": "fn", "payloadFormat": "2.0"}}}`: stage `$default` and payload format 2.0 unless given.
 */
function parseApi(raw: unknown, functions: string[], file: string, bad: (what: string) => UserError): ApiSpec {
  if (!isObject(raw) || !isObject(raw.routes))
    throw bad('"api" must be {"stage": "dev", "routes": {"POST /path": "<function>", …}} (stage may be left out)')
  const stage = raw.stage ?? '$default'
  const format = raw.payloadFormat ?? '2.0'
  if (typeof stage !== 'string') throw bad('"api.stage" must be a string')
  const routes = Object.entries(raw.routes).map(([routeKey, target]): ApiRoute => {
    const given = typeof target === 'string' ? {function: target} : target
    if (!isObject(given) || typeof given.function !== 'string')
      throw bad(`route "${routeKey}" must name a function ("<function>" or {"function": "<function>"})`)
    return {
      routeKey,
      function: given.function,
      payloadFormat: (given.payloadFormat ?? format) as ApiRoute['payloadFormat'],
    }
  })
  const api = {stage, routes}
  checkApi(api, functions, file)
  return api
}

interface FunctionContext {
  defaults: RawFunctionSettings
  defaultEnv: Record<string, unknown>
  /** Every function of the manifest, for ${function:<name>} references. */
  names: string[]
  tables: TableManifest[]
  file: string
  bad: (what: string) => UserError
}

/** One function's settings, the defaults applied, checked against Lambda's limits. */
function parseFunction(
  fname: string,
  given: unknown,
  {defaults, defaultEnv, names, tables, file, bad}: FunctionContext,
): FunctionManifest {
  checkFunctionName(fname)
  if (!isObject(given)) throw bad(`function "${fname}" must be an object (it may be empty: {})`)
  const f: RawFunctionSettings = given
  const nonEmpty = (key: 'handler' | 'dockerfile'): string => {
    const value = f[key] ?? defaults[key]
    if (typeof value !== 'string' || value === '') throw bad(`"${key}" of ${fname} must be a non-empty string`)
    return value
  }
  const handler = nonEmpty('handler')
  const dockerfile = nonEmpty('dockerfile')
  const ownEnv = f.env === undefined ? {} : f.env
  if (!isObject(ownEnv)) throw bad(`"env" of ${fname} must be an object of names to strings`)
  const mixedEnv = {...defaultEnv, ...ownEnv}
  for (const [key, value] of Object.entries(mixedEnv))
    if (typeof value !== 'string') throw bad(`env ${key} of ${fname} must be a string`)
  const env = mixedEnv as Record<string, string>
  try {
    checkEnv(env)
  } catch (error) {
    throw isUserError(error)
      ? new UserError(`${file}: env of ${fname}: ${error.message}`, {code: 'BAD_MANIFEST', fix: error.fix})
      : error
  }
  for (const [key, value] of Object.entries(env)) {
    resolveTableRefs(value, tables, `${file}: env ${key} of ${fname}`)
    for (const [, other] of value.matchAll(/\$\{function:([^}]*)\}/g)) {
      if (!names.includes(other!))
        throw bad(
          `env of ${fname} refers to \${function:${other}}, which is not one of its functions (${names.join(', ')})`,
        )
    }
  }
  const policies = f.policies ?? defaults.policies ?? []
  if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'string' || p === ''))
    throw bad(`"policies" of ${fname} must be a list of names`)
  const memoryMb = f.memory ?? defaults.memory
  const timeoutS = f.timeout ?? defaults.timeout
  if (!isWhole(memoryMb) || !isWhole(timeoutS)) throw bad(`"memory" and "timeout" of ${fname} must be whole numbers`)
  if (memoryMb < MEMORY_RANGE.min || memoryMb > MEMORY_RANGE.max)
    throw bad(`"memory" of ${fname} is ${memoryMb} MB; Lambda allows ${MEMORY_RANGE.min} to ${MEMORY_RANGE.max}`)
  if (timeoutS < TIMEOUT_RANGE.min || timeoutS > TIMEOUT_RANGE.max)
    throw bad(`"timeout" of ${fname} is ${timeoutS} s; Lambda allows ${TIMEOUT_RANGE.min} to ${TIMEOUT_RANGE.max}`)
  const reservedConcurrency = f.reservedConcurrency ?? defaults.reservedConcurrency
  if (reservedConcurrency !== undefined && (!isWhole(reservedConcurrency) || reservedConcurrency < 0))
    throw bad(`"reservedConcurrency" of ${fname} must be a whole number ≥ 0`)
  const ephemeralStorageMb = f.ephemeralStorage ?? defaults.ephemeralStorage
  if (
    ephemeralStorageMb !== undefined &&
    (!isWhole(ephemeralStorageMb) || ephemeralStorageMb < 512 || ephemeralStorageMb > 10240)
  )
    throw bad(`"ephemeralStorage" of ${fname} must be a whole number of MB from 512 to 10240`)
  const logFormat = f.logFormat ?? defaults.logFormat
  if (logFormat !== undefined && logFormat !== 'Text' && logFormat !== 'JSON')
    throw bad(`"logFormat" of ${fname} must be "Text" or "JSON"`)
  const eventSources = f.eventSources === undefined ? undefined : parseEventSources(f.eventSources, fname, bad)
  return {
    name: fname,
    handler,
    dockerfile,
    policies,
    env,
    memoryMb,
    timeoutS,
    reservedConcurrency,
    ...(ephemeralStorageMb !== undefined ? {ephemeralStorageMb} : {}),
    ...(logFormat !== undefined ? {logFormat} : {}),
    ...(eventSources ? {eventSources} : {}),
  }
}

/** The functions a command should act on: all, or the one named by --function. */
export function selectFunctions(manifest: BenchmarkManifest, only?: string[]): FunctionManifest[] {
  if (!only || only.length === 0) return manifest.functions
  return only.map((name) => {
    const found = manifest.functions.find((f) => f.name === name)
    if (!found) {
      throw new UserError(`Benchmark ${manifest.name} has no function "${name}".`, {
        code: 'UNKNOWN_FUNCTION',
        fix: `Its functions are: ${manifest.functions.map((f) => f.name).join(', ')}.`,
      })
    }
    return found
  })
}

/** The deployed name (and repository name) of a benchmark function: `<benchmark>-<function>`. */
export const deployedName = (benchmark: string, fn: string, prefix = ''): string => `${prefix}${benchmark}-${fn}`

/** Replaces ${function:<name>} in env values with that function's deployed name, ${table:<name>} with the table's. */
export function resolveEnv(manifest: BenchmarkManifest, fn: FunctionManifest, prefix = ''): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fn.env).map(([key, value]) => [
      key,
      resolveTableRefs(
        value.replace(/\$\{function:([\w-]+)\}/g, (_, other: string) =>
          deployedName(manifest.name, selectFunctions(manifest, [other])[0]!.name, prefix),
        ),
        manifest.tables,
        `env ${key} of ${fn.name}`,
      ),
    ]),
  )
}
