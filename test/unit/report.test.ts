import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {formatReport, formatReportJson, formatStartJson, parseReport} from '../../src/core/report.js'

test('parses a cold-start REPORT line from a log tail', () => {
  const log =
    'START RequestId: abc Version: $LATEST\nhello\nEND RequestId: abc\nREPORT RequestId: abc\tDuration: 469.40 ' +
    'ms\tBilled Duration: 500 ms\tMemory Size: 1024 MB\tMax Memory Used: 21 MB\tInit Duration: 100.99 ms\t\n'
  assert.equal(parseReport(log), {
    requestId: 'abc',
    durationMs: 469.4,
    billedDurationMs: 500,
    memorySizeMb: 1024,
    maxMemoryUsedMb: 21,
    initDurationMs: 100.99,
  })
})

test('a warm REPORT line has no init duration; a log without one gives undefined', () => {
  const warm = parseReport(
    'REPORT RequestId: x\tDuration: 2.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB',
  )
  assert.is(warm?.initDurationMs, undefined)
  assert.is(warm?.billedDurationMs, 3)
  assert.is(parseReport('no report here'), undefined)
})

test('formatReport round-trips through parseReport', () => {
  const line = formatReport('r1', {
    durationMs: 12.345,
    billedDurationMs: 12.3,
    memorySizeMb: 512,
    maxMemoryUsedMb: 33.4,
    initDurationMs: 250,
  })
  assert.equal(parseReport(line), {
    requestId: 'r1',
    durationMs: 12.35,
    billedDurationMs: 13,
    memorySizeMb: 512,
    maxMemoryUsedMb: 33,
    initDurationMs: 250,
  })
})

test("reads Lambda's JSON log format: the last platform.report record of a tail", () => {
  // As Lambda writes them with LoggingConfig LogFormat JSON (CloudWatch / LogResult).
  const log = [
    '{"time":"2026-11-27T02:00:00.000Z","type":"platform.initStart","record":{"initializationType":"on-demand",' +
      '"phase":"init","runtimeVersion":"python:3.11.v40","runtimeVersionArn":"arn:aws:lambda:us-east-1::runtime:abc"' +
      ',"functionName":"f","functionVersion":"$LATEST"}}',
    '{"time":"2026-11-27T02:00:00.100Z","type":"platform.start","record":{"requestId":"' +
      '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","version":"$LATEST"}}',
    '{"timestamp":"2026-11-27T02:00:00Z","level":"INFO","message":"hello","logger":"root",' +
      '"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"}',
    '{"time":"2026-11-27T02:00:00.200Z","type":"platform.report","record":{"requestId":"' +
      '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":2.8,"billedDurationMs":3,"memorySizeMB":128,' +
      '"maxMemoryUsedMB":42,"initDurationMs":118.93},"status":"success"}}',
    '',
  ].join('\n')
  assert.equal(parseReport(log), {
    requestId: '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa',
    durationMs: 2.8,
    billedDurationMs: 3,
    memorySizeMb: 128,
    maxMemoryUsedMb: 42,
    initDurationMs: 118.93,
  })
  const warm = parseReport(
    '{"time":"2026-11-27T02:00:01.000Z","type":"platform.report","record":{"requestId":"r2",' +
      '"metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":128,"maxMemoryUsedMB":42},"status":"success"}}',
  )
  assert.is(warm?.initDurationMs, undefined)
  assert.is(warm?.durationMs, 1.5)
  // A function's own JSON line that only mentions the words is not a report.
  assert.is(parseReport('{"message":"type platform.report","level":"INFO"}'), undefined)
  assert.is(parseReport('{"type":"platform.report", broken'), undefined)
})

test('the JSON format round-trips, with status, error type and the emulated mark', () => {
  const figures = {
    durationMs: 12.345,
    billedDurationMs: 12.3,
    memorySizeMb: 512,
    maxMemoryUsedMb: 33.4,
    initDurationMs: 250.456,
  }
  const record = JSON.parse(formatReportJson('r1', {...figures, status: 'timeout', errorType: 'Sandbox.Timedout'}))
  assert.is(record.type, 'platform.report')
  assert.equal(record.record, {
    requestId: 'r1',
    metrics: {durationMs: 12.35, billedDurationMs: 13, memorySizeMB: 512, maxMemoryUsedMB: 33, initDurationMs: 250.46},
    status: 'timeout',
    errorType: 'Sandbox.Timedout',
  })
  assert.equal(parseReport(formatReportJson('r1', figures)), {
    requestId: 'r1',
    durationMs: 12.35,
    billedDurationMs: 13,
    memorySizeMb: 512,
    maxMemoryUsedMb: 33,
    initDurationMs: 250.46,
  })
  assert.is(
    parseReport(formatReportJson('r1', {...figures, emulated: {image: 'arm64', host: 'amd64'}}))?.emulated,
    true,
  )
  assert.equal(JSON.parse(formatStartJson('r1')).record, {requestId: 'r1', version: '$LATEST'})
})

test('a Text REPORT from an emulated environment says so, and parses as emulated; a native one does not', () => {
  const line = formatReport('r1', {
    durationMs: 1,
    billedDurationMs: 1,
    memorySizeMb: 512,
    maxMemoryUsedMb: 30,
    emulated: {image: 'arm64', host: 'amd64'},
  })
  assert.match(line, /\tEmulated: arm64 on amd64\t/)
  assert.is(parseReport(line)?.emulated, true)
  assert.is(
    parseReport(formatReport('r1', {durationMs: 1, billedDurationMs: 1, memorySizeMb: 512, maxMemoryUsedMb: 30}))
      ?.emulated,
    undefined,
  )
  assert.match(
    formatReport('r1', {
      durationMs: 1,
      billedDurationMs: 1,
      memorySizeMb: 512,
      maxMemoryUsedMb: 30,
      status: 'error',
      errorType: 'Runtime.ExitError',
    }),
    /Status: error\tError Type: Runtime.ExitError\t$/,
  )
})

test.run()
