import {test} from 'uvu'
import * as assert from 'uvu/assert'

import type {InvocationRecord} from '../../src/bench/records.js'
import {rng} from '../../src/core/random.js'
import {compareVariants, metricValues} from '../../src/experiments/compare.js'

const rec = (o: Partial<InvocationRecord>): InvocationRecord => ({
  seq: 0,
  phase: 'measure',
  function: 'f',
  scheduledUs: 0,
  latenessUs: 0,
  startUs: 0,
  endUs: 0,
  clientLatencyUs: 0,
  cold: false,
  requestBytes: 2,
  ...o,
})

test('metric values: measured calls without errors; init where there was one; cold 0/100; cost per 1M', () => {
  const records = [
    rec({phase: 'warmup', clientLatencyUs: 9_000, providerDurationUs: 8_000}),
    rec({
      clientLatencyUs: 12_000,
      providerDurationUs: 10_000,
      billedDurationUs: 10_000,
      memoryMb: 1024,
      cold: true,
      initDurationUs: 250_000,
    }),
    rec({clientLatencyUs: 3_000, providerDurationUs: 2_000, billedDurationUs: 2_000, memoryMb: 1024}),
    rec({clientLatencyUs: 99_000, error: 'Unhandled'}),
  ]
  assert.equal(metricValues(records, 'latency', 'x86_64'), [12, 3])
  assert.equal(metricValues(records, 'duration', 'x86_64'), [10, 2])
  assert.equal(metricValues(records, 'init', 'x86_64'), [250])
  assert.equal(metricValues(records, 'cold', 'x86_64'), [100, 0])
  // 10 ms at 1 GB on x86_64: 0.01 GB-s × $0.0000166667 + $0.0000002 per call, per million calls.
  const [cost] = metricValues(records, 'cost', 'x86_64')
  assert.ok(Math.abs(cost! - (0.01 * 0.0000166667 + 0.0000002) * 1e6) < 1e-9)
})

/** n values around `centre` with seeded noise (uniform ±spread). */
const sample = (seed: number, n: number, centre: number, spread: number) => {
  const r = rng(seed)
  return Array.from({length: n}, () => centre + (r() * 2 - 1) * spread)
}

test('a known 20 ms shift: the verdict names the faster variant, the interval excludes zero', () => {
  const c = compareVariants(
    {name: 'short', values: sample(1, 40, 10, 3)},
    {name: 'long', values: sample(2, 40, 30, 3)},
    {name: 'duration', statistic: 'median'},
    {seed: 1},
  )
  assert.ok(!('missing' in c))
  if ('missing' in c) return
  assert.is(c.verdict.winner, 'a')
  assert.ok(c.difference.lo > 15 && c.difference.hi < 25, JSON.stringify(c.difference))
  assert.match(c.verdict.text, /^short is faster than long by 2\d\.\d\d ms \[/)
})

test('identical variants (same process, different noise; seeded): no difference detected', () => {
  const c = compareVariants(
    {name: 'a', values: sample(3, 40, 10, 3)},
    {name: 'b', values: sample(4, 40, 10, 3)},
    {name: 'duration', statistic: 'median'},
    {seed: 1},
  )
  if ('missing' in c) throw new Error(c.missing)
  assert.is(c.verdict.winner, 'none', c.verdict.text)
  assert.ok(c.difference.lo < 0 && c.difference.hi > 0)
  assert.match(c.verdict.text, /^no difference detected between a and b \(b - a: /)
})

test('a metric without values on one side is reported, not compared', () => {
  const c = compareVariants(
    {name: 'a', values: [1]},
    {name: 'b', values: []},
    {name: 'init', statistic: 'median'},
    {seed: 1},
  )
  assert.equal(c, {metric: 'init:median', a: 'a', b: 'b', missing: 'no Init Duration values for b'})
})

test('other statistics and wording: p99, and the cold share', () => {
  const c = compareVariants(
    {name: 'none', values: [100, 100, 100]},
    {name: 'pinged', values: [0, 0, 0]},
    {name: 'cold', statistic: 'mean'},
    {seed: 1},
  )
  if ('missing' in c) throw new Error(c.missing)
  assert.is(c.verdict.text, 'pinged is less often cold than none by 100.0 points [100.0 points, 100.0 points]')
  const p = compareVariants(
    {name: 'a', values: [1, 2, 3, 100]},
    {name: 'b', values: [1, 2, 3, 4]},
    {name: 'latency', statistic: 'p99'},
    {seed: 1},
  )
  if ('missing' in p) throw new Error(p.missing)
  assert.is(p.statisticA, 100)
  assert.is(p.statisticB, 4)
  assert.match(p.verdict.text, /at the p99|no difference detected/)
})

test.run()
