import {readFile} from 'node:fs/promises'

import {UserError, messageOf} from '../core/errors.js'
import {checkFunctionName} from '../core/names.js'
import {archOf, lambdaArchitecture, type Platform} from '../core/platform.js'
import type {BenchOptions} from './bench.js'
import type {MixRequest} from './mix.js'
import {parsePrices} from './prices.js'
import {checkProtocol, DEFAULT_PORT, networkAddress, type Protocol} from './protocols/endpoints.js'

/** Lambda's memory range (MB). */
export const MIN_MEMORY_MB = 128
export const MAX_MEMORY_MB = 10_240

/**
 * What an endpoints-file hostname names for a protocol: a function name (lambda), host[:port] (http, grpc;
 * normalized to host:port with the protocol's default port), or for http a whole http:// URL.
 */
export function endpointOf(protocol: Protocol, port?: number): (hostname: string) => string {
  if (protocol === 'lambda') return checkFunctionName
  return (hostname) =>
    protocol === 'http' && /^[a-z][a-z0-9+.-]*:\/\//i.test(hostname)
      ? httpUrl(hostname)
      : networkAddress(hostname, port ?? DEFAULT_PORT[protocol])
}

/**
 * A whole http:// URL as an http endpoint (a Function URL, an API route such as http://127.0.0.1:PORT/dev/stateflow):
 * called with POST and the event as its body, like a Knative server. Throws a plain Error saying what is wrong.
 */
function httpUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`"${text}" is not a URL`)
  }
  if (url.protocol !== 'http:' || url.username || url.password || url.hash)
    throw new Error(`"${text}" must be an http:// URL without credentials or #fragment (TLS is not supported)`)
  return url.href
}

/**
 * The vHive invoker's endpoints file: `[{"hostname": "chameleon", "eventing": false, "matchers": null}]`,
 * where hostname is the function name (lambda) or host[:port] (http, grpc). Returns them in file order.
 */
export function parseEndpoints(
  text: string,
  file = 'endpoints file',
  endpoint: (hostname: string) => string = checkFunctionName,
): string[] {
  const bad = (what: string) =>
    new UserError(`${file}: ${what}.`, {
      code: 'BAD_ENDPOINTS',
      fix:
        'It must be a JSON list like [{"hostname": "chameleon", "eventing": false, "matchers": null}' +
        '], hostname being the function name (--protocol lambda) or host[:port] of the server (--protocol http ' +
        'or grpc).',
    })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw bad(`not valid JSON (${messageOf(error)})`)
  }
  if (!Array.isArray(raw)) throw bad('the top level must be a list')
  if (raw.length === 0) throw bad('the list is empty')
  return raw.map((entry, i) => {
    const hostname: unknown =
      typeof entry === 'object' && entry !== null ? (entry as {hostname?: unknown}).hostname : undefined
    if (typeof hostname !== 'string' || hostname === '') throw bad(`entry ${i + 1} has no "hostname" string`)
    const name = hostname
    try {
      return endpoint(name)
    } catch (error) {
      throw bad(`entry ${i + 1}: ${messageOf(error)}`)
    }
  })
}

