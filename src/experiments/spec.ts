import {readFile, stat} from 'node:fs/promises'
import {dirname, extname, isAbsolute, join, resolve} from 'node:path'

import {parse as parseYaml} from 'yaml'
import {z} from 'zod'

import {UserError, messageOf} from '../core/errors.js'
import {ENV_MAX_BYTES, MEMORY_RANGE, TIMEOUT_RANGE} from '../core/function-config.js'
import {PLATFORMS} from '../core/platform.js'

/**
 * The experiment file: one benchmark function, two or more variants of it, the load every variant
 * gets, and the metrics compared. YAML or JSON; validated here so a mistake names its field.
 */

export const METRICS = ['latency', 'duration', 'init', 'cost', 'cold'] as const
export type MetricName = (typeof METRICS)[number]
export const STATISTICS = ['median', 'mean', 'p50', 'p90', 'p95', 'p99'] as const
export type StatisticName = (typeof STATISTICS)[number]

/** The share of cold calls is a mean of 0/1 values; the rest default to the median (robust to tails). */
export const defaultStatistic = (metric: MetricName): StatisticName => (metric === 'cold' ? 'mean' : 'median')

export interface Metric {
  name: MetricName
  statistic: StatisticName
}

const NAME = /^[a-z0-9][a-z0-9-]{0,30}$/
const name = z
  .string()
  .regex(NAME, 'must be lower-case letters, digits and dashes, starting with a letter or digit, at most 31 characters')
const positive = z.number().positive()
const json = z.unknown().transform((v) => v ?? {})

const metric = z.string().transform((text, ctx): Metric => {
  const [m, s] = text.split(':').map((x) => x.trim())
  if (!(METRICS as readonly string[]).includes(m!)) {
    ctx.addIssue({
      code: 'custom',
      message:
        `"${m}" is not a metric; use one of ${METRICS.join(', ')}, optionally with :statistic ` +
        `(${STATISTICS.join(', ')}), e.g. "latency:p99"`,
    })
    return z.NEVER
  }
  if (s !== undefined && !(STATISTICS as readonly string[]).includes(s)) {
    ctx.addIssue({code: 'custom', message: `"${s}" is not a statistic; use one of ${STATISTICS.join(', ')}`})
    return z.NEVER
  }
  return {name: m as MetricName, statistic: (s ?? defaultStatistic(m as MetricName)) as StatisticName}
})

const keepWarm = z.strictObject({
  /** Seconds between pings (AWS Scheduler's finest rate is one minute: rounded up there). */
  every: positive,
  /** The event a ping sends; the handler can recognise it and return early. */
  payload: json.optional(),
})

const variant = z.strictObject({
  name,
  description: z.string().optional(),
  /** Extra --build-arg values for this variant's image. */
  buildArgs: z.record(z.string(), z.string()).optional(),
  /** A built image to run instead of building (a local image name or ID, or an ECR URI). */
  image: z.string().min(1).optional(),
  memory: z.number().int().min(MEMORY_RANGE.min).max(MEMORY_RANGE.max).optional(),
  timeout: z.number().int().min(TIMEOUT_RANGE.min).max(TIMEOUT_RANGE.max).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** The image's CMD override (module.function). */
  handler: z.string().min(1).optional(),
  keepWarm: keepWarm.optional(),
})

const load = z.strictObject({
  payload: json.optional(),
  rps: positive.default(1),
  /** Measured seconds per run. */
  time: positive.default(10),
  warmup: z.number().min(0).default(0),
  distribution: z.enum(['fixed', 'poisson']).default('fixed'),
  maxInFlight: z.number().int().positive().default(100),
  /** Forced cold starts instead of a timed load: this many rounds of reconfigure-then-invoke. */
  coldStarts: z.number().int().positive().optional(),
})

