import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {arrivals, roundRobin} from '../../src/bench/schedule.js'
import {rng} from '../../src/core/random.js'

test('fixed interval: rps × time arrivals, evenly spaced from 0, all inside the window', () => {
  const at = [...arrivals({rps: 200, durationS: 3, distribution: 'fixed'})]
  assert.is(at.length, 600)
  assert.is(at[0], 0)
  for (let i = 1; i < at.length; i++) assert.ok(Math.abs(at[i]! - at[i - 1]! - 5000) < 1e-6)
  assert.ok(at.at(-1)! < 3e6)
})

test('fixed interval with a fractional rate and a short window', () => {
  assert.equal(
    [...arrivals({rps: 2.5, durationS: 2, distribution: 'fixed'})],
    [0, 400_000, 800_000, 1_200_000, 1_600_000],
  )
  assert.equal([...arrivals({rps: 1, durationS: 0.5, distribution: 'fixed'})], [0])
})

test('poisson: count near rps × time, exponential gaps (mean 1/rps, CV ≈ 1, memoryless tail)', () => {
  const rps = 1000
  const durationS = 20
  const at = [...arrivals({rps, durationS, distribution: 'poisson', seed: 7})]
  const expected = rps * durationS
  // Poisson count: sd = sqrt(20000) ≈ 141; 4 sd.
  assert.ok(Math.abs(at.length - expected) < 4 * Math.sqrt(expected), `count ${at.length}`)
  const gaps = at.slice(1).map((t, i) => t - at[i]!)
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length)
  assert.ok(Math.abs(mean - 1000) < 30, `mean gap ${mean}`)
  assert.ok(Math.abs(sd / mean - 1) < 0.05, `cv ${sd / mean}`)
  // P(gap > mean) = e^-1 ≈ 0.368 for an exponential; a fixed schedule would give 0.
  const over = gaps.filter((g) => g > 1000).length / gaps.length
  assert.ok(Math.abs(over - Math.exp(-1)) < 0.02, `tail ${over}`)
  // Ascending and inside the window.
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! >= at[i - 1]!)
  assert.ok(at.at(-1)! < durationS * 1e6)
})

test('poisson: the same seed gives the same schedule; another seed another', () => {
  const a = [...arrivals({rps: 50, durationS: 2, distribution: 'poisson', seed: 3})]
  const b = [...arrivals({rps: 50, durationS: 2, distribution: 'poisson', seed: 3})]
  const c = [...arrivals({rps: 50, durationS: 2, distribution: 'poisson', seed: 4})]
  assert.equal(a, b)
  assert.not.equal(a, c)
})

test('rng is uniform on [0, 1)', () => {
  const random = rng(42)
  const buckets = Array.from({length: 10}, () => 0)
  for (let i = 0; i < 100_000; i++) {
    const u = random()
    assert.ok(u >= 0 && u < 1)
    buckets[Math.floor(u * 10)]!++
  }
  for (const b of buckets) assert.ok(Math.abs(b - 10_000) < 400, `bucket ${b}`)
})

test('round-robin over functions', () => {
  assert.equal(
    [0, 1, 2, 3, 4].map((i) => roundRobin(['a', 'b'], i)),
    ['a', 'b', 'a', 'b', 'a'],
  )
})

test.run()
