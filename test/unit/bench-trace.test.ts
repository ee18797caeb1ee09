import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import type {Arrival} from '../../src/bench/arrival.js'
import {lambdaMemoryFor, readTrace, type TraceWindow} from '../../src/bench/trace/read.js'
import {drawFrom, sampleFunctions} from '../../src/bench/trace/sample.js'
import {requestedPerMinute, traceArrivals, type Iat} from '../../src/bench/trace/schedule.js'
import {isUserError} from '../../src/core/errors.js'
import {PROJECT_ROOT} from '../../src/core/paths.js'

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'trace')
const AZURE_2019 = join(FIXTURES, 'azure-2019')
const AZURE_2021 = join(FIXTURES, 'azure-2021.csv')
const all: TraceWindow = {start: 0, warmupMinutes: 0, seed: 1}

/** Calls per (function, minute) of a schedule, as "hash@minute" → count. */
function perMinute(arrivals: Iterable<Arrival>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const a of arrivals) {
    const key = `${a.tag!.traceFunction}@${a.tag!.minute}`
    out[key] = (out[key] ?? 0) + 1
  }
  return out
}

const schedule = (trace: Awaited<ReturnType<typeof readTrace>>, iat: Iat = 'exponential', speedup = 1) => [
  ...traceArrivals(trace, {iat, seed: 3, speedup, endpoint: (i) => `fn-${i}`}),
]

test('2019 folder: every function with calls, its window counts, durations and memory', async () => {
  const trace = await readTrace(AZURE_2019, all)
  assert.is(trace.format, 'azure-2019')
  assert.equal(
    trace.functions.map((f) => f.hash),
    ['f1', 'f2', 'f3'],
  )
  assert.is(trace.candidates, 3) // f4 never runs
  assert.is(trace.minutes, 5)
  assert.equal([...trace.functions[0]!.minutes], [0, 2, 3])
  assert.equal([...trace.functions[0]!.counts], [2, 5, 1])
  assert.equal(trace.functions[2]!.durationMs.values, [1, 1, 3, 5, 7, 9, 9])
  assert.is(trace.functions[0]!.memorySizeMb, 320) // 200 MB touched + 64, rounded up to 64
  assert.is(trace.functions[2]!.memoryMb, undefined) // app a2 has no memory.csv row
  assert.is(trace.functions[2]!.memorySizeMb, 128)
  assert.is(trace.withoutMemory, 1)
})

test('2019 replay: exactly the trace count per function and minute, for every --iat', async () => {
  const trace = await readTrace(AZURE_2019, all)
  const expected = {
    'f1@1': 2,
    'f1@3': 5,
    'f1@4': 1,
    'f2@1': 1,
    'f2@2': 1,
    'f2@3': 1,
    'f2@4': 1,
    'f2@5': 1,
    'f3@2': 10,
    'f3@5': 3,
  }
  for (const iat of ['exponential', 'uniform', 'equidistant'] as const) {
    const arrivals = schedule(trace, iat)
    assert.equal(perMinute(arrivals), expected, iat)
    // In time order, each inside its own minute.
    for (let i = 0; i < arrivals.length; i++) {
      const a = arrivals[i]!
      if (i > 0) assert.ok(a.atUs >= arrivals[i - 1]!.atUs)
      assert.ok(a.atUs >= (a.tag!.minute! - 1) * 60e6 && a.atUs < a.tag!.minute! * 60e6, `${iat} ${a.atUs}`)
    }
  }
  assert.equal(
    requestedPerMinute(trace).map((m) => m.calls),
    [3, 11, 6, 2, 4],
  )
})

test('2019 replay: equidistant spreads evenly; durations and memory drawn within the percentiles, seeded', async () => {
  const trace = await readTrace(AZURE_2019, all)
  const f3 = schedule(trace, 'equidistant').filter((a) => a.tag!.traceFunction === 'f3' && a.tag!.minute === 2)
  assert.equal(
    f3.map((a) => Math.round(a.atUs)),
    Array.from({length: 10}, (_, i) => 60e6 + i * 6e6),
  )
  const arrivals = schedule(trace)
  for (const a of arrivals) {
    const {traceFunction, requestedMs, requestedMemoryMb} = a.tag!
    if (traceFunction === 'f1') {
      assert.ok(requestedMs! >= 10 && requestedMs! <= 300)
      assert.ok(requestedMemoryMb! >= 100 && requestedMemoryMb! <= 200)
    }
    if (traceFunction === 'f2') assert.is(requestedMs, 20)
    if (traceFunction === 'f3') assert.ok(requestedMs! >= 1 && requestedMs! <= 9 && requestedMemoryMb === 0)
    assert.equal(JSON.parse(a.payload!), {ms: requestedMs, mb: requestedMemoryMb})
  }
  assert.equal(schedule(trace), arrivals, 'the same seed gives the same schedule')
})

