import {Flags} from '@oclif/core'

import {readMix} from '../bench/mix.js'
import type {BenchOptions} from '../bench/bench.js'
import {parseRamp, readPhases} from '../bench/phases.js'
import {parseThreshold} from '../bench/thresholds.js'
import {traceError} from '../bench/trace/csv.js'
import {IATS, type Iat} from '../bench/trace/schedule.js'
import {UserError} from '../core/errors.js'
import {numberFlag} from './flags.js'

/** bench's flags for shaped load, trace replay and thresholds (docs/bench.md). */
export const shapeFlags = {
  ramp: Flags.string({
    description: 'Ramp the rate linearly from FROM to TO calls a second over --time, e.g. 10:200.',
    exclusive: ['phases', 'trace'],
  }),
  phases: Flags.string({
    description: 'YAML/JSON list of load phases {duration, rps, rampTo?, name?} (instead of --rps and --time).',
    exclusive: ['ramp', 'trace'],
  }),
  threshold: Flags.string({
    description:
      'Pass/fail on the measured window, e.g. latency:p99<300ms, duration:median<50ms, errors<1%, cold<5%, ' +
      'throttles<0.1% (repeatable); a failed one exits 99.',
    multiple: true,
  }),
  trace: Flags.string({
    description:
      'Replay an Azure Functions trace: a 2019 folder (invocations.csv, durations.csv, memory.csv) or a 2021 file.',
    exclusive: ['ramp', 'phases'],
  }),
  iat: Flags.string({
    description: 'Trace replay: how calls spread within a minute.',
    options: [...IATS],
    default: 'exponential',
  }),
  'trace-start': Flags.integer({description: 'Trace replay: first trace minute (0-based).', default: 0, min: 0}),
  'trace-minutes': Flags.integer({description: 'Trace replay: measured minutes (default: to the end).', min: 1}),
  'warmup-minutes': Flags.integer({
    description: 'Trace replay: minutes replayed as warm-up before the measured ones.',
    default: 0,
    min: 0,
  }),
  speedup: numberFlag({
    description: 'Trace replay: a trace minute lasts 60/K seconds.',
    default: 1,
    min: 0,
    aboveMin: true,
    max: 3600,
    example: 10,
  }),
  functions: Flags.integer({description: 'Trace replay: sample this many trace functions (seeded).', min: 1}),
  mix: Flags.string({
    description:
      'With --protocol http: a request mix (YAML/JSON) of named requests with weights, method, URL or path, ' +
      'headers and body; each arrival sends one, picked by weight (seeded), and the report has a row per name.',
    exclusive: ['trace', 'endpoints', 'function_name', 'workers'],
  }),
  'base-url': Flags.string({
    description: "Base URL of the mix's paths (a Function URL, an API's stage URL) instead of the file's baseUrl.",
    dependsOn: ['mix'],
  }),
}

const TRACE_ONLY = ['trace-start', 'trace-minutes', 'warmup-minutes', 'speedup', 'functions', 'iat'] as const

/** The shape, trace and threshold flags into bench options (files read and checked here, before any load). */
export async function shapeOptions(
  flags: {
    ramp?: string
    phases?: string
    threshold?: string[]
    trace?: string
    iat: string
    'trace-start': number
    'trace-minutes'?: number
    'warmup-minutes': number
    speedup: number
    functions?: number
    time: number
    seed: number
    memory?: number[]
    'cold-starts'?: number
    mix?: string
    'base-url'?: string
    protocol?: string
  },
  given: (flag: string) => boolean,
): Promise<Pick<BenchOptions, 'phases' | 'trace' | 'thresholds' | 'mix'>> {
  if (flags.mix && flags.protocol !== 'http')
    throw new UserError('--mix sends HTTP requests; it needs --protocol http.', {
      code: 'BAD_FLAG',
      fix: 'Add --protocol http (the mix names its own URLs; no --endpoints or --function_name).',
    })
  if (flags.mix && (flags.memory || flags['cold-starts']))
    throw new UserError('--mix shapes a load run; --memory and --cold-starts run their own.', {
      code: 'BAD_FLAG',
      fix: 'Leave out one of them.',
    })
  const shaped = flags.ramp ? '--ramp' : flags.phases ? '--phases' : flags.trace ? '--trace' : undefined
  if (shaped && (flags.memory || flags['cold-starts']))
    throw new UserError(`${shaped} shapes a load run; --memory and --cold-starts run their own.`, {
      code: 'BAD_FLAG',
      fix: 'Leave out one of them.',
    })
  if (flags.trace && given('warmup'))
    throw traceError('--warmup counts seconds; a trace warms up in trace minutes.', 'Use --warmup-minutes N instead.')
  const stray = TRACE_ONLY.find((f) => given(f))
  if (stray && !flags.trace)
    throw traceError(`--${stray} applies to trace replay only.`, 'Add --trace PATH, or leave out --' + stray + '.')
  return {
    mix: flags.mix ? await readMix(flags.mix, flags['base-url']) : undefined,
    thresholds: flags.threshold?.map(parseThreshold),
    phases: flags.ramp
      ? [parseRamp(flags.ramp, flags.time)]
      : flags.phases
        ? await readPhases(flags.phases)
        : undefined,
    trace: flags.trace
      ? {
          path: flags.trace,
          iat: flags.iat as Iat,
          start: flags['trace-start'],
          minutes: flags['trace-minutes'],
          warmupMinutes: flags['warmup-minutes'],
          speedup: flags.speedup,
          functions: flags.functions,
          seed: flags.seed,
        }
      : undefined,
  }
}