export const experimentSchema = z
  .strictObject({
    name,
    description: z.string().optional(),
    /** A folder with a benchmark.json, relative to the experiment file, or the name of a bundled benchmark. */
    benchmark: z
      .string({
        error: (issue) =>
          `${issue.input === undefined ? 'is missing' : 'must be text'}: name the benchmark to run, a folder with a ` +
          "benchmark.json (relative to this file) or a shipped benchmark's name",
      })
      .min(1, 'is empty: name the benchmark to run'),
    /** Which of its functions (default the benchmark's entry). */
    function: z.string().min(1).optional(),
    platform: z.enum(PLATFORMS).optional(),
    seed: z.number().int().default(1),
    /** Of the bootstrap intervals. */
    confidence: z.number().gt(0.5).lt(1).default(0.95),
    repeat: z.number().int().min(1).default(1),
    variants: z.array(variant).min(2, 'needs at least two variants to compare'),
    load: load.default({rps: 1, time: 10, warmup: 0, distribution: 'fixed', maxInFlight: 100}),
    metric: z.preprocess(
      (m) => (typeof m === 'string' ? [m] : m),
      z
        .array(metric, {
          error:
            `give one metric or a list of them (${METRICS.join(', ')}, optionally with :statistic, e.g. ` +
            `"latency:p99")`,
        })
        .min(1, 'name at least one metric'),
    ),
    /** Pairs [a, b] to compare (b against a); by default every variant against the first. */
    compare: z.array(z.tuple([name, name])).optional(),
    /** Local target only: the service's idle timeout this experiment needs (keep-warm). */
    local: z.strictObject({idleTimeout: positive.optional()}).optional(),
  })
  .superRefine((e, ctx) => {
    const names = e.variants.map((v) => v.name)
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'name'],
          message: `"${n}" is used by more than one variant`,
        })
    })
    e.variants.forEach((v, i) => {
      if (v.image && v.buildArgs)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'image'],
          message: 'give either image (run it as is) or buildArgs (build it), not both',
        })
      if (v.env && Buffer.byteLength(JSON.stringify(v.env)) > ENV_MAX_BYTES)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'env'],
          message: `is larger than Lambda's ${ENV_MAX_BYTES} bytes`,
        })
    })
    e.compare?.forEach((pair, i) =>
      pair.forEach((n, j) => {
        if (!names.includes(n))
          ctx.addIssue({
            code: 'custom',
            path: ['compare', i, j],
            message: `"${n}" is not one of the variants (${names.join(', ')})`,
          })
      }),
    )
    if (`${e.name}-${names.reduce((a, b) => (a.length >= b.length ? a : b))}`.length > 64) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'with the longest variant name makes a function name over 64 characters; shorten one of them',
      })
    }
  })

export type ExperimentConfig = z.output<typeof experimentSchema>
export type VariantConfig = ExperimentConfig['variants'][number]

export interface Experiment extends ExperimentConfig {
  /** The file it was read from, and its text as written (kept in the results folder). */
  file: string
  text: string
  /** Absolute folder of the benchmark (holding benchmark.json). */
  benchmarkRoot: string
  benchmarkName: string
  pairs: Array<[string, string]>
}

/** "variants[1].memory" from a zod path. */
const fieldOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  )

/** Parses and validates an experiment's text; every problem names its field. */
export function parseExperiment(text: string, file: string): ExperimentConfig {
  let raw: unknown
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new UserError(
      `${file} is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ` +
        `${messageOf(error).split('\n')[0]}.`,
      {code: 'BAD_EXPERIMENT', fix: 'Fix the syntax (see experiments/*/experiment.yaml for examples).'},
    )
  }
  const parsed = experimentSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = fieldOf(issue.path)
      // zod says "Unrecognized key" for typos; say which keys are allowed instead of nothing.
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
          : issue.message
      return field ? `${field}: ${message}` : message
    })
    throw new UserError(`${file} is not a valid experiment: ${problems.join('; ')}.`, {
      code: 'BAD_EXPERIMENT',
      fix: 'Fix the named field(s); see docs/experiments.md for the format.',
    })
  }
  return parsed.data
}

/** Reads an experiment file and resolves its benchmark folder. */
export async function loadExperiment(file: string, benchmarksRoot: string): Promise<Experiment> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read the experiment file ${file} (${messageOf(error)}).`, {
      code: 'NO_EXPERIMENT',
      fix: 'Check the path (e.g. experiments/dependency-size/experiment.yaml).',
    })
  }
  const config = parseExperiment(text, file)
  // A path relative to the file (the shipped experiments carry their own benchmark), else a bundled benchmark's name.
  const local = isAbsolute(config.benchmark) ? config.benchmark : resolve(dirname(file), config.benchmark)
  const found = await stat(join(local, 'benchmark.json')).catch(() => undefined)
  const benchmarkDir = found ? local : join(benchmarksRoot, config.benchmark)
  const pairs =
    config.compare ?? config.variants.slice(1).map((v): [string, string] => [config.variants[0]!.name, v.name])
  return {
    ...config,
    file: resolve(file),
    text,
    benchmarkRoot: dirname(benchmarkDir),
    benchmarkName: benchmarkDir.split('/').pop()!,
    pairs,
  }
}