test('window, warm-up and speed-up: the selected minutes only, compressed in time', async () => {
  const trace = await readTrace(AZURE_2019, {start: 1, minutes: 2, warmupMinutes: 1, seed: 1})
  assert.is(trace.startMinute, 1)
  assert.equal(requestedPerMinute(trace), [
    {minute: 2, calls: 11},
    {minute: 3, calls: 6},
    {minute: 4, calls: 2},
  ])
  const arrivals = schedule(trace, 'uniform', 60)
  assert.is(arrivals.length, 19)
  // A trace minute lasts a second at --speedup 60.
  for (const a of arrivals) assert.ok(Math.floor(a.atUs / 1e6) === a.tag!.minute! - 2)
})

test('2021 file: per-invocation rows become per-minute counts (by start time) and duration percentiles', async () => {
  const trace = await readTrace(AZURE_2021, all)
  assert.is(trace.format, 'azure-2021')
  assert.is(trace.minutes, 3)
  assert.equal(perMinute(schedule(trace)), {'x@1': 2, 'x@2': 1, 'x@3': 1, 'y@1': 1, 'y@3': 1})
  const x = trace.functions.find((f) => f.hash === 'x')!
  assert.is(x.durationMs.values[0], 100)
  assert.is(x.durationMs.values.at(-1), 2000)
  assert.is(x.memorySizeMb, 128)
})

test('--functions samples seeded across the rate spread', () => {
  const totals = Array.from({length: 1000}, (_, i) => (i % 10 === 0 ? 0 : i))
  const picked = sampleFunctions(totals, 90, 5)
  assert.is(picked.length, 90)
  assert.is(new Set(picked).size, 90)
  assert.ok(picked.every((i) => totals[i]! > 0))
  // One per stratum: as many below the median rate as above it.
  const below = picked.filter((i) => totals[i]! < 500).length
  assert.ok(Math.abs(below - 45) <= 1, `${below}`)
  assert.equal(sampleFunctions(totals, 90, 5), picked)
  assert.equal(sampleFunctions([0, 3, 1], 5, 1), [1, 2])
})

test('drawFrom interpolates between the known percentiles', () => {
  const p = {ranks: [0, 50, 100], values: [0, 10, 110]}
  assert.is(drawFrom(p, 0), 0)
  assert.is(drawFrom(p, 0.25), 5)
  assert.is(drawFrom(p, 0.75), 60)
  assert.is(lambdaMemoryFor(1000), 1088)
  assert.is(lambdaMemoryFor(20_000), 10_240)
})

/** A copy of the 2019 fixture with one file changed (or removed). */
function broken(file: string, text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'faas-trace-'))
  cpSync(AZURE_2019, dir, {recursive: true})
  if (text === undefined) rmSync(join(dir, file))
  else writeFileSync(join(dir, file), text)
  return dir
}

async function refused(path: string, pattern: RegExp, window: TraceWindow = all): Promise<void> {
  try {
    await readTrace(path, window)
  } catch (error) {
    assert.ok(isUserError(error), String(error))
    assert.match((error as Error).message, pattern)
    return
  }
  assert.unreachable(`${path} was accepted`)
}

test('bad traces: a missing file or column, a count that is not whole, a function without durations', async () => {
  await refused(broken('memory.csv'), /has no memory\.csv/)
  await refused(
    broken('durations.csv', 'HashOwner,HashApp,HashFunction\no1,a1,f1\n'),
    /no columns percentile_Average_0/,
  )
  await refused(
    broken('invocations.csv', 'HashOwner,HashApp,HashFunction,Trigger,1,2\no1,a1,f1,http,1,2.5\n'),
    /line 2 column 2 is "2\.5", not a whole number/,
  )
  await refused(
    broken('invocations.csv', 'HashOwner,HashApp,HashFunction,Trigger,1\no9,a9,f9,http,4\n'),
    /have no row in durations\.csv \(e\.g\. HashFunction f9 of app a9\)/,
  )
  await refused(broken('invocations.csv', 'HashOwner,HashApp,Trigger,1\n'), /no column HashFunction/)
  await refused(AZURE_2019, /has 5 minutes, too few/, {start: 4, minutes: 2, warmupMinutes: 0, seed: 1})
  await refused(join(FIXTURES, 'nope'), /does not exist/)
  const bad2021 = join(mkdtempSync(join(tmpdir(), 'faas-trace-')), 't.csv')
  writeFileSync(bad2021, 'app,func,end_timestamp,duration\na,x,later,1\n')
  await refused(bad2021, /end_timestamp is "later"/)
})

test.run()
