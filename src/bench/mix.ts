import {readFile} from 'node:fs/promises'
import {parse as parseYaml} from 'yaml'

import {UserError, messageOf} from '../core/errors.js'
import {rng} from '../core/random.js'
import type {Arrival, LoadShape} from './arrival.js'
import {plainSchedule, type Distribution} from './schedule.js'

/**
 * One kind of request of a mix (bench --mix): its name (the records' "function", so the report has a row per
 * route), its share of the arrivals, and the HTTP request it sends.
 */
export interface MixRequest {
  name: string
  weight: number
  method: string
  url: URL
  headers: Record<string, string>
  /** The body text (a JSON body given as an object is sent as its JSON). */
  body?: string
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const NAME = /^[A-Za-z0-9_.:/-]{1,64}$/

const MIX_FIX =
  'A mix file (YAML or JSON) is {"baseUrl"?: "http://host:port", "requests": [{"name": "search", "weight": 60, ' +
  '"method"?: "POST", "path": "/dev/stateflow" | "url": "http://…", "headers"?: {…}, "body"?: {…} | "text"}]}; ' +
  'see docs/bench.md.'

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The mix file's requests, checked before any load; `baseUrl` (e.g. --base-url) overrides the file's. */
export function parseMix(text: string, file: string, baseUrl?: string): MixRequest[] {
  const bad = (what: string) => new UserError(`${file}: ${what}.`, {code: 'BAD_MIX', fix: MIX_FIX})
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw bad(`not valid YAML or JSON (${messageOf(error)})`)
  }
  if (!isObject(raw) || !Array.isArray(raw.requests) || raw.requests.length === 0)
    throw bad('it needs a non-empty "requests" list')
  const base = baseUrl ?? (typeof raw.baseUrl === 'string' ? raw.baseUrl : undefined)
  const names = new Set<string>()
  return raw.requests.map((given: unknown, i: number) => {
    const where = `request ${i + 1}`
    if (!isObject(given)) throw bad(`${where} is not an object`)
    const {name, weight, method = 'POST', path, url, headers = {}, body} = given
    if (typeof name !== 'string' || !NAME.test(name))
      throw bad(`${where} needs a "name" of 1–64 letters, digits, _.:/-`)
    if (names.has(name)) throw bad(`two requests are named "${name}"; names must differ (they are the report's rows)`)
    names.add(name)
    if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight))
      throw bad(`${name}'s "weight" must be a number above 0 (shares are weight / total)`)
    if (typeof method !== 'string' || !METHODS.includes(method.toUpperCase()))
      throw bad(`${name}'s method ${JSON.stringify(method)} is not one of ${METHODS.join(', ')}`)
    const target = requestUrl(name, url, path, base, bad)
    if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
      throw bad(`${name}'s "headers" must be an object of strings`)
    if (body !== undefined && typeof body !== 'string' && !isObject(body) && !Array.isArray(body))
      throw bad(`${name}'s "body" must be text or JSON (an object or a list)`)
    const json = body !== undefined && typeof body !== 'string'
    return {
      name,
      weight,
      method: method.toUpperCase(),
      url: target,
      headers: {...(json ? {'content-type': 'application/json'} : {}), ...(headers as Record<string, string>)},
      ...(body === undefined ? {} : {body: json ? JSON.stringify(body) : (body as string)}),
    }
  })
}

function requestUrl(name: string, url: unknown, path: unknown, base: string | undefined, bad: (w: string) => Error) {
  if ((url === undefined) === (path === undefined)) throw bad(`${name} needs either "url" or "path" (with a baseUrl)`)
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/')))
    throw bad(`${name}'s "path" must start with "/"`)
  if (path !== undefined && !base)
    throw bad(`${name} gives a path, but there is no baseUrl (in the file or --base-url)`)
  let parsed: URL
  try {
    parsed = url !== undefined ? new URL(String(url)) : new URL(base!.replace(/\/$/, '') + (path as string))
  } catch {
    throw bad(`${name}'s URL ${JSON.stringify(url ?? `${base}${path}`)} is not a URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw bad(`${name}'s URL ${parsed.href} is not http:// or https://`)
  return parsed
}

export async function readMix(file: string, baseUrl?: string): Promise<MixRequest[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read the mix file ${file} (${messageOf(error)}).`, {
      code: 'BAD_MIX',
      fix: 'Check the path given to --mix.',
    })
  }
  return parseMix(text, file, baseUrl)
}

/** Each arrival of `schedule` with one of the requests, picked by weight with the run's seed. */
export function* mixArrivals(requests: MixRequest[], schedule: Iterable<Arrival>, seed = 1): Generator<Arrival> {
  const random = rng(seed)
  const total = requests.reduce((t, r) => t + r.weight, 0)
  for (const arrival of schedule) {
    let left = random() * total
    const picked = requests.find((r) => (left -= r.weight) < 0) ?? requests[requests.length - 1]!
    yield {...arrival, fn: picked.name, payload: picked.body ?? ''}
  }
}

/** A load shape (plain rps × time, or the phases') whose arrivals each send one of the mix's requests. */
export function mixShape(
  requests: MixRequest[],
  base: LoadShape | undefined,
  options: {rps: number; durationS: number; warmupS: number; distribution: Distribution; seed?: number},
): LoadShape {
  const total = requests.reduce((t, r) => t + r.weight, 0)
  const shares = requests.map((r) => `${r.name} ${((100 * r.weight) / total).toFixed(1)} %`).join(', ')
  return {
    ...(base ?? {durationS: options.durationS, warmupS: options.warmupS, requestedRps: options.rps}),
    label: `${base ? base.label : `${options.rps} rps for ${options.durationS} s`}, mixed: ${shares}`,
    // Its own seed stream (seed + 1), so the mix does not change which arrivals a Poisson schedule draws.
    schedule: () => mixArrivals(requests, base ? base.schedule() : plainSchedule(options), (options.seed ?? 1) + 1),
  }
}
