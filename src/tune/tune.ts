import {CreateAliasCommand, GetAliasCommand, UpdateAliasCommand, type LambdaClient} from '@aws-sdk/client-lambda'

import {aws} from '../aws/errors.js'
import {bootstrapDifference, median} from '../bench/bootstrap.js'
import {fromOutcome, type InvocationRecord} from '../bench/records.js'
import {DEFAULT_PRICES, type Architecture, type Prices} from '../bench/cost.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {RunTarget} from '../targets/target.js'
import {publishPowerVersions, type PowerVersion} from './power-versions.js'

/**
 * `faas tune`: AWS Lambda Power Tuning's method on either target. For each power value a version with that
 * memory behind an alias `tune-<MB>` (the memory is set on $LATEST to publish it, and put back after), N
 * calls through the alias, durations from the REPORT lines, the slowest and fastest share discarded, and the
 * choice by strategy as Power Tuning makes it. Beyond it: bootstrap intervals, and the choice called only
 * where the interval against the runner-up excludes zero.
 */

export type Strategy = 'cost' | 'speed' | 'balanced'
export const STRATEGIES: Strategy[] = ['cost', 'speed', 'balanced']

export interface TuneRequest {
  functionName: string
  powerValues: number[]
  num: number
  payload: string
  strategy: Strategy
  /** balanced: 0 = speed only, 1 = cost only (Power Tuning's balancedWeight). */
  balancedWeight: number
  parallel: boolean
  /** Every call a cold start: one version per call (Power Tuning's onlyColdStarts). */
  onlyColdStarts?: boolean
  /** Share of the slowest and of the fastest calls left out (discardTopBottom: 0.2, or 0 with onlyColdStarts). */
  discardTopBottom: number
  /** Point `alias` at the chosen version. */
  autoOptimize: boolean
  alias: string
  /** The prices to compute with (DEFAULT_PRICES when not given). */
  prices?: Prices
}

/** One power value's figures (Power Tuning's averages of the kept calls, and medians with intervals). */
export interface PowerResult {
  memoryMb: number
  version: string
  durationsMs: number[]
  /** Compute cost per call, USD (billed duration × price per GB-second; Power Tuning's figure). */
  costsUsd: number[]
  averageDurationMs: number
  averageCostUsd: number
  /** averageCostUsd plus the per-request price. */
  averageTotalUsd: number
  medianDurationMs: number
  medianCostUsd: number
  /** 95 % bootstrap intervals of the medians. */
  durationIntervalMs: [number, number]
  costIntervalUsd: [number, number]
  coldStarts: number
  /** Median Init Duration of the cold calls (all calls with only cold starts), when there were any. */
  medianInitDurationMs?: number
  wallMs: number
}

export interface TuneResult {
  functionName: string
  architecture: Architecture
  strategy: Strategy
  balancedWeight: number
  onlyColdStarts: boolean
  results: PowerResult[]
  /** Power Tuning's choice by the strategy. */
  best: {memoryMb: number; version: string}
  runnerUp?: {memoryMb: number}
  /** Whether the interval of (runner-up − best) on the strategy's per-call figure excludes zero. */
  decided: boolean
  verdict: string
  alias?: {name: string; version: string}
  wallMs: number
  prices: {perGbSecondUsd: number; perRequestUsd: number; asOf: string}
  /** Every call as faas bench records it (all of them, the discarded ones too), in the order they ended. */
  records: InvocationRecord[]
}

const fail = (message: string, fix: string) => new UserError(message, {code: 'BAD_TUNE', fix})

