import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {formatReport, parseReport} from '../../src/core/report.js'

test('parses a cold-start REPORT line from a log tail', () => {
  const log = 'START RequestId: abc Version: $LATEST\nhello\nEND RequestId: abc\nREPORT RequestId: abc\tDuration: 469.40 ms\tBilled Duration: 500 ms\tMemory Size: 1024 MB\tMax Memory Used: 21 MB\tInit Duration: 100.99 ms\t\n'
  assert.equal(parseReport(log), {requestId: 'abc', durationMs: 469.4, billedDurationMs: 500, memorySizeMb: 1024, maxMemoryUsedMb: 21, initDurationMs: 100.99})
})

test('a warm REPORT line has no init duration; a log without one gives undefined', () => {
  const warm = parseReport('REPORT RequestId: x\tDuration: 2.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB')
  assert.is(warm?.initDurationMs, undefined)
  assert.is(warm?.billedDurationMs, 3)
  assert.is(parseReport('no report here'), undefined)
})

test('formatReport round-trips through parseReport', () => {
  const line = formatReport('r1', {durationMs: 12.345, billedDurationMs: 12.3, memorySizeMb: 512, maxMemoryUsedMb: 33.4, initDurationMs: 250})
  assert.equal(parseReport(line), {requestId: 'r1', durationMs: 12.35, billedDurationMs: 13, memorySizeMb: 512, maxMemoryUsedMb: 33, initDurationMs: 250})
})

test.run()
