import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {
  DEFAULT_PRICES,
  estimateCost,
  PRICE_PER_GB_SECOND_ARM64,
  PRICE_PER_GB_SECOND_X86_64,
  PRICE_PER_REQUEST,
} from '../../src/bench/cost.js'
import {parsePrices} from '../../src/bench/prices.js'
import type {InvocationRecord} from '../../src/bench/records.js'
import {distribution, formatSummary, percentile, summarize} from '../../src/bench/stats.js'

const rec = (seq: number, o: Partial<InvocationRecord>): InvocationRecord => ({
  seq,
  phase: 'measure',
  function: 'f',
  scheduledUs: seq * 1000,
  latenessUs: 0,
  startUs: 1_000_000 + seq * 1000,
  endUs: 1_000_000 + seq * 1000 + (o.clientLatencyUs ?? 0),
  clientLatencyUs: 0,
  cold: false,
  requestBytes: 2,
  ...o,
})

test('nearest-rank percentiles on 1..10', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  assert.is(percentile(sorted, 50), 5)
  assert.is(percentile(sorted, 90), 9)
  assert.is(percentile(sorted, 95), 10)
  assert.is(percentile(sorted, 99), 10)
  assert.is(percentile([7], 99), 7)
  assert.ok(Number.isNaN(percentile([], 50)))
})

test('distribution of unsorted values', () => {
  assert.equal(distribution([30, 10, 20, 40]), {
    count: 4,
    min: 10,
    mean: 25,
    p50: 20,
    p90: 40,
    p95: 40,
    p99: 40,
    max: 40,
  })
  assert.is(distribution([]), undefined)
})

test('summary against hand-computed figures: warm-up left out, cold split, errors, rate, cost', () => {
  const records = [
    rec(0, {phase: 'warmup', clientLatencyUs: 999_000, cold: true, initDurationUs: 500_000}),
    rec(1, {
      clientLatencyUs: 300_000,
      cold: true,
      initDurationUs: 200_000,
      providerDurationUs: 90_000,
      billedDurationUs: 291_000,
      memoryMb: 1024,
    }),
    rec(2, {clientLatencyUs: 10_000, providerDurationUs: 5_000, billedDurationUs: 5_000, memoryMb: 1024}),
    rec(3, {
      clientLatencyUs: 20_000,
      providerDurationUs: 15_000,
      billedDurationUs: 15_000,
      memoryMb: 1024,
      function: 'g',
    }),
    rec(4, {
      clientLatencyUs: 30_000,
      error: 'Unhandled',
      providerDurationUs: 25_000,
      billedDurationUs: 25_000,
      memoryMb: 1024,
    }),
  ]
  const s = summarize(records, {
    requestedRps: 5,
    durationS: 1,
    measuredS: 0.8,
    dropped: 2,
    interrupted: false,
    architecture: 'arm64',
  })
  assert.is(s.count, 4)
  assert.is(s.errors, 1)
  assert.is(s.dropped, 2)
  assert.is(s.achievedRps, 5) // 4 calls / 0.8 s
  assert.equal(s.latencyUs, {
    count: 4,
    min: 10_000,
    mean: 90_000,
    p50: 20_000,
    p90: 300_000,
    p95: 300_000,
    p99: 300_000,
    max: 300_000,
  })
  assert.is(s.durationUs?.mean, 33_750)
  assert.is(s.cold.count, 1)
  assert.is(s.warm.count, 3)
  assert.is(s.cold.initDurationUs?.p50, 200_000)
  assert.is(s.warm.latencyUs?.p50, 20_000)
  assert.equal(s.memoryMb, [1024])
  assert.equal(s.byFunction.g, {
    count: 1,
    errors: 0,
    cold: 0,
    latencyUs: {count: 1, min: 20_000, mean: 20_000, p50: 20_000, p90: 20_000, p95: 20_000, p99: 20_000, max: 20_000},
  })
  // Billed: 291 + 5 + 15 + 25 = 336 ms at 1 GB = 0.336 GB-s.
  assert.ok(Math.abs(s.cost!.gbSeconds - 0.336) < 1e-12)
  assert.ok(Math.abs(s.cost!.totalUsd - (0.336 * 0.0000133334 + 4 * 0.0000002)) < 1e-15)
  assert.ok(formatSummary(s).some((l) => l.includes('achieved 5.00 rps')))
})

test('cost model: named prices, arm64 cheaper than x86_64, per-million scaling', () => {
  assert.is(PRICE_PER_GB_SECOND_X86_64, 0.0000166667)
  assert.is(PRICE_PER_GB_SECOND_ARM64, 0.0000133334)
  assert.is(PRICE_PER_REQUEST, 0.0000002)
  // 1M calls of 100 ms at 512 MB on x86_64: 50,000 GB-s × 0.0000166667 + $0.20 = $1.033335.
  const x = estimateCost([{billedDurationMs: 100, memoryMb: 512}], 'x86_64')
  assert.ok(Math.abs(x.perMillionUsd - 1.033335) < 1e-9, String(x.perMillionUsd))
  const a = estimateCost([{billedDurationMs: 100, memoryMb: 512}], 'arm64')
  assert.ok(a.totalUsd < x.totalUsd)
  assert.is(estimateCost([], 'arm64').perMillionUsd, 0)
})

test('bench --prices: the cost uses the given prices, and the summary says which', () => {
  const prices = parsePrices('arm64=0.00001,request=0.000001')
  const calls = [{billedDurationMs: 1000, memoryMb: 1024}]
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-12
  assert.ok(near(estimateCost(calls, 'arm64', prices).totalUsd, 0.000011), 'the given arm64 and request prices')
  assert.ok(near(estimateCost(calls, 'x86_64', prices).totalUsd, 0.0000176667), 'x86_64 left out: the default')
  const record = rec(0, {billedDurationUs: 1_000_000, memoryMb: 1024})
  const facts = {requestedRps: 1, durationS: 1, measuredS: 1, dropped: 0, interrupted: false}
  const given = summarize([record], {...facts, architecture: 'arm64', prices})
  assert.ok(near(given.cost!.totalUsd, 0.000011))
  assert.match(given.cost!.pricesAsOf, /given by --prices/)
  assert.ok(formatSummary(given).some((l) => l.startsWith('cost:') && l.includes('given by --prices')))
  const listed = summarize([record], {...facts, architecture: 'arm64'})
  assert.is(listed.cost?.pricesAsOf, DEFAULT_PRICES.asOf)
  assert.not.ok(
    formatSummary(listed).some((l) => l.includes('us-east-1')),
    'the defaults are not named each time',
  )
})

test.run()