/** Refuses what Power Tuning refuses, before anything is changed. */
export function checkTuneRequest(request: TuneRequest): TuneRequest {
  if (request.powerValues.length === 0)
    throw fail('No power values were given.', 'Give --power-values, e.g. 128,256,512,1024,1769,3008.')
  for (const value of request.powerValues) {
    if (!Number.isInteger(value) || value < 128 || value > 10_240)
      throw fail(
        `Power value ${value} is outside Lambda's memory range.`,
        'Give --power-values whole numbers of MB from 128 to 10240, e.g. 128,256,512,1024,1769,3008.',
      )
  }
  if (new Set(request.powerValues).size !== request.powerValues.length)
    throw fail('A power value is given twice.', 'Give each memory size once in --power-values.')
  if (!Number.isInteger(request.num) || request.num < 5)
    throw fail(
      `--num ${request.num} is below 5, Power Tuning's floor.`,
      'Give --num 5 or more calls per power value (10 or more for useful intervals).',
    )
  if (!STRATEGIES.includes(request.strategy))
    throw fail(`Unknown strategy "${request.strategy}".`, `Give --strategy ${STRATEGIES.join(', ')}.`)
  if (!(request.balancedWeight >= 0 && request.balancedWeight <= 1))
    throw fail(
      `--balanced-weight ${request.balancedWeight} is outside 0–1.`,
      'Give a weight from 0 (speed only) to 1 (cost only).',
    )
  if (!(request.discardTopBottom >= 0 && request.discardTopBottom < 0.5))
    throw fail(
      `--discard-top-bottom ${request.discardTopBottom} is outside 0–0.4.`,
      "Give the share of slowest and fastest calls to leave out, from 0 to 0.4 (Power Tuning's default 0.2).",
    )
  try {
    JSON.parse(request.payload)
  } catch {
    throw fail('--payload is not JSON.', `Give the event as JSON, e.g. --payload '{"n": 1}'.`)
  }
  return request
}

