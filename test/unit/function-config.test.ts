import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {
  checkEnv,
  checkMemory,
  checkReservedConcurrency,
  checkTimeout,
  parseEnvMap,
  parsePayload,
} from '../../src/core/function-config.js'

function throwsUser(fn: () => unknown, pattern: RegExp, code?: string): void {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    if (code) assert.is((error as UserError).code, code)
    return
  }
  throw new Error('expected a UserError')
}

test('--envmap takes a JSON object of strings', () => {
  assert.equal(parseEnvMap('{"KEY1":"VAL1","KEY2":"VAL2"}'), {KEY1: 'VAL1', KEY2: 'VAL2'})
  assert.equal(parseEnvMap('{}'), {})
})

test('--envmap with invalid JSON says so and shows the quoting', () => {
  throwsUser(
    () => parseEnvMap("{'K':'V'}"),
    /--envmap is not valid JSON: .*Quote it for the shell, e\.g\. --envmap '\{"KEY1"/,
    'BAD_JSON',
  )
  throwsUser(() => parseEnvMap('["K"]'), /must be a JSON object/, 'BAD_ENV')
  throwsUser(() => parseEnvMap('null'), /must be a JSON object/, 'BAD_ENV')
})

test('non-string env values are named', () => {
  throwsUser(() => parseEnvMap('{"N":4,"OK":"x","B":true}'), /the values of N, B must be strings/, 'BAD_ENV')
})

test('reserved Lambda keys and malformed names are refused', () => {
  throwsUser(() => parseEnvMap('{"AWS_REGION":"us-east-1"}'), /AWS_REGION is reserved by Lambda/, 'RESERVED_ENV')
  throwsUser(
    () => checkEnv({AWS_ACCESS_KEY_ID: 'x', _HANDLER: 'y'}),
    /AWS_ACCESS_KEY_ID, _HANDLER are reserved/,
    'RESERVED_ENV',
  )
  throwsUser(() => checkEnv({'1BAD': 'x'}), /Invalid environment variable name: 1BAD/, 'BAD_ENV')
})

test('an environment over 4 KB is refused; exactly at the limit is fine', () => {
  // {"K":"…"} is 8 bytes of JSON around the value.
  assert.ok(checkEnv({K: 'x'.repeat(4096 - 8)}))
  throwsUser(() => checkEnv({K: 'x'.repeat(4096 - 7)}), /4097 bytes; Lambda allows at most 4096/, 'ENV_TOO_LARGE')
})

test('memory 128–10240 MB and timeout 1–900 s', () => {
  assert.is(checkMemory(128), 128)
  assert.is(checkMemory(10240), 10240)
  throwsUser(() => checkMemory(127), /Memory 127 MB .*--memory a whole number from 128 to 10240/, 'OUT_OF_RANGE')
  throwsUser(() => checkMemory(10241), /Memory 10241 MB/)
  assert.is(checkTimeout(1), 1)
  assert.is(checkTimeout(900), 900)
  throwsUser(() => checkTimeout(0), /--timeout a whole number from 1 to 900/)
  throwsUser(() => checkTimeout(901), /Timeout 901 s/)
  assert.is(checkReservedConcurrency(undefined), undefined)
  throwsUser(() => checkReservedConcurrency(-1), /Reserved concurrency -1/)
})

test('--payload takes any JSON and is passed on compact', () => {
  assert.is(parsePayload('{ "K1" : "V1" }'), '{"K1":"V1"}')
  assert.is(parsePayload('[1, 2]'), '[1,2]')
  throwsUser(() => parsePayload('{K1: V1}'), /--payload is not valid JSON/, 'BAD_JSON')
})

test.run()
