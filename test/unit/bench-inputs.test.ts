import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {checkPayload, functionsToDrive, parseEndpoints, parseMemoryList, readEndpoints} from '../../src/bench/inputs.js'
import {UserError} from '../../src/core/errors.js'

const fails = (fn: () => unknown, code: string, ...parts: string[]) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    const e = error as UserError
    assert.is(e.code, code)
    for (const part of parts) assert.ok(e.paragraph.includes(part), `"${e.paragraph}" lacks "${part}"`)
    return
  }
  assert.unreachable('no error')
}

test('the seed endpoints file gives the function names in order', () => {
  const text =
    '[{"hostname": "chameleon", "eventing": false, "matchers": null}, {"hostname": "cnn_serving", "eventing": ' +
    'false, "matchers": null}]'
  assert.equal(parseEndpoints(text), ['chameleon', 'cnn_serving'])
})

test('malformed endpoints files: clear messages naming the file and the format', () => {
  fails(
    () => parseEndpoints('[{"hostname": "a",]', 'e.json'),
    'BAD_ENDPOINTS',
    'e.json',
    'not valid JSON',
    '"hostname"',
  )
  fails(() => parseEndpoints('{"hostname": "a"}', 'e.json'), 'BAD_ENDPOINTS', 'must be a list')
  fails(() => parseEndpoints('[]', 'e.json'), 'BAD_ENDPOINTS', 'empty')
  fails(() => parseEndpoints('[{"host": "a"}]', 'e.json'), 'BAD_ENDPOINTS', 'entry 1 has no "hostname"')
  fails(
    () => parseEndpoints('[{"hostname": "bad name!"}]', 'e.json'),
    'BAD_ENDPOINTS',
    'not a valid Lambda function name',
  )
})

test('a missing endpoints file is a user error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-'))
  try {
    await readEndpoints(join(dir, 'nope.json'))
    assert.unreachable()
  } catch (error) {
    assert.is((error as UserError).code, 'BAD_ENDPOINTS')
    assert.ok((error as UserError).paragraph.includes('--endpoints'))
  }
  await writeFile(join(dir, 'ok.json'), '[{"hostname": "f1"}]')
  assert.equal(await readEndpoints(join(dir, 'ok.json')), ['f1'])
})

test('exactly one of --endpoints and --function_name; names are checked', async () => {
  for (const flags of [{}, {endpoints: 'e.json', function_name: ['f']}]) {
    try {
      await functionsToDrive(flags)
      assert.unreachable()
    } catch (error) {
      assert.is((error as UserError).code, 'NO_FUNCTIONS')
      assert.ok((error as UserError).paragraph.includes('--function_name F (repeatable) or --endpoints'))
    }
  }
  assert.equal(await functionsToDrive({function_name: ['a', 'b']}), ['a', 'b'])
  await functionsToDrive({function_name: ['bad name']}).then(
    () => assert.unreachable(),
    (error) => assert.is(error.code, 'BAD_FUNCTION_NAME'),
  )
})

test('memory values must be whole MB within 128–10240', () => {
  assert.equal(parseMemoryList('128,512, 1024,1769,3008'), [128, 512, 1024, 1769, 3008])
  fails(() => parseMemoryList('64,512'), 'BAD_MEMORY', '"64"', '128', '10240')
  fails(() => parseMemoryList('20000'), 'BAD_MEMORY', '"20000"')
  fails(() => parseMemoryList('512.5'), 'BAD_MEMORY')
  fails(() => parseMemoryList('lots'), 'BAD_MEMORY')
  fails(() => parseMemoryList(','), 'BAD_MEMORY', 'no sizes')
})

test('payload must be JSON', () => {
  fails(() => checkPayload('{oops'), 'BAD_PAYLOAD', 'not valid JSON')
  assert.is(checkPayload('{}'), '{}')
})

test.run()
