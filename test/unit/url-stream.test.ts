import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {preludeHead} from '../../src/local/url-stream.js'

const head = (prelude: unknown) =>
  preludeHead(Buffer.from(typeof prelude === 'string' ? prelude : JSON.stringify(prelude)))

test('a prelude gives the status, lowercased headers and cookies', () => {
  assert.equal(head({statusCode: 201, headers: {'Content-Type': 'text/plain'}, cookies: ['a=1']}), {
    status: 201,
    headers: {'content-type': 'text/plain'},
    cookies: ['a=1'],
    body: Buffer.alloc(0),
  })
  assert.is(head({})?.status, 200)
  assert.is(head('')?.status, 200)
})

test('a prelude that is not a JSON object of that shape is refused', () => {
  for (const bad of ['{', '[1]', {statusCode: 'ok'}, {statusCode: 99}, {statusCode: 200.5}, {headers: ['x']}])
    assert.is(head(bad), undefined, JSON.stringify(bad))
})

test.run()
