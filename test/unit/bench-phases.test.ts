import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parsePhases, parseRamp, phaseArrivals, phasesShape} from '../../src/bench/phases.js'
import {evaluateThresholds, parseThreshold} from '../../src/bench/thresholds.js'
import {isUserError} from '../../src/core/errors.js'
import type {InvocationRecord} from '../../src/core/records.js'

/** Arrivals per whole second of the run. */
const perSecond = (at: number[], seconds: number) => {
  const counts = new Array<number>(seconds).fill(0)
  for (const t of at) counts[Math.floor(t / 1e6)]!++
  return counts
}

test('a flat phase is the fixed schedule; a ramp adds up to the integral of its rate, second by second', () => {
  const flat = [...phaseArrivals([{durationS: 3, rps: 4}], {distribution: 'fixed'})]
  assert.equal(
    perSecond(
      flat.map((a) => a.atUs),
      3,
    ),
    [4, 4, 4],
  )
  assert.is(flat[1]!.atUs, 250_000)
  // 0 → 10 rps over 10 s: N(t) = t²/2, so second s holds the whole numbers in [s²/2, (s+1)²/2).
  const ramp = [...phaseArrivals([parseRamp('0:10', 10)], {distribution: 'fixed'})]
  assert.is(ramp.length, 50)
  assert.equal(
    perSecond(
      ramp.map((a) => a.atUs),
      10,
    ),
    [1, 1, 3, 3, 5, 5, 7, 7, 9, 9],
  )
  // Down: 10 → 0, N(t) = 10t - t²/2: the whole numbers in [N(s), N(s + 1)) again.
  const down = [...phaseArrivals([parseRamp('10:0', 10)], {distribution: 'fixed'})]
  assert.equal(
    perSecond(
      down.map((a) => a.atUs),
      10,
    ),
    [10, 8, 8, 6, 6, 4, 4, 2, 2, 0],
  )
})

test('phases in a row, each call tagged with its phase; warm-up first at the first rate', () => {
  const phases = parsePhases(
    'phases:\n  - {duration: 2, rps: 5, name: steady}\n  - {duration: 2s, rps: 5, rampTo: 15}\n' +
      '  - {duration: 1, rps: 2}\n',
  )
  const arrivals = [...phaseArrivals(phases, {distribution: 'fixed', warmupS: 1})]
  assert.equal(
    perSecond(
      arrivals.map((a) => a.atUs),
      6,
    ),
    [5, 5, 5, 8, 12, 2],
  )
  assert.equal([...new Set(arrivals.map((a) => a.tag!.loadPhase))], ['warmup', 'steady', 'phase 2', 'phase 3'])
  const shape = phasesShape(phases, {distribution: 'fixed', warmupS: 1})
  assert.is(shape.durationS, 5)
  assert.is(shape.requestedRps, (10 + 20 + 2) / 5)
})

test('poisson phases: counts near the integral of the rate, seeded', () => {
  const phases = [{durationS: 20, rps: 100, rampTo: 300}]
  const at = [...phaseArrivals(phases, {distribution: 'poisson', seed: 3})].map((a) => a.atUs)
  assert.ok(Math.abs(at.length - 4000) < 4 * Math.sqrt(4000), `${at.length}`)
  const first = at.filter((t) => t < 10e6).length
  const second = at.length - first
  assert.ok(Math.abs(first - 1500) < 200 && Math.abs(second - 2500) < 200, `${first} ${second}`)
  assert.equal(
    [...phaseArrivals(phases, {distribution: 'poisson', seed: 3})].map((a) => a.atUs),
    at,
  )
})

const refuses = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.ok(isUserError(error), String(error))
    assert.match((error as Error).message, pattern)
    return
  }
  assert.unreachable(`accepted (${pattern})`)
}

test('malformed phases, ramps and thresholds are user errors naming what is wrong', () => {
  refuses(() => parsePhases('[]'), /not a non-empty list/)
  refuses(() => parsePhases('- {duration: -1, rps: 3}'), /phase 1: duration -1/)
  refuses(() => parsePhases('- {duration: 5, rps: fast}'), /rps "fast"/)
  refuses(() => parsePhases('- {duration: 5, rps: 1, ramp: 3}'), /unknown key\(s\) ramp/)
  refuses(() => parsePhases('- {duration: 5, rps: 0}'), /no calls at all/)
  refuses(() => parsePhases('{'), /not valid YAML or JSON/)
  refuses(() => parseRamp('10-20', 60), /--ramp "10-20" is not FROM:TO/)
  refuses(() => parseThreshold('latency:p99<300'), /needs a time unit/)
  refuses(() => parseThreshold('latency:p999<3ms'), /statistic "p999"/)
  refuses(() => parseThreshold('errors<1'), /needs %/)
  refuses(() => parseThreshold('speed<3ms'), /metric "speed"/)
  refuses(() => parseThreshold('latency is low'), /not metric\[:stat\] < value/)
})

const record = (over: Partial<InvocationRecord>): InvocationRecord => ({
  seq: 0,
  phase: 'measure',
  function: 'f',
  startUs: 0,
  endUs: 0,
  clientLatencyUs: 1000,
  cold: false,
  ...over,
})

test('thresholds on the measured window: values, units and pass/fail', () => {
  const records = [
    ...Array.from({length: 98}, (_, i) => record({seq: i, clientLatencyUs: (i + 1) * 1000, providerDurationUs: 500})),
    record({seq: 98, error: 'Unhandled', clientLatencyUs: 1}),
    record({seq: 99, statusCode: 429, error: 'HTTP 429', cold: true}),
    record({seq: 100, phase: 'warmup', clientLatencyUs: 9e9, error: 'x'}),
  ]
  const results = evaluateThresholds(
    ['latency:p99<300ms', 'latency:median<=49ms', 'duration:max<1ms', 'errors<1%', 'cold<5%', 'throttles<=1%'].map(
      parseThreshold,
    ),
    records,
  )
  assert.equal(
    results.map((r) => [r.value, r.unit, r.pass]),
    [
      [98, 'ms', true],
      [49, 'ms', true],
      [0.5, 'ms', true],
      [2, '%', false],
      [1, '%', true],
      [1, '%', true],
    ],
  )
  assert.equal(evaluateThresholds([parseThreshold('latency:p50<1s')], []), [
    {threshold: 'latency:p50<1s', value: null, unit: 'ms', pass: false},
  ])
})

test.run()
