import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {checkApi, matchRoute, type ApiRoute} from '../../src/core/api-routes.js'
import {UserError} from '../../src/core/errors.js'
import {parseManifest} from '../../src/core/manifest.js'
import {routeEvent, routeResponse} from '../../src/local/api-event.js'

const throwsUser = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return
  }
  assert.unreachable('expected a UserError')
}

const r = (routeKey: string, fn = 'f', payloadFormat: ApiRoute['payloadFormat'] = '2.0'): ApiRoute => ({
  routeKey,
  function: fn,
  payloadFormat,
})

test('matching: literal before {var} before {proxy+}, a method before ANY, then $default, else nothing', () => {
  const routes = checkApi(
    {
      stage: 'dev',
      routes: [
        r('GET /pets/dog/1'),
        r('GET /pets/dog/{id}'),
        r('GET /pets/{proxy+}'),
        r('ANY /{proxy+}'),
        r('POST /pets'),
        r('ANY /pets'),
        r('$default'),
      ],
    },
    ['f'],
    'test',
  )
  const key = (method: string, path: string) => matchRoute(routes, method, path)?.route.routeKey
  assert.is(key('GET', '/pets/dog/1'), 'GET /pets/dog/1')
  assert.is(key('GET', '/pets/dog/2'), 'GET /pets/dog/{id}')
  assert.equal(matchRoute(routes, 'GET', '/pets/dog/2')?.pathParameters, {id: '2'})
  assert.is(key('GET', '/pets/cat/1'), 'GET /pets/{proxy+}')
  assert.equal(matchRoute(routes, 'GET', '/pets/cat/1')?.pathParameters, {proxy: 'cat/1'})
  assert.is(key('DELETE', '/pets/dog/1'), 'ANY /{proxy+}')
  assert.is(key('POST', '/pets'), 'POST /pets')
  assert.is(key('PUT', '/pets'), 'ANY /pets')
  assert.is(key('GET', '/'), '$default', 'a greedy variable needs at least one segment')
  const noDefault = checkApi({stage: '$default', routes: [r('GET /a/{b}')]}, ['f'], 'test')
  assert.is(matchRoute(noDefault, 'GET', '/a'), undefined)
  assert.is(matchRoute(noDefault, 'POST', '/a/b'), undefined)
  assert.is(matchRoute(noDefault, 'GET', '/a/b/c'), undefined)
})

test('bad routes: each a one-paragraph error with the fix', () => {
  const check =
    (routes: ApiRoute[], stage = 'dev') =>
    () =>
      checkApi({stage, routes}, ['f', 'g'], 'benchmark.json')
  throwsUser(check([r('FETCH /x')]), /route "FETCH \/x" is not a route key\. Write `\$default` or `METHOD \/path`/)
  throwsUser(check([r('GET x')]), /is not a route key/)
  throwsUser(check([r('GET /a/{p+}/b')]), /greedy \{p\+\} before its last segment/)
  throwsUser(check([r('GET /a/{id}/{id}')]), /names \{id\} twice/)
  throwsUser(check([r('GET /a/b{c}')]), /path segment "b\{c\}", which is not one/)
  throwsUser(
    check([r('GET /items/{id}'), r('GET /items/{name}')]),
    /"GET \/items\/\{id\}" and "GET \/items\/\{name\}" match the same requests\. Keep one of them/,
  )
  throwsUser(
    check([r('GET /x', 'nope')]),
    /names the function "nope", which is not one of its functions\. Name one of: f, g/,
  )
  throwsUser(check([r('GET /x', 'f', '3.0' as '2.0')]), /payload format "3\.0"\. Use "1\.0"/)
  throwsUser(check([r('GET /x')], 'de v'), /stage "de v" is not a stage name/)
  throwsUser(check([]), /the API has no routes/)
})

test('the manifest declares routes: a function name or {function, payloadFormat}; defaults $default and 2.0', () => {
  const m = parseManifest(
    {
      name: 'hotel',
      functions: {stateflow: {}, reader: {}},
      api: {
        stage: 'dev',
        routes: {'POST /stateflow': {function: 'stateflow', payloadFormat: '1.0'}, 'GET /i': 'reader'},
      },
    },
    '/tmp/hotel',
  )
  assert.equal(m.api, {
    stage: 'dev',
    routes: [
      {routeKey: 'POST /stateflow', function: 'stateflow', payloadFormat: '1.0'},
      {routeKey: 'GET /i', function: 'reader', payloadFormat: '2.0'},
    ],
  })
  const plain = parseManifest({name: 'bb', functions: {f: {}}, api: {routes: {$default: 'f'}}}, '/tmp/b')
  assert.equal(plain.api?.stage, '$default')
  throwsUser(() => parseManifest({name: 'bb', functions: {f: {}}, api: {routes: []}}, '/tmp/b'), /"api" must be/)
  throwsUser(
    () => parseManifest({name: 'bb', functions: {f: {}}, api: {routes: {'GET /': 'g'}}}, '/tmp/b'),
    /\/tmp\/b\/benchmark\.json: route "GET \/" names the function "g"/,
  )
})

test('1.0 events: a stage is not in path but is in requestContext.path; a binary body is base64', () => {
  const [route] = checkApi({stage: 'dev', routes: [r('PUT /f/{id}', 'f', '1.0')]}, ['f'], 't')
  const event = routeEvent(
    {
      method: 'PUT',
      target: '/dev/f/a%20b?k=1',
      httpVersion: '1.1',
      rawHeaders: ['Content-Type', 'application/octet-stream', 'X-A', '1', 'x-a', '2'],
      body: Buffer.from([0, 255]),
      sourceIp: '127.0.0.1',
    },
    {route: route!, pathParameters: {id: 'a b'}},
    {apiId: 'abcdefghij', region: 'us-east-1', accountId: '000000000000', stage: 'dev', requestId: 'r', now: 0},
  ) as Record<string, any>
  assert.equal([event.resource, event.path, event.requestContext.path], ['/f/{id}', '/f/a b', '/dev/f/a b'])
  assert.equal([event.headers['x-a'], event.multiValueHeaders['x-a']], ['2', ['1', '2']])
  assert.equal(event.pathParameters, {id: 'a b'})
  assert.equal([event.body, event.isBase64Encoded], ['AP8=', true])
})

test('1.0 responses need statusCode; 2.0 takes any value; function errors are 500', () => {
  const out = (format: '1.0' | '2.0', value: unknown, error = false) =>
    routeResponse(format, Buffer.from(JSON.stringify(value)), error)
  assert.is(out('1.0', {hello: 1}).status, 500)
  assert.is(out('1.0', {statusCode: 204}).status, 204)
  assert.equal(out('1.0', {statusCode: 200, body: 'aGk=', isBase64Encoded: true}).body.toString(), 'hi')
  assert.is(out('1.0', {statusCode: 200, body: 5}).status, 500)
  assert.is(out('2.0', [1, 2]).status, 200)
  assert.equal(JSON.parse(out('2.0', {statusCode: 200}, true).body.toString()), {message: 'Internal Server Error'})
})

test.run()
