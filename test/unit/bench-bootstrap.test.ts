import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {bootstrapDifference, mean, median, verdict} from '../../src/bench/bootstrap.js'

test('median and mean of small samples', () => {
  assert.is(median([3, 1, 2]), 2)
  assert.is(median([4, 1, 3, 2]), 2.5)
  assert.is(median([7]), 7)
  assert.ok(Number.isNaN(median([])))
  assert.is(mean([1, 2, 6]), 3)
})

test('constant samples: the interval collapses onto the difference', () => {
  assert.equal(bootstrapDifference([10, 10, 10], [13, 13]), {estimate: 3, lo: 3, hi: 3})
})

test('one iteration follows the documented resampling order (a then b, floor(r * n)) of rng(1)', () => {
  // rng(1) starts 0.627, 0.0027, 0.527 | 0.981, 0.968, 0.281: a picks indices 1,0,1 -> [2,1,2] (median 2),
  // b picks 2,2,0 -> [40,40,10] (median 40): the one resampled difference is 38; the estimate is 20 - 2.
  assert.equal(bootstrapDifference([1, 2, 3], [10, 20, 40], {iterations: 1}), {estimate: 18, lo: 38, hi: 38})
})

test('interval ends are the 2.5% and 97.5% points of the resampled differences', () => {
  // b = [0, 10] resampled: mean 0, 5 or 10 with probability 1/4, 1/2, 1/4; a = [0] always 0. Index 50 of
  // 2000 sorted differences lies in the quarter at 0, index 1949 in the quarter at 10.
  assert.equal(bootstrapDifference([0], [0, 10], {statistic: mean}), {estimate: 5, lo: 0, hi: 10})
  // At 40% confidence the ends are indices 600 and 1399, inside the half at 5.
  assert.equal(bootstrapDifference([0], [0, 10], {statistic: mean, confidence: 0.4}), {estimate: 5, lo: 5, hi: 5})
})

test('seeded: the same seed gives the same interval; the seed is what varies it', () => {
  const a = [5, 9, 1, 7, 3, 8, 2, 6]
  const b = [6, 2, 9, 4, 11, 3, 7, 5]
  const one = bootstrapDifference(a, b, {seed: 42})
  assert.equal(bootstrapDifference(a, b, {seed: 42}), one)
  const seeds = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(bootstrapDifference(a, b, {seed})))
  assert.ok(new Set(seeds).size > 1)
  assert.is(one.estimate, median(b) - median(a))
  assert.ok(one.lo <= one.estimate && one.estimate <= one.hi)
})

test('bad arguments are programming errors', () => {
  assert.throws(() => bootstrapDifference([], [1]), /at least one value/)
  assert.throws(() => bootstrapDifference([1], [1], {iterations: 0}), /iterations/)
  assert.throws(() => bootstrapDifference([1], [1], {confidence: 1}), /confidence/)
})

const ms = (v: number) => `${v.toFixed(1)} ms`

test('verdict: B lower (faster) when the whole interval is below zero', () => {
  const v = verdict({estimate: -12, lo: -15, hi: -9}, {a: 'slim', b: 'fat', format: ms})
  assert.equal({winner: v.winner, by: v.by, lo: v.lo, hi: v.hi}, {winner: 'b', by: 12, lo: 9, hi: 15})
  assert.is(v.text, 'fat is faster than slim by 12.0 ms [9.0 ms, 15.0 ms]')
})

test('verdict: A faster when the whole interval is above zero; other words for other metrics', () => {
  const v = verdict({estimate: 2, lo: 1, hi: 3}, {a: 'A', b: 'B', better: 'cheaper', format: (x) => `$${x}`})
  assert.is(v.winner, 'a')
  assert.is(v.text, 'A is cheaper than B by $2 [$1, $3]')
})

test('verdict: higher is better', () => {
  assert.is(
    verdict({estimate: 5, lo: 1, hi: 9}, {a: 'A', b: 'B', better: 'higher', higherIsBetter: true}).text,
    'B is higher than A by 5 [1, 9]',
  )
  assert.is(verdict({estimate: -5, lo: -9, hi: -1}, {a: 'A', b: 'B', higherIsBetter: true}).winner, 'a')
})

test('verdict: an interval that includes zero is "no difference detected", with the signed figures', () => {
  const v = verdict({estimate: -0.5, lo: -2, hi: 1}, {a: 'A', b: 'B', format: ms})
  assert.is(v.winner, 'none')
  assert.is(v.text, 'no difference detected between A and B (B - A: -0.5 ms [-2.0 ms, 1.0 ms])')
  assert.is(verdict({estimate: 0, lo: 0, hi: 0}, {a: 'A', b: 'B'}).winner, 'none')
})

test('end to end: a 10-unit shift is detected, identical samples are not', () => {
  const base = [101, 99, 103, 97, 100, 102, 98, 104, 96, 100, 101, 99]
  const shifted = base.map((x) => x - 10)
  const d = bootstrapDifference(base, shifted)
  assert.is(d.estimate, -10)
  assert.ok(d.hi < 0)
  assert.is(verdict(d, {a: 'A', b: 'B'}).winner, 'b')
  assert.is(verdict(bootstrapDifference(base, [...base].reverse()), {a: 'A', b: 'B'}).winner, 'none')
})

test.run()