export async function readEndpoints(file: string, endpoint?: (hostname: string) => string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read the endpoints file ${file}: ${messageOf(error)}.`, {
      code: 'BAD_ENDPOINTS',
      fix: 'Check the path given to --endpoints.',
    })
  }
  return parseEndpoints(text, file, endpoint)
}

/** The functions (or host:port servers) to drive: from --endpoints or --function_name, exactly one of them. */
export async function functionsToDrive(
  flags: {endpoints?: string; function_name?: string[]; protocol?: string; port?: number; trace?: string},
  mix?: MixRequest[],
): Promise<string[]> {
  // A mix names its own requests; a trace replays on its own deployed copies unless endpoints are named.
  if (mix) return mix.map((r) => r.name)
  if (flags.trace && !flags.endpoints && !flags.function_name) return []
  const endpoint = endpointOf(checkProtocol(flags.protocol ?? 'lambda'), flags.port)
  const named = flags.function_name ?? []
  if (Boolean(flags.endpoints) === named.length > 0) {
    throw new UserError(
      flags.endpoints ? 'Both --endpoints and --function_name were given.' : 'No function to drive.',
      {
        code: 'NO_FUNCTIONS',
        fix: "Give either --function_name F (repeatable) or --endpoints endpoints.json (the vHive invoker's file).",
      },
    )
  }
  if (flags.endpoints) return readEndpoints(flags.endpoints, endpoint)
  if ((flags.protocol ?? 'lambda') === 'lambda') return named.map(checkFunctionName)
  return named.map((name) => {
    try {
      return endpoint(name)
    } catch (error) {
      throw new UserError(`--function_name ${messageOf(error)}.`, {
        code: 'BAD_ENDPOINTS',
        fix: 'With --protocol http or grpc, name servers as host[:port], e.g. -f 127.0.0.1:50051.',
      })
    }
  })
}

/**
 * Upper bounds: beyond them a typo (an extra zero) would run for days or exhaust this machine, not measure anything.
 */
export const BENCH_LIMITS = {rps: 10_000, time: 86_400, warmup: 3_600, 'max-in-flight': 10_000} as const

/** `--memory 128,512,1024` into sizes, each a whole number of MB within Lambda's range. */
export function parseMemoryList(text: string): number[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  if (parts.length === 0)
    throw new UserError('--memory lists no sizes.', {
      code: 'BAD_MEMORY',
      fix: 'Give sizes in MB, e.g. --memory 128,512,1024,1769,3008.',
    })
  return parts.map((part) => {
    const mb = Number(part)
    if (!Number.isInteger(mb) || mb < MIN_MEMORY_MB || mb > MAX_MEMORY_MB) {
      throw new UserError(
        `--memory value "${part}" is not a whole number of MB between ${MIN_MEMORY_MB} and ${MAX_MEMORY_MB}.`,
        {
          code: 'BAD_MEMORY',
          fix: `Lambda allows ${MIN_MEMORY_MB}–${MAX_MEMORY_MB} MB, e.g. --memory 128,512,1024,1769,3008.`,
        },
      )
    }
    return mb
  })
}

export function checkPayload(payload: string): string {
  try {
    JSON.parse(payload)
  } catch (error) {
    throw new UserError(`--payload is not valid JSON: ${messageOf(error)}.`, {
      code: 'BAD_PAYLOAD',
      fix: `Quote it for the shell, e.g. --payload '{"n": 1}'.`,
    })
  }
  return payload
}

/** The command's flags (numbers already parsed within their bounds) into checked bench options. */
export function benchOptions(flags: {
  functions: string[]
  payload: string
  rps: number
  time: number
  warmup: number
  distribution: string
  seed: number
  'max-in-flight': number
  precise?: boolean
  out?: string
  latf: string
  arch?: string
  memory?: number[]
  'cold-starts'?: number
  protocol?: string
  prices?: string
  platform: Platform
}): BenchOptions {
  const protocol = checkProtocol(flags.protocol ?? 'lambda')
  if (protocol !== 'lambda' && (flags.memory || flags['cold-starts'])) {
    throw new UserError(
      `--${flags.memory ? 'memory' : 'cold-starts'} changes a Lambda function's configuration, which ` +
        `--protocol ${protocol} servers do not have.`,
      {
        code: 'BAD_FLAG',
        fix: 'Drop it, or bench the deployed functions with --protocol lambda.',
      },
    )
  }
  return {
    protocol,
    functions: flags.functions,
    payload: checkPayload(flags.payload),
    rps: flags.rps,
    durationS: flags.time,
    warmupS: flags.warmup,
    distribution: flags.distribution === 'poisson' ? 'poisson' : 'fixed',
    seed: flags.seed,
    maxInFlight: flags['max-in-flight'],
    precise: flags.precise,
    outDir: flags.out ?? `bench-results/${new Date().toISOString().replaceAll(':', '-').replace(/\..*/, '')}`,
    latf: flags.latf,
    architecture:
      flags.arch === 'arm64' || flags.arch === 'x86_64' ? flags.arch : lambdaArchitecture(archOf(flags.platform)),
    ...(flags.prices === undefined ? {} : {prices: parsePrices(flags.prices)}),
    memorySizes: flags.memory,
    coldStarts: flags['cold-starts'],
  }
}
