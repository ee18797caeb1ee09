import {readFile} from 'node:fs/promises'

import {parse as parseYaml} from 'yaml'

import {UserError, messageOf} from '../core/errors.js'
import {rng} from '../core/random.js'
import type {Arrival, LoadShape} from './arrival.js'
import type {Distribution} from './schedule.js'
import {percentile} from './stats.js'

/** One phase as Artillery and k6 users write them: `rps` for `duration` s, ramping linearly to `rampTo`. */
export interface Phase {
  durationS: number
  rps: number
  rampTo?: number
  name?: string
}

const PHASES_FIX =
  'Write phases as a YAML or JSON list of {duration, rps, rampTo?, name?} (duration in s, or "30s", "2m"), ' +
  'e.g. [{duration: 60, rps: 10, rampTo: 100, name: ramp-up}, {duration: 120, rps: 100}].'

const bad = (message: string, fix = PHASES_FIX) => new UserError(message, {code: 'BAD_PHASES', fix})

/** Upper bounds, as bench's --rps and --time have. */
const MAX_RPS = 10_000
const MAX_S = 86_400

/** "90", 90, "90s", "2m", "1h" → seconds. */
function seconds(value: unknown, where: string): number {
  const m =
    typeof value === 'number' ? [String(value), String(value), 's'] : /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(String(value))
  const s = m ? Number(m[1]) * ({s: 1, m: 60, h: 3600}[(m[2] ?? 's') as 's' | 'm' | 'h'] ?? 1) : Number.NaN
  if (!(s > 0 && s <= MAX_S)) throw bad(`${where}: duration ${JSON.stringify(value)} is not a time above 0 and ≤ 24 h.`)
  return s
}

function rate(value: unknown, where: string, what: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_RPS))
    throw bad(`${where}: ${what} ${JSON.stringify(value)} is not a rate between 0 and ${MAX_RPS} per second.`)
  return value
}

/** A phases list (YAML or JSON; a bare list or Artillery's {phases: [...]}) into checked phases. */
export function parsePhases(text: string, file = 'phases file'): Phase[] {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw bad(`${file} is not valid YAML or JSON (${messageOf(error)}).`)
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'phases' in raw) raw = (raw as {phases: unknown}).phases
  if (!Array.isArray(raw) || raw.length === 0) throw bad(`${file} is not a non-empty list of phases.`)
  return raw.map((entry: unknown, i) => {
    const where = `${file} phase ${i + 1}`
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw bad(`${where} is not an object.`)
    const p = entry as Record<string, unknown>
    const unknown = Object.keys(p).filter((k) => !['duration', 'rps', 'rampTo', 'name'].includes(k))
    if (unknown.length > 0) throw bad(`${where} has unknown key(s) ${unknown.join(', ')}.`)
    if (p.name !== undefined && typeof p.name !== 'string') throw bad(`${where}: name must be a string.`)
    const phase: Phase = {durationS: seconds(p.duration, where), rps: rate(p.rps, where, 'rps')}
    if (p.rampTo !== undefined) phase.rampTo = rate(p.rampTo, where, 'rampTo')
    if (p.name !== undefined) phase.name = p.name as string
    if (phase.rps === 0 && !phase.rampTo) throw bad(`${where} asks for no calls at all (rps 0, no rampTo).`)
    return phase
  })
}

export async function readPhases(file: string): Promise<Phase[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw bad(`Cannot read the phases file ${file}: ${messageOf(error)}.`, 'Check the path given to --phases.')
  }
  return parsePhases(text, file)
}

/** `--ramp FROM:TO` over `durationS` as one phase. */
export function parseRamp(text: string, durationS: number): Phase {
  const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  const from = Number(m?.[1])
  const to = Number(m?.[2])
  if (!m || from > MAX_RPS || to > MAX_RPS || (from === 0 && to === 0))
    throw new UserError(`--ramp "${text}" is not FROM:TO, two rates per second (not both 0, at most ${MAX_RPS}).`, {
      code: 'BAD_PHASES',
      fix: 'For example --ramp 10:200 --time 60 ramps from 10 to 200 calls a second over 60 s.',
    })
  return {durationS, rps: from, rampTo: to, name: 'ramp'}
}

export const phaseName = (p: Phase, i: number): string => p.name ?? `phase ${i + 1}`

