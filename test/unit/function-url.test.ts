import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {
  allowedOrigin,
  isTextual,
  preflightResponse,
  requestEvent,
  requestTime,
  responseOf,
  withCors,
  type UrlRequest,
} from '../../src/local/function-url.js'

/** A Function URL's mapping both ways, without sockets: function-url.ts. */
const test = suite('function URL mapping')

const request = (over: Partial<UrlRequest> = {}): UrlRequest => ({
  method: 'GET',
  target: '/',
  httpVersion: '1.1',
  rawHeaders: ['Host', '127.0.0.1:9300'],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  ...over,
})
const context = {urlId: 'a'.repeat(32), region: 'us-east-1', requestId: 'rid', now: Date.UTC(2026, 11, 7, 2, 3, 4, 567)}
const text = (b: Buffer) => b.toString('utf8')

test('a GET without body, query or cookies: the fields Lambda always sends, and no others', () => {
  const event = requestEvent(request({rawHeaders: ['Host', 'h:1', 'User-Agent', 'curl/8']}), context)
  assert.equal(event, {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {host: 'h:1', 'user-agent': 'curl/8'},
    requestContext: {
      accountId: 'anonymous',
      apiId: context.urlId,
      domainName: `${context.urlId}.lambda-url.us-east-1.localhost`,
      domainPrefix: context.urlId,
      http: {method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8'},
      requestId: 'rid',
      routeKey: '$default',
      stage: '$default',
      time: '07/Dec/2026:02:03:04 +0000',
      timeEpoch: context.now,
    },
    pathParameters: null,
    isBase64Encoded: false,
    stageVariables: null,
  })
})

test('path, query (repeated keys joined by commas), headers (lowercased, repeated joined), cookies', () => {
  const event = requestEvent(
    request({
      method: 'POST',
      target: '/a%20b/c?x=1&x=2&y=%C3%A9&flag',
      rawHeaders: ['X-Rep', 'one', 'x-rep', 'two', 'Cookie', 'a=1; b=2', 'Content-Type', 'application/json'],
      body: Buffer.from('{"k":1}'),
    }),
    context,
  ) as Record<string, any>
  assert.is(event.rawPath, '/a%20b/c')
  assert.is(event.requestContext.http.path, '/a b/c')
  assert.is(event.rawQueryString, 'x=1&x=2&y=%C3%A9&flag')
  assert.equal(event.queryStringParameters, {x: '1,2', y: 'é', flag: ''})
  assert.equal(event.headers, {'x-rep': 'one,two', 'content-type': 'application/json'})
  assert.equal(event.cookies, ['a=1', 'b=2'])
  assert.equal([event.body, event.isBase64Encoded], ['{"k":1}', false])
})

test('binary and untyped bodies arrive base64-encoded; text types as text', () => {
  const bytes = Buffer.from([0, 255, 1, 2])
  for (const type of ['application/octet-stream', 'image/png', 'application/x-www-form-urlencoded', undefined]) {
    const headers = type ? ['Content-Type', type] : []
    const event = requestEvent(request({rawHeaders: headers, body: bytes}), context)
    assert.equal([event.body, event.isBase64Encoded], [bytes.toString('base64'), true], String(type))
  }
  for (const type of ['text/plain; charset=utf-8', 'application/json', 'application/ld+json', 'application/xml'])
    assert.ok(isTextual(type), type)
})

test('AWS_IAM callers are in requestContext.authorizer.iam with their account', () => {
  const iam = {accessKey: 'AK', accountId: '000000000000', callerId: 'c', userArn: 'arn:u', userId: 'u'}
  const event = requestEvent(request(), {...context, iam}) as Record<string, any>
  assert.is(event.requestContext.accountId, '000000000000')
  assert.equal(event.requestContext.authorizer, {iam: {...iam, cognitoIdentity: null, principalOrgId: null}})
})

test('requestContext.time is day/Mon/year:hh:mm:ss +0000', () => {
  assert.is(requestTime(Date.UTC(2025, 0, 5, 23, 9, 0)), '05/Jan/2025:23:09:00 +0000')
})

test('an answer with statusCode maps status, headers, cookies, body, base64', () => {
  const out = responseOf(
    Buffer.from(
      JSON.stringify({
        statusCode: 201,
        headers: {'X-One': '1', 'Content-Type': 'image/png'},
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from([1, 2, 3]).toString('base64'),
        isBase64Encoded: true,
      }),
    ),
    false,
  )
  assert.equal(out.status, 201)
  assert.equal(out.headers, {'x-one': '1', 'content-type': 'image/png'})
  assert.equal(out.cookies, ['a=1; Path=/', 'b=2'])
  assert.equal([...out.body], [1, 2, 3])
})

test('any other value is the body of a JSON 200; errors and wrong types are 502', () => {
  for (const value of ['{"a":1}', '"hello"', '42', '[1,2]', 'null']) {
    const out = responseOf(Buffer.from(value), false)
    assert.equal([out.status, out.headers['content-type'], text(out.body)], [200, 'application/json', value])
  }
  const bad = [
    '{"statusCode":"200"}',
    '{"statusCode":99}',
    '{"statusCode":200,"body":{}}',
    '{"statusCode":200,"cookies":"a"}',
  ]
  for (const value of [...bad, '{"statusCode":200,"headers":{"a\\nb":"1"}}', 'not json'])
    assert.is(responseOf(Buffer.from(value), false).status, 502, value)
  assert.is(responseOf(Buffer.from('{"statusCode":200}'), true).status, 502, 'a function error')
  assert.equal(text(responseOf(Buffer.from('{"statusCode":204}'), false).body), '', 'no body is an empty body')
})

test('CORS: allowed origins only; * echoes the origin when credentials are allowed', () => {
  const cors = {AllowOrigins: ['https://app.example'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-a'], MaxAge: 5}
  assert.is(allowedOrigin(cors, 'https://app.example'), 'https://app.example')
  assert.is(allowedOrigin(cors, 'https://evil.example'), undefined)
  assert.is(allowedOrigin({AllowOrigins: ['*']}, 'https://x.example'), '*')
  assert.is(allowedOrigin({AllowOrigins: ['*'], AllowCredentials: true}, 'https://x.example'), 'https://x.example')
  const ok = preflightResponse(cors, 'https://app.example', 'POST', 'X-A, X-B')
  assert.equal(ok.headers, {
    vary: 'Origin',
    'access-control-allow-origin': 'https://app.example',
    'access-control-allow-methods': 'GET,POST',
    'access-control-allow-headers': 'x-a',
    'access-control-max-age': '5',
  })
  assert.equal(preflightResponse(cors, 'https://evil.example', 'POST', '').headers, {vary: 'Origin'})
  assert.equal(preflightResponse(cors, 'https://app.example', 'DELETE', '').headers, {vary: 'Origin'}, 'method')
  const answer = {
    status: 200,
    headers: {'access-control-allow-origin': '*', a: 'b'},
    cookies: [],
    body: Buffer.alloc(0),
  }
  assert.equal(withCors(answer, {...cors, ExposeHeaders: ['x-e']}, 'https://app.example').headers, {
    a: 'b',
    'access-control-allow-origin': 'https://app.example',
    'access-control-expose-headers': 'x-e',
    vary: 'Origin',
  })
  assert.equal(
    withCors(answer, cors, 'https://evil.example').headers,
    {a: 'b', vary: 'Origin'},
    "the function's own go",
  )
  assert.equal(
    withCors(answer, undefined, 'https://evil.example'),
    answer,
    'no Cors: the answer as the function gave it',
  )
})

test.run()
