import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {pickBest} from '../../src/bench/sweep-verdict.js'

const ms = (v: number) => `${v.toFixed(2)} ms`
const options = {what: 'fastest', better: 'faster', format: ms}

test('a clear winner is named, with the interval against the runner-up', () => {
  const pick = pickBest(
    [
      {memoryMb: 128, values: [40, 41, 42, 40, 41, 43, 40, 42]},
      {memoryMb: 512, values: [10, 11, 10, 12, 11, 10, 11, 10]},
      {memoryMb: 1024, values: [20, 21, 20, 22, 21, 20, 21, 22]},
    ],
    options,
  )
  assert.is(pick.memoryMb, 512)
  assert.is(pick.runnerUp, 1024)
  // medians 10.5 and 21: the difference 10.5 ms, every resample well above zero.
  assert.is(pick.difference!.estimate, 10.5)
  assert.ok(pick.difference!.lo > 0)
  assert.match(pick.text, /^fastest: 512 MB \(512 MB is faster than 1024 MB by 10\.50 ms \[/)
})

test('1.62 vs 1.72 ms inside the noise: no size is named', () => {
  const noisy = (shift: number) =>
    [1.2, 2.1, 1.5, 1.9, 1.4, 2.3, 1.1, 1.8, 1.6, 2.0, 1.3, 1.7, 2.2, 1.45, 1.65].map((v) => v + shift)
  const pick = pickBest(
    [
      {memoryMb: 1024, values: noisy(0)},
      {memoryMb: 2048, values: noisy(0.1)},
    ],
    options,
  )
  assert.is(pick.memoryMb, undefined)
  assert.is(pick.lowest, 1024)
  assert.match(pick.text, /^fastest: no difference detected between 1024 MB and 2048 MB/)
})

test('one size, or none with values', () => {
  assert.is(
    pickBest(
      [
        {memoryMb: 256, values: [1]},
        {memoryMb: 512, values: []},
      ],
      options,
    ).memoryMb,
    256,
  )
  assert.equal(pickBest([], options), {text: 'fastest: – (no values)'})
})

test.run()
