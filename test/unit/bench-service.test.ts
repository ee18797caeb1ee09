import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runBench, type BenchOptions, type Reconfigure} from '../../src/bench/bench.js'
import type {Invoke} from '../../src/bench/runner.js'
import {UserError} from '../../src/core/errors.js'
import type {ProgressEvent} from '../../src/core/events.js'

/**
 * A fake target that behaves as Lambda does where the bench relies on it: a configuration change
 * starts fresh environments (next call cold), duration shrinks as memory grows, billed = ceil(duration).
 */
function fakeTarget(known: string[]) {
  const memory = new Map(known.map((n) => [n, 1024]))
  const fresh = new Set(known)
  const changes: Array<{fn: string; memoryMb?: number; env?: Record<string, string>}> = []
  const invoke: Invoke = async (request) => {
    if (!memory.has(request.name)) throw new Error(`ResourceNotFoundException: Function not found: ${request.name}`)
    if (request.invocationType === 'DryRun')
      return {name: request.name, statusCode: 204, payload: '', startedAtUs: 0, clientLatencyUs: 0}
    const mb = memory.get(request.name)!
    const cold = fresh.delete(request.name)
    const durationMs = 100_000 / mb
    await new Promise((r) => setImmediate(r))
    return {
      name: request.name,
      statusCode: 200,
      payload: '{}',
      report: {
        durationMs,
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMb: mb,
        maxMemoryUsedMb: 40,
        ...(cold ? {initDurationMs: 300} : {}),
      },
      startedAtUs: Date.now() * 1000,
      clientLatencyUs: durationMs * 1000 + 500,
    }
  }
  const reconfigure: Reconfigure = async (fn, change) => {
    changes.push({fn, ...change})
    if (change.memoryMb) memory.set(fn, change.memoryMb)
    fresh.add(fn)
  }
  const restore = async () => {
    changes.push({fn: '*restore*'})
  }
  return {invoke, reconfigure, restore, changes}
}

const options = (outDir: string, o: Partial<BenchOptions> = {}): BenchOptions => ({
  functions: ['f'],
  payload: '{}',
  rps: 40,
  durationS: 0.25,
  warmupS: 0,
  distribution: 'fixed',
  maxInFlight: 100,
  outDir,
  latf: 'lat.csv',
  architecture: 'arm64',
  ...o,
})