/** Calls a phase's rate adds up to by `t` s into it (the integral of a linear ramp). */
const cumulative = (p: Phase, t: number): number =>
  p.rps * t + (((p.rampTo ?? p.rps) - p.rps) * t * t) / (2 * p.durationS)

/** The time at which the phase has made `s` calls, inverting cumulative (a form stable for flat and steep ramps). */
function timeOf(p: Phase, s: number): number {
  if (s <= 0) return 0
  const a = ((p.rampTo ?? p.rps) - p.rps) / (2 * p.durationS)
  return (2 * s) / (p.rps + Math.sqrt(p.rps * p.rps + 4 * a * s))
}

/**
 * Arrivals of phases in a row, after `warmupS` at the first phase's starting rate: fixed puts call k of
 * a phase where its rate has added up to k (evenly spaced when flat), poisson spreads them as a
 * Poisson process of that rate (seeded), as Artillery's arrival phases and k6's ramping-arrival-rate do.
 */
export function* phaseArrivals(
  phases: Phase[],
  options: {distribution: Distribution; seed?: number; warmupS?: number},
): Generator<Arrival> {
  const random = rng(options.seed ?? 1)
  const warmup: Phase[] = options.warmupS
    ? [{durationS: options.warmupS, rps: phases[0]!.rps || 1, name: 'warmup'}]
    : []
  let offsetUs = 0
  for (const [i, p] of [...warmup, ...phases].entries()) {
    const tag = {loadPhase: i < warmup.length ? 'warmup' : phaseName(p, i - warmup.length)}
    const total = cumulative(p, p.durationS)
    let s = 0
    for (let k = 0; ; k++) {
      s = options.distribution === 'fixed' ? k : s - Math.log(1 - random())
      if (s >= total) break
      const t = timeOf(p, s)
      if (t >= p.durationS) break
      yield {atUs: offsetUs + t * 1e6, tag}
    }
    offsetUs += p.durationS * 1e6
  }
}

/** Phases as a bench load: arrivals, windows, and a per-phase table in the summary and report. */
export function phasesShape(
  phases: Phase[],
  options: {distribution: Distribution; seed?: number; warmupS: number},
): LoadShape {
  const durationS = phases.reduce((t, p) => t + p.durationS, 0)
  const planned = phases.map((p) => cumulative(p, p.durationS))
  return {
    label: phases
      .map(
        (p, i) =>
          `${phaseName(p, i)}: ${p.rps}${p.rampTo === undefined ? '' : `→${p.rampTo}`} rps ` + `for ${p.durationS} s`,
      )
      .join(', '),
    schedule: () => phaseArrivals(phases, options),
    durationS,
    warmupS: options.warmupS,
    requestedRps: planned.reduce((t, n) => t + n, 0) / durationS,
    csvColumns: ['loadPhase'],
    finish: (records) => {
      const rows = phases.map((p, i) => {
        const name = phaseName(p, i)
        const mine = records.filter((r) => r.phase === 'measure' && r.loadPhase === name)
        const latency = mine
          .filter((r) => !r.error)
          .map((r) => r.clientLatencyUs / 1000)
          .sort((a, b) => a - b)
        const at = (q: number) => (latency.length ? Number(percentile(latency, q).toFixed(2)) : undefined)
        return {
          name,
          durationS: p.durationS,
          rps: p.rps,
          rampTo: p.rampTo,
          requested: Math.ceil(planned[i]! - 1e-9),
          sent: mine.length,
          errors: mine.filter((r) => r.error).length,
          achievedRps: mine.length / p.durationS,
          p50Ms: at(50),
          p99Ms: at(99),
        }
      })
      return {
        summary: {phases: rows},
        tables: [
          {
            id: 'phases',
            caption: 'Load phases',
            columns: ['phase', 's', 'rps', 'requested', 'sent', 'errors', 'achieved rps', 'p50 ms', 'p99 ms'],
            rows: rows.map((r) => [
              r.name,
              r.durationS,
              r.rampTo === undefined ? r.rps : `${r.rps}→${r.rampTo}`,
              r.requested,
              r.sent,
              r.errors,
              r.achievedRps.toFixed(2),
              r.p50Ms ?? '–',
              r.p99Ms ?? '–',
            ]),
          },
        ],
      }
    },
  }
}