/** The calls kept after leaving out the slowest and the fastest `share` (by duration), as Power Tuning does. */
export function trimmed<T extends {durationMs: number}>(calls: T[], share: number): T[] {
  const sorted = [...calls].sort((a, b) => a.durationMs - b.durationMs)
  const drop = Math.floor(sorted.length * share)
  return sorted.slice(drop, sorted.length - drop)
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** Power Tuning's choice: cheapest, fastest, or the lowest weight·cost/maxCost + (1 − weight)·duration/maxDuration. */
export function choose(
  stats: Array<{memoryMb: number; cost: number; duration: number}>,
  strategy: Strategy,
  weight: number,
): Array<{memoryMb: number; score: number}> {
  const maxCost = Math.max(...stats.map((s) => s.cost))
  const maxDuration = Math.max(...stats.map((s) => s.duration))
  const score = (s: {cost: number; duration: number}) =>
    strategy === 'cost'
      ? s.cost + s.duration * 1e-12 // ties go to the faster, as in Power Tuning
      : strategy === 'speed'
        ? s.duration + s.cost * 1e-6
        : (weight * s.cost) / maxCost + ((1 - weight) * s.duration) / maxDuration
  return stats.map((s) => ({memoryMb: s.memoryMb, score: score(s)})).sort((a, b) => a.score - b.score)
}

function medianInterval(values: number[]): [number, number] {
  // The interval of the median alone: the difference to a sample of zeros is the median's own bootstrap.
  const d = bootstrapDifference([0], values, {seed: 7})
  return [d.lo, d.hi]
}

/** One call's figures from its REPORT line. */
type Call = {durationMs: number; billedDurationMs: number; initDurationMs?: number}

/** Runs the tuning; `$LATEST`'s memory is put back whatever happens. */
export async function tune(target: RunTarget, request: TuneRequest, emit: Emit): Promise<TuneResult> {
  checkTuneRequest(request)
  const name = request.functionName
  const state = await target.describe(name)
  if (!state)
    throw new UserError(`Function ${name} was not found on the ${target.kind} target.`, {
      code: 'NOT_DEPLOYED',
      fix: `Deploy it first (faas deploy … --function_name ${name} --target ${target.kind}).`,
    })
  const architecture: Architecture = state.architectures.includes('x86_64') ? 'x86_64' : 'arm64'
  const lambda = await target.lambda()
  const started = performance.now()
  type Run = {memoryMb: number; calls: Call[]; wallMs: number}
  const records: InvocationRecord[] = []
  const runValue = async (memoryMb: number, aliases: PowerVersion[]): Promise<Run> => {
    const t = performance.now()
    // With only cold starts, call i goes to its own version (tune-<MB>-<i>), else all to tune-<MB>.
    const one = async (i: number): Promise<Call> => {
      const qualified = `${name}:${(aliases[i] ?? aliases[0]!).alias}`
      const out = await target.invoke({name: qualified, payload: request.payload, logTail: true})
      records.push(fromOutcome({seq: records.length, phase: 'measure', function: qualified, protocol: 'lambda'}, out))
      if (out.functionError || !out.report?.durationMs)
        throw new UserError(`A call of ${name} at ${memoryMb} MB failed: ${out.payload.slice(0, 300)}`, {
          code: 'TUNE_INVOCATION_FAILED',
          fix: 'Give a --payload the function handles, or fix the function, then tune again.',
        })
      return {
        durationMs: out.report.durationMs,
        billedDurationMs: out.report.billedDurationMs ?? Math.ceil(out.report.durationMs),
        initDurationMs: out.report.initDurationMs,
      }
    }
    const calls = request.parallel
      ? await Promise.all(Array.from({length: request.num}, (_, i) => one(i)))
      : await sequential(request.num, one)
    emit({kind: 'progress', subject: name, message: `${memoryMb} MB: ${calls.length} calls`})
    return {memoryMb, calls, wallMs: performance.now() - t}
  }
  // In parallel, a value's calls start as soon as its version is published, while the next values are published
  // (configuration updates go one at a time; calls to published versions need not wait for them).
  const running = new Map<number, Promise<Run>>()
  const onPublished = (memoryMb: number, aliases: PowerVersion[]) => {
    const run = runValue(memoryMb, aliases)
    run.catch(() => {}) // seen when awaited below; until then, not an unhandled rejection
    running.set(memoryMb, run)
  }
  const {versions, aliases, cleanUp} = await publishPowerVersions(target, lambda, name, request.powerValues, emit, {
    ...(request.onlyColdStarts ? {perCall: request.num} : {}),
    ...(request.parallel ? {onPublished} : {}),
  })
  let alias: TuneResult['alias']
  try {
    const runs = request.parallel
      ? await Promise.all(request.powerValues.map((memoryMb) => running.get(memoryMb)!))
      : await sequential(request.powerValues.length, (i) =>
          runValue(request.powerValues[i]!, aliases.get(request.powerValues[i]!)!),
        )
    const prices = request.prices ?? DEFAULT_PRICES
    const perGb = prices.perGbSecondUsd[architecture]
    const perRequest = prices.perRequestUsd
    const results = runs.map((run) => figuresOf(run, versions.get(run.memoryMb)!.version, request, perGb, perRequest))
    const ranked = choose(
      results.map((r) => ({memoryMb: r.memoryMb, cost: r.averageCostUsd, duration: r.averageDurationMs})),
      request.strategy,
      request.balancedWeight,
    )
    const best = results.find((r) => r.memoryMb === ranked[0]!.memoryMb)!
    const second = ranked[1] ? results.find((r) => r.memoryMb === ranked[1]!.memoryMb) : undefined
    const {decided, verdict} = decide(best, second, request, results)
    if (request.autoOptimize) {
      await pointAlias(lambda, name, request.alias, best.version)
      alias = {name: request.alias, version: best.version}
      emit({
        kind: 'done',
        subject: name,
        message: `alias ${request.alias} → version ${best.version} (${best.memoryMb} MB)`,
      })
    }
    return {
      functionName: name,
      architecture,
      strategy: request.strategy,
      balancedWeight: request.balancedWeight,
      onlyColdStarts: request.onlyColdStarts ?? false,
      results,
      best: {memoryMb: best.memoryMb, version: best.version},
      ...(second ? {runnerUp: {memoryMb: second.memoryMb}} : {}),
      decided,
      verdict,
      ...(alias ? {alias} : {}),
      wallMs: performance.now() - started,
      prices: {perGbSecondUsd: perGb, perRequestUsd: perRequest, asOf: prices.asOf},
      records,
    }
  } finally {
    await cleanUp(alias?.version)
  }
}

/** One power value's figures from its calls: the kept calls' averages (Power Tuning) and medians with intervals. */
function figuresOf(
  run: {memoryMb: number; calls: Call[]; wallMs: number},
  version: string,
  request: TuneRequest,
  perGb: number,
  perRequest: number,
): PowerResult {
  const {memoryMb, calls, wallMs} = run

  const kept = trimmed(calls, request.discardTopBottom)
  const durations = kept.map((c) => c.durationMs)
  const costs = kept.map((c) => (memoryMb / 1024) * (c.billedDurationMs / 1000) * perGb)
  const averageCostUsd = mean(costs)
  const inits = calls.flatMap((c) => (c.initDurationMs === undefined ? [] : [c.initDurationMs]))
  return {
    memoryMb,
    version,
    durationsMs: durations,
    costsUsd: costs,
    averageDurationMs: mean(durations),
    averageCostUsd,
    averageTotalUsd: averageCostUsd + perRequest,
    medianDurationMs: median(durations),
    medianCostUsd: median(costs),
    durationIntervalMs: medianInterval(durations),
    costIntervalUsd: medianInterval(costs),
    coldStarts: inits.length,
    ...(inits.length ? {medianInitDurationMs: median(inits)} : {}),
    wallMs,
  }
}

async function sequential<T>(n: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(await work(i))
  return out
}

/** The strategy's per-call figure, so the best and the runner-up can be compared call by call. */
function perCall(r: PowerResult, request: TuneRequest, all: PowerResult[]): number[] {
  if (request.strategy === 'speed') return r.durationsMs
  if (request.strategy === 'cost') return r.costsUsd
  const maxCost = Math.max(...all.map((x) => x.averageCostUsd))
  const maxDuration = Math.max(...all.map((x) => x.averageDurationMs))
  const w = request.balancedWeight
  return r.durationsMs.map((d, i) => (w * r.costsUsd[i]!) / maxCost + ((1 - w) * d) / maxDuration)
}

function decide(
  best: PowerResult,
  second: PowerResult | undefined,
  request: TuneRequest,
  all: PowerResult[],
): {decided: boolean; verdict: string} {
  if (!second) return {decided: true, verdict: `${best.memoryMb} MB (the only power value)`}
  const d = bootstrapDifference(perCall(best, request, all), perCall(second, request, all), {seed: 11})
  const what = {cost: 'cost', speed: 'duration', balanced: 'balanced score'}[request.strategy]
  if (d.lo > 0)
    return {
      decided: true,
      verdict:
        `${best.memoryMb} MB: its median ${what} is below ${second.memoryMb} MB's, and the 95 % interval of the ` +
        `difference excludes zero`,
    }
  return {
    decided: false,
    verdict:
      `no difference detected between ${best.memoryMb} MB and ${second.memoryMb} MB on ${what} (the 95 % interval ` +
      `of the difference includes zero); Power Tuning's pick is ${best.memoryMb} MB — more calls (--num) may tell`,
  }
}

/** Points `alias` at `version`, creating it when absent; nothing is written when it already points there. */
async function pointAlias(lambda: LambdaClient, name: string, alias: string, version: string): Promise<void> {
  const current = await aws(`read alias ${alias} of ${name} (lambda:GetAlias)`, () =>
    lambda.send(new GetAliasCommand({FunctionName: name, Name: alias})).catch((error: {name?: string}) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  if (!current)
    await aws(`create alias ${alias} of ${name} (lambda:CreateAlias)`, () =>
      lambda.send(new CreateAliasCommand({FunctionName: name, Name: alias, FunctionVersion: version})),
    )
  else if (
    current.FunctionVersion !== version ||
    Object.keys(current.RoutingConfig?.AdditionalVersionWeights ?? {}).length
  )
    await aws(`update alias ${alias} of ${name} (lambda:UpdateAlias)`, () =>
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: name,
          Name: alias,
          FunctionVersion: version,
          RoutingConfig: {AdditionalVersionWeights: {}},
          RevisionId: current.RevisionId,
        }),
      ),
    )
}
