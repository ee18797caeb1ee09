import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {checkShareSizes, clockOffset, splitArrivals} from '../../src/bench/workers/plan.js'

test('splitArrivals: round-robin over the workers, each arrival keeping its seq, time, endpoint and phase', () => {
  const schedule = [0, 100, 200, 300, 400].map((atUs) => ({atUs}))
  const shares = splitArrivals(schedule, {workers: 2, functions: ['a', 'b', 'c'], warmupS: 0.0002})
  assert.equal(shares, [
    [
      [0, 0, 'a', 'warmup', null, null],
      [2, 200, 'c', 'measure', null, null],
      [4, 400, 'b', 'measure', null, null],
    ],
    [
      [1, 100, 'b', 'warmup', null, null],
      [3, 300, 'a', 'measure', null, null],
    ],
  ])
})

test('splitArrivals: an arrival’s own endpoint, payload and tag go with it', () => {
  const [share] = splitArrivals([{atUs: 5, fn: 'x', payload: '{"n":1}', tag: {loadPhase: 'ramp'}}], {
    workers: 1,
    functions: ['a'],
    warmupS: 0,
  })
  assert.equal(share, [[0, 5, 'x', 'measure', '{"n":1}', {loadPhase: 'ramp'}]])
})

test('checkShareSizes: a share past Lambda’s 6 MB request is refused, naming the fix', () => {
  const share = (n: number) =>
    splitArrivals(
      Array.from({length: n}, (_, i) => ({atUs: i * 1000})),
      {workers: 1, functions: ['some-function-name'], warmupS: 0},
    )
  checkShareSizes(share(10_000))
  assert.throws(() => checkShareSizes(share(200_000)), /over the 6 MB a Lambda invocation may carry/)
})

test('clockOffset: NTP-style from the sample with the smallest round trip', () => {
  // The worker runs 1,000 µs ahead; the first sample's long trip (asymmetric) would say 4,000.
  const samples = [
    {sendUs: 0, recvUs: 10_000, workerUs: 9_000},
    {sendUs: 20_000, recvUs: 20_400, workerUs: 21_200},
    {sendUs: 30_000, recvUs: 31_000, workerUs: 31_700},
  ]
  assert.equal(clockOffset(samples), {offsetUs: 1_000, rttUs: 400})
})

test.run()
