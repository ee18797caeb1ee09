import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {fromOutcome} from '../../src/bench/records.js'
import {formatInitBreakdown, parseInitBreakdown} from '../../src/core/init-breakdown.js'
import {initBreakdownTable} from '../../src/experiments/report.js'

const b = {imageMs: 1.5, createMs: 35.25, startMs: 120, initMs: 230.75}

test('the platform line round-trips in both log formats', () => {
  assert.is(
    formatInitBreakdown(b),
    'FAAS_INIT_BREAKDOWN Image: 1.50 ms\tCreate: 35.25 ms\tStart: 120.00 ms\tInit Duration: 230.75 ms',
  )
  assert.equal(parseInitBreakdown(`START RequestId: x\n${formatInitBreakdown(b)}\nEND RequestId: x\n`), b)
  assert.equal(parseInitBreakdown(`{"type":"platform.start"}\n${formatInitBreakdown(b, true)}\n`), b)
  assert.is(parseInitBreakdown('START RequestId: x\nREPORT RequestId: x\tDuration: 1.00 ms'), undefined)
  assert.is(parseInitBreakdown(undefined), undefined)
  assert.is(parseInitBreakdown('FAAS_INIT_BREAKDOWN Image: 1.00 ms'), undefined, 'a truncated line is ignored')
})

test('a cold record carries the breakdown in µs; a warm one none', () => {
  const base = {seq: 0, phase: 'measure' as const, function: 'f', scheduledUs: 0, latenessUs: 0, requestBytes: 2}
  const outcome = {
    name: 'f',
    statusCode: 200,
    payload: '{}',
    startedAtUs: 1000,
    clientLatencyUs: 400_000,
    report: {
      requestId: 'r',
      durationMs: 5,
      billedDurationMs: 236,
      memorySizeMb: 512,
      maxMemoryUsedMb: 40,
      initDurationMs: 230.75,
    },
  }
  const cold = fromOutcome(base, {...outcome, log: `START RequestId: r\n${formatInitBreakdown(b)}\nEND RequestId: r\n`})
  assert.equal(cold.initBreakdown, {imageUs: 1500, createUs: 35250, startUs: 120000, initUs: 230750})
  assert.is(fromOutcome(base, {...outcome, log: 'START RequestId: r\n'}).initBreakdown, undefined)
})

test("the report table: medians per variant, and what maps to Lambda's figures", () => {
  const rec = (imageUs: number, initUs: number) => ({
    seq: 0,
    phase: 'measure' as const,
    function: 'f',
    scheduledUs: 0,
    latenessUs: 0,
    startUs: 0,
    endUs: 0,
    clientLatencyUs: 500_000,
    providerDurationUs: 4000,
    cold: true,
    requestBytes: 2,
    initBreakdown: {imageUs, createUs: 30_000, startUs: 100_000, initUs},
  })
  const html = initBreakdownTable(
    ['slim', 'none'],
    new Map([
      ['slim', [rec(1000, 200_000), rec(3000, 300_000), rec(2000, 250_000)]],
      ['none', []],
    ]),
  )
  assert.match(
    html,
    /<tr><th>slim \(3\)<\/th><td>2\.0<\/td><td>30\.0<\/td><td>100\.0<\/td><td>250\.0<\/td><td>4\.0<\/td><td>500\.0<\/td><\/tr>/,
  )
  assert.not.match(html, /none \(/)
  assert.match(html, /Init Duration<\/b> is Lambda's/)
  assert.is(initBreakdownTable(['a'], new Map([['a', []]])), '')
})

test.run()
