import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {checkTuneRequest, choose, trimmed, type TuneRequest} from '../../src/tune/tune.js'

const request: TuneRequest = {
  functionName: 'f',
  powerValues: [128, 256],
  num: 5,
  payload: '{}',
  strategy: 'cost',
  balancedWeight: 0.5,
  parallel: false,
  discardTopBottom: 0.2,
  autoOptimize: false,
  alias: 'live',
}

test('Power Tuning choices: cheapest, fastest, and the balanced formula with its weight', () => {
  const stats = [
    {memoryMb: 128, cost: 1, duration: 100},
    {memoryMb: 1024, cost: 3, duration: 20},
    {memoryMb: 512, cost: 1.6, duration: 45},
  ]
  assert.is(choose(stats, 'cost', 0.5)[0]!.memoryMb, 128)
  assert.is(choose(stats, 'speed', 0.5)[0]!.memoryMb, 1024)
  // weight·cost/maxCost + (1 − weight)·duration/maxDuration: 128 → .667, 1024 → .6, 512 → .492
  assert.is(choose(stats, 'balanced', 0.5)[0]!.memoryMb, 512)
  assert.is(choose(stats, 'balanced', 1)[0]!.memoryMb, 128, 'weight 1 is cost only')
  assert.is(choose(stats, 'balanced', 0)[0]!.memoryMb, 1024, 'weight 0 is speed only')
})

test('the slowest and fastest share are left out', () => {
  const calls = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10].map((durationMs) => ({durationMs}))
  assert.equal(
    trimmed(calls, 0.2).map((c) => c.durationMs),
    [3, 4, 5, 6, 7, 8],
  )
  assert.is(trimmed(calls, 0).length, 10)
})

test('bad input: power values, --num below 5, a strategy typo, weights, payload', () => {
  const refused = (change: Partial<TuneRequest>) => {
    try {
      checkTuneRequest({...request, ...change})
      return undefined
    } catch (error) {
      return (error as Error).message
    }
  }
  assert.is(refused({}), undefined)
  assert.match(refused({powerValues: [128, 20_000]})!, /20000 is outside/)
  assert.match(refused({powerValues: [128, 128]})!, /given twice/)
  assert.match(refused({num: 4})!, /below 5/)
  assert.match(refused({strategy: 'fast' as never})!, /Unknown strategy "fast"/)
  assert.match(refused({balancedWeight: -0.1})!, /outside 0–1/)
  assert.match(refused({discardTopBottom: 0.5})!, /outside 0–0.4/)
  assert.match(refused({payload: '{'})!, /not JSON/)
})

test.run()
