import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {
  CSV_COLUMNS,
  fromOutcome,
  toCsv,
  toJsonl,
  toVhiveLatencies,
  vhiveFileName,
  type InvocationRecord,
} from '../../src/bench/records.js'

const base = {
  seq: 3,
  phase: 'measure' as const,
  function: 'chameleon',
  scheduledUs: 15_000,
  latenessUs: 120,
  requestBytes: 2,
}

test('a cold outcome becomes a record in µs with the REPORT figures', () => {
  const r = fromOutcome(base, {
    name: 'chameleon',
    statusCode: 200,
    requestId: 'req-1',
    payload: '{"ok":true}',
    report: {durationMs: 469.4, billedDurationMs: 500, memorySizeMb: 1024, maxMemoryUsedMb: 21, initDurationMs: 100.99},
    startedAtUs: 1_700_000_000_000_000,
    clientLatencyUs: 612_345.6,
  })
  // As it is written (JSONL): fields without a value are left out.
  assert.equal(JSON.parse(JSON.stringify(r)), {
    ...base,
    requestId: 'req-1',
    startUs: 1_700_000_000_000_000,
    endUs: 1_700_000_000_612_346,
    clientLatencyUs: 612_346,
    statusCode: 200,
    providerDurationUs: 469_400,
    billedDurationUs: 500_000,
    initDurationUs: 100_990,
    cold: true,
    memoryMb: 1024,
    maxMemoryUsedMb: 21,
    responseBytes: 11,
  })
})

test('a warm outcome is not cold; function errors and HTTP errors are errors', () => {
  const warm = fromOutcome(base, {
    name: 'f',
    statusCode: 200,
    payload: '',
    report: {durationMs: 2, billedDurationMs: 3, memorySizeMb: 128},
    startedAtUs: 0,
    clientLatencyUs: 5000,
  })
  assert.is(warm.cold, false)
  assert.is(warm.error, undefined)
  assert.is(
    fromOutcome(base, {
      name: 'f',
      statusCode: 200,
      payload: '{}',
      functionError: 'Unhandled',
      startedAtUs: 0,
      clientLatencyUs: 1,
    }).error,
    'Unhandled',
  )
  assert.is(
    fromOutcome(base, {name: 'f', statusCode: 429, payload: '{}', startedAtUs: 0, clientLatencyUs: 1}).error,
    'HTTP 429',
  )
})

const records: InvocationRecord[] = [
  {...base, seq: 0, phase: 'warmup', startUs: 1, endUs: 11, clientLatencyUs: 10, cold: true},
  {...base, seq: 1, startUs: 2, endUs: 22, clientLatencyUs: 20, cold: false, requestId: 'a'},
  {...base, seq: 2, startUs: 3, endUs: 33, clientLatencyUs: 30, cold: false, error: 'boom, "quoted"\nline'},
  {...base, seq: 3, startUs: 4, endUs: 44, clientLatencyUs: 40, cold: false},
]

test('CSV: header of all columns, empty cells for absent values, RFC 4180 quoting', () => {
  const lines = toCsv(records).split('\n')
  assert.is(lines[0], CSV_COLUMNS.join(','))
  assert.is(lines[2], '1,measure,chameleon,a,15000,120,2,22,20,,,,,false,,,,2,,,')
  assert.ok(toCsv(records).includes('"boom, ""quoted""\nline"'))
})

test('JSONL: one parseable object per line, round-trips', () => {
  const text = toJsonl(records)
  assert.is(text.split('\n').length, 5)
  assert.equal(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    records,
  )
  assert.is(toJsonl([]), '')
})

test('vHive latency file: one µs latency per line, measured successful calls only; its name', () => {
  assert.is(toVhiveLatencies(records), '20\n40\n')
  assert.is(vhiveFileName(199.456), 'rps199.46_lat.csv')
  assert.is(vhiveFileName(200, '180_chameleon_cnn.csv'), 'rps200.00_180_chameleon_cnn.csv')
})

test.run()