const withDir = async (fn: (dir: string) => Promise<void>) => {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

test('a load run writes records (JSONL, CSV), the summary, the vHive latency file and the report', () =>
  withDir(async (dir) => {
    const {invoke} = fakeTarget(['f'])
    const events: ProgressEvent[] = []
    const result = await runBench(options(dir), {invoke, emit: (e) => events.push(e)})
    assert.is(result.kind, 'load')
    assert.is(result.summary.count, 10)
    assert.is(result.summary.cold.count, 1)
    const names = (await readdir(dir)).sort()
    assert.equal(
      names,
      [
        'records.csv',
        'records.jsonl',
        'report.html',
        `rps${result.summary.achievedRps.toFixed(2)}_lat.csv`,
        'summary.json',
      ].sort(),
    )
    assert.is((await readFile(join(dir, 'records.jsonl'), 'utf8')).trim().split('\n').length, 10)
    assert.is((await readFile(join(dir, 'records.csv'), 'utf8')).trim().split('\n').length, 11)
    const lat = (await readFile(join(dir, `rps${result.summary.achievedRps.toFixed(2)}_lat.csv`), 'utf8'))
      .trim()
      .split('\n')
    assert.equal(
      lat,
      Array.from({length: 10}, () => '98156'),
    ) // 100000/1024 ms + 0.5 ms, in µs
    assert.equal(JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')).count, 10)
    assert.ok(events.some((e) => e.kind === 'done' && e.message.includes('10 calls')))
  }))

test('an unknown function fails before any load, with a clear message', () =>
  withDir(async (dir) => {
    const {invoke} = fakeTarget(['f'])
    try {
      await runBench(options(dir, {functions: ['f', 'nope']}), {invoke, emit: () => {}})
      assert.unreachable()
    } catch (error) {
      assert.instance(error, UserError)
      assert.is((error as UserError).code, 'UNKNOWN_FUNCTION')
      assert.ok((error as UserError).paragraph.includes('"nope" is not deployed'))
    }
    assert.equal(await readdir(dir), [])
  }))

test('memory sweep: reconfigures each size, measures it, compares time and cost', () =>
  withDir(async (dir) => {
    const {invoke, reconfigure, restore, changes} = fakeTarget(['f'])
    const result = await runBench(options(dir, {memorySizes: [128, 1024, 2048]}), {
      invoke,
      reconfigure,
      restore,
      emit: () => {},
    })
    assert.is(result.kind, 'memory-sweep')
    assert.equal(
      changes.map((c) => c.memoryMb ?? c.fn),
      [128, 1024, 2048, '*restore*'],
    )
    assert.equal(
      result.sweep!.map((r) => r.memoryMb),
      [128, 1024, 2048],
    )
    assert.equal(
      result.sweep!.map((r) => r.count),
      [10, 10, 10],
    )
    // Duration 100000/mb ms: 781.25, 97.66, 48.83 ms.
    assert.ok(Math.abs(result.sweep![0]!.meanDurationMs! - 781.25) < 1e-9)
    // Per million: billed ceil(d) ms × mb/1024 GB × arm64 price + $0.20. 128 MB: 782 ms × 0.125 GB.
    const expected128 = 0.782 * 0.125 * 0.0000133334 * 1e6 + 0.2
    assert.ok(
      Math.abs(result.sweep![0]!.costPerMillionUsd! - expected128) < 1e-9,
      `${result.sweep![0]!.costPerMillionUsd}`,
    )
    assert.ok(result.sweep![2]!.p50Ms! < result.sweep![0]!.p50Ms!)
    // Duration falls as memory grows, while GB-s = 100 s·MB/1024 stays flat, so billing rounding decides:
    // 128 MB: 782 ms × 0.125 GB = 97.75 GB-ms; 1024 MB: 98 × 1 = 98; 2048 MB: 49 × 2 = 98.
    // Every call of a size costs the same here, so the intervals are points and both picks are named.
    assert.equal([result.best!.fastestMemoryMb, result.best!.cheapestMemoryMb], [2048, 128])
    assert.match(
      result.best!.fastest.text,
      /^fastest: 2048 MB \(2048 MB is faster than 1024 MB by 48\.83 ms \[48\.83 ms, 48\.83 ms\]/,
    )
    assert.match(
      result.best!.cheapest.text,
      /^cheapest: 128 MB \(128 MB is cheaper than (1024|2048) MB by \$0\.0033 per 1M calls/,
    )
    for (const mb of [128, 1024, 2048]) assert.ok((await readdir(join(dir, `memory-${mb}`))).includes('report.html'))
    const html = await readFile(join(dir, 'report.html'), 'utf8')
    assert.ok(
      html.includes('Memory sweep — fastest: 2048 MB') &&
        html.includes('cheapest: 128 MB') &&
        html.includes('<td>2048</td>'),
    )
    assert.equal(JSON.parse(await readFile(join(dir, 'sweep.json'), 'utf8')), result.sweep)
  }))

test('forced cold starts: a config change before each round makes every call cold', () =>
  withDir(async (dir) => {
    const {invoke, reconfigure, changes} = fakeTarget(['f', 'g'])
    const result = await runBench(options(dir, {functions: ['f', 'g'], coldStarts: 3}), {
      invoke,
      reconfigure,
      emit: () => {},
    })
    assert.is(result.kind, 'cold-starts')
    assert.is(changes.length, 6)
    assert.ok(changes.every((c) => c.env && typeof c.env.FAAS_BENCH_COLD_START === 'string'))
    assert.is(new Set(changes.map((c) => c.env!.FAAS_BENCH_COLD_START)).size, 3)
    assert.is(result.summary.count, 6)
    assert.is(result.summary.cold.count, 6)
    assert.is(result.summary.cold.initDurationUs?.p50, 300_000)
  }))

test('sweeps need a target that can reconfigure', () =>
  withDir(async (dir) => {
    const {invoke} = fakeTarget(['f'])
    try {
      await runBench(options(dir, {memorySizes: [512]}), {invoke, emit: () => {}})
      assert.unreachable()
    } catch (error) {
      assert.is((error as UserError).code, 'NO_RECONFIGURE')
    }
  }))

test.run()
