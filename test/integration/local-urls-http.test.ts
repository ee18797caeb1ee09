import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionUrlConfigCommand,
  type Cors,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {createServer, request as httpRequest, type Server} from 'node:http'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {signRequest} from '../../src/local/sigv4.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {chromium} from '../helpers/chromium.js'
import {lambdaClient} from '../helpers/local.js'
import {waitFor} from '../helpers/wait.js'

/** Function URLs over HTTP: the 2.0 event field by field, Lambda's response mapping, limits, CORS, AWS_IAM. */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string; urls: Map<string, string>}>(
  'local URL HTTP',
)
const engine = new DockerEngine()
const PYTHON = '/var/lib/faas-stack/venv/bin/python'

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine, 'urls')
  ctx.service = await new LocalService(engine, {port: 0, idleTimeoutMs: 60_000}).start()
  ctx.lambda = lambdaClient(ctx.service)
  ctx.urls = new Map()
})

test.after(async (ctx) => {
  await ctx.service?.close()
})

interface UrlSetup {
  handler?: string
  image?: string
  authType?: 'NONE' | 'AWS_IAM'
  cors?: Cors
  timeout?: number
}

/** A function behind a URL (public when NONE, with both statements); the URL, made once per name. */
async function url(
  ctx: {lambda: LambdaClient; image: string; urls: Map<string, string>},
  name: string,
  o: UrlSetup = {},
) {
  const known = ctx.urls.get(name)
  if (known) return known
  await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: o.image ?? ctx.image},
      ...(o.handler ? {ImageConfig: {Command: [o.handler]}} : {}),
      Timeout: o.timeout ?? 30,
      MemorySize: 256,
    }),
  )
  const made = await ctx.lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: name, AuthType: o.authType ?? 'NONE', Cors: o.cors}),
  )
  if ((o.authType ?? 'NONE') === 'NONE') {
    for (const [sid, action, extra] of [
      ['u', 'lambda:InvokeFunctionUrl', {FunctionUrlAuthType: 'NONE' as const}],
      ['i', 'lambda:InvokeFunction', {InvokedViaFunctionUrl: true}],
    ] as const)
      await ctx.lambda.send(
        new AddPermissionCommand({FunctionName: name, StatementId: sid, Action: action, Principal: '*', ...extra}),
      )
  }
  ctx.urls.set(name, made.FunctionUrl!)
  return made.FunctionUrl!
}

/** A request with exactly these header lines (repeats too) and this Host, as node:http sends it. */
function raw(
  target: string,
  init: {method?: string; headers?: Array<[string, string]>; body?: Buffer; host?: string} = {},
): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: Buffer}> {
  const address = new URL(target)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: address.hostname,
        port: address.port,
        path: `${address.pathname}${address.search}`,
        method: init.method ?? 'GET',
        setHost: false,
        headers: [['Host', init.host ?? address.host], ...(init.headers ?? [])].flat(),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks)}))
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

test('the 2.0 event, field by field (curl sends it)', async (ctx) => {
  const base = await url(ctx, 'echo', {handler: 'handler.echo'})
  const bytes = Buffer.from([0, 1, 2, 250, 255])
  const dir = await mkdtemp(join(tmpdir(), 'faas-urls-'))
  try {
    await writeFile(join(dir, 'body.bin'), bytes)
    const before = Date.now()
    const {stdout} = await execa('curl', [
      '-sS',
      '-i',
      '-X',
      'PUT',
      '-H',
      'Content-Type: application/octet-stream',
      '-H',
      'X-Custom: Yes',
      '-b',
      'session=abc; theme=dark',
      '--data-binary',
      `@${join(dir, 'body.bin')}`,
      `${base}items/a%20b?tag=x&tag=y&q=caf%C3%A9`,
    ])
    const [head, body] = stdout.split('\r\n\r\n') as [string, string]
    assert.match(head, /^HTTP\/1\.1 200/)
    const event = JSON.parse(body)
    const requestId = /x-amzn-requestid: (\S+)/i.exec(head)?.[1]
    assert.is(event.version, '2.0')
    assert.is(event.routeKey, '$default')
    assert.is(event.rawPath, '/items/a%20b')
    assert.is(event.rawQueryString, 'tag=x&tag=y&q=caf%C3%A9')
    assert.equal(event.cookies, ['session=abc', 'theme=dark'])
    assert.is(event.headers['x-custom'], 'Yes', 'headers are lowercased')
    assert.is(event.headers.cookie, undefined, 'cookies are not in headers')
    assert.is(event.headers.host, new URL(base).host)
    assert.equal(event.queryStringParameters, {tag: 'x,y', q: 'café'})
    const rc = event.requestContext
    assert.is(rc.accountId, 'anonymous')
    assert.match(rc.apiId, /^[0-9a-f]{32}$/)
    assert.is(rc.domainPrefix, rc.apiId)
    assert.is(rc.domainName, `${rc.apiId}.lambda-url.us-east-1.localhost`)
    assert.equal(rc.http, {
      method: 'PUT',
      path: '/items/a b',
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: event.headers['user-agent'],
    })
    assert.match(rc.http.userAgent, /^curl\//)
    assert.is(rc.requestId, requestId, 'the same request id as the x-amzn-RequestId answer header')
    assert.equal([rc.routeKey, rc.stage], ['$default', '$default'])
    assert.ok(rc.timeEpoch >= before - 1000 && rc.timeEpoch <= Date.now() + 1000, 'timeEpoch is now')
    assert.match(rc.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/)
    assert.is(rc.authorizer, undefined, 'no authorizer on a NONE URL')
    assert.equal([event.body, event.isBase64Encoded], [bytes.toString('base64'), true], 'binary bodies are base64')
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
  const repeated = await raw(`${base}`, {
    method: 'POST',
    headers: [
      ['X-Rep', 'one'],
      ['x-rep', 'two'],
      ['Content-Type', 'application/json'],
    ],
    body: Buffer.from('{"k":"v"}'),
  })
  const event = JSON.parse(repeated.body.toString())
  assert.is(event.headers['x-rep'], 'one,two', 'repeated headers are joined by commas')
  assert.equal([event.body, event.isBase64Encoded], ['{"k":"v"}', false], 'JSON bodies are text')
  assert.equal([event.rawPath, event.rawQueryString, event.queryStringParameters], ['/', '', undefined])
})

const answer = (base: string, value: unknown) =>
  fetch(base, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(value)})

test('responses map as Lambda maps them: statusCode form, any other value, invalid answers, errors', async (ctx) => {
  const base = await url(ctx, 'answer', {handler: 'handler.answer'})
  const shaped = await answer(base, {
    statusCode: 201,
    headers: {'X-From': 'fn', 'Content-Type': 'text/plain'},
    cookies: ['a=1; Path=/', 'b=2'],
    body: 'made',
  })
  assert.equal([shaped.status, shaped.headers.get('x-from'), await shaped.text()], [201, 'fn', 'made'])
  assert.equal(shaped.headers.getSetCookie(), ['a=1; Path=/', 'b=2'], 'one Set-Cookie per cookie')
  const binary = await answer(base, {
    statusCode: 200,
    body: Buffer.from([1, 2, 255]).toString('base64'),
    isBase64Encoded: true,
  })
  assert.equal([...new Uint8Array(await binary.arrayBuffer())], [1, 2, 255])
  const plain = await answer(base, {hello: 'world'})
  assert.equal(
    [plain.status, plain.headers.get('content-type'), await plain.json()],
    [200, 'application/json', {hello: 'world'}],
  )
  const text = await answer(base, 'hi')
  assert.equal([text.status, await text.text()], [200, '"hi"'])
  for (const invalid of [
    {statusCode: 'ok'},
    {statusCode: 200, body: {not: 'a string'}},
    {statusCode: 200, cookies: 'a=1'},
  ]) {
    const res = await answer(base, invalid)
    assert.equal([res.status, await res.json()], [502, {Message: 'Internal Server Error'}], JSON.stringify(invalid))
  }
  const head = await raw(base, {method: 'HEAD'})
  assert.equal([head.status, head.body.length], [200, 0], 'HEAD: no body')
  const failed = await fetch(await url(ctx, 'fail', {handler: 'handler.fail'}))
  assert.equal([failed.status, await failed.json()], [502, {Message: 'Internal Server Error'}], 'a function error')
})

test('limits: request over 6 MB 413, response over 6 MB 502, the timeout 502, throttling 429', async (ctx) => {
  const echo = await url(ctx, 'echo', {handler: 'handler.echo'})
  const huge = await fetch(echo, {
    method: 'POST',
    headers: {'content-type': 'text/plain'},
    body: 'x'.repeat(6 * 1024 * 1024 + 1),
  })
  assert.equal([huge.status, await huge.json()], [413, {Message: 'Request Entity Too Large'}])
  const inflated = await fetch(echo, {method: 'POST', body: Buffer.alloc(5 * 1024 * 1024)})
  assert.is(inflated.status, 413, 'the event counts: 5 MB of binary is over 6 MB once base64-encoded')
  const big = await fetch(await url(ctx, 'big', {handler: 'handler.big'}))
  assert.is(big.status, 502, 'a response over 6 MB')
  const slow = await url(ctx, 'slow', {handler: 'handler.sleep', timeout: 1})
  const late = await fetch(`${slow}?seconds=3`)
  assert.equal([late.status, await late.json()], [502, {Message: 'Internal Server Error'}], 'past the timeout')
  const one = await url(ctx, 'one', {handler: 'handler.sleep'})
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'one', ReservedConcurrentExecutions: 1}))
  const statuses = await Promise.all([1, 2, 3].map(() => fetch(`${one}?seconds=2`).then((r) => r.status)))
  assert.ok(statuses.includes(200) && statuses.includes(429), `one runs, the others are throttled: ${statuses}`)
})

test('reserved concurrency lowered below the calls running: idle warm environments stay unused, 429', async (ctx) => {
  const lowered = await url(ctx, 'lowered', {handler: 'handler.sleep'})
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'lowered', ReservedConcurrentExecutions: 3}))
  const warm = await Promise.all([1, 2, 3].map(() => fetch(`${lowered}?seconds=1`).then((r) => r.status)))
  assert.equal(warm, [200, 200, 200], 'three environments, warm')
  const running = [1, 2].map(() => fetch(`${lowered}?seconds=4`).then((r) => r.status))
  const pool = ctx.service.pools.get('lowered')!
  await waitFor('two calls running', async () => pool.stats().busy === 2)
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'lowered', ReservedConcurrentExecutions: 1}))
  const third = await fetch(`${lowered}?seconds=0`)
  assert.is(third.status, 429, 'two calls run, one is reserved: the idle environment is not used')
  assert.equal(await Promise.all(running), [200, 200], 'the running calls finish')
  assert.is(pool.stats().idle, 1, 'environments over the reservation go as they free up')
  assert.is((await fetch(`${lowered}?seconds=0`)).status, 200, 'within the reservation again')
})

test('Host checks hold on URLs: only the loopback names and the URL id name are answered', async (ctx) => {
  const base = await url(ctx, 'echo', {handler: 'handler.echo'})
  const port = new URL(base).port
  const evil = await raw(base, {host: `rebind.example:${port}`})
  assert.equal([evil.status, JSON.parse(evil.body.toString())], [403, {Message: 'Forbidden'}])
  assert.is((await raw(base, {host: `127.0.0.1:${Number(port) + 1}`})).status, 403, 'another port in Host')
  const apiId = JSON.parse((await raw(base)).body.toString()).requestContext.apiId
  assert.is((await raw(base, {host: `${apiId}.lambda-url.us-east-1.localhost:${port}`})).status, 200)
  assert.is((await raw(base, {host: `localhost:${port}`})).status, 200)
})

test('CORS: preflights answered from the URL config; Access-Control-* only for allowed origins', async (ctx) => {
  const cors = {
    AllowOrigins: ['https://app.example'],
    AllowMethods: ['POST'],
    AllowHeaders: ['x-custom'],
    ExposeHeaders: ['x-from'],
    MaxAge: 300,
  }
  const base = await url(ctx, 'cors', {handler: 'handler.answer', cors})
  const preflight = (origin: string) =>
    raw(base, {
      method: 'OPTIONS',
      headers: [
        ['Origin', origin],
        ['Access-Control-Request-Method', 'POST'],
        ['Access-Control-Request-Headers', 'x-custom'],
      ],
    })
  const allowed = await preflight('https://app.example')
  assert.equal(
    [allowed.status, allowed.headers['access-control-allow-origin'], allowed.headers['access-control-allow-methods']],
    [200, 'https://app.example', 'POST'],
  )
  assert.equal(
    [allowed.headers['access-control-allow-headers'], allowed.headers['access-control-max-age']],
    ['x-custom', '300'],
  )
  const refused = await preflight('https://evil.example')
  assert.equal([refused.status, refused.headers['access-control-allow-origin']], [200, undefined])
  const call = (origin: string) =>
    fetch(base, {
      method: 'POST',
      headers: {origin, 'content-type': 'application/json'},
      body: JSON.stringify({
        statusCode: 200,
        headers: {'access-control-allow-origin': '*', 'x-from': 'fn'},
        body: 'hi',
      }),
    })
  const mine = await call('https://app.example')
  assert.equal(
    [mine.headers.get('access-control-allow-origin'), mine.headers.get('access-control-expose-headers')],
    ['https://app.example', 'x-from'],
  )
  const theirs = await call('https://evil.example')
  assert.equal(
    [theirs.status, theirs.headers.get('access-control-allow-origin')],
    [200, null],
    "the function's * is replaced",
  )
})

/** A page on its own loopback port (its own origin) that fetch()es the URL and puts what it read in the DOM. */
async function pageServer(target: string): Promise<Server> {
  const page = `<!doctype html><body><script>
fetch(${JSON.stringify(target)}, {method: 'POST', headers: {'content-type': 'application/json', 'x-custom': '1'},
  body: JSON.stringify({statusCode: 200, body: 'secret-from-function'})})
  .then((r) => r.text()).then((t) => { document.body.dataset.result = 'READ:' + t })
  .catch((e) => { document.body.dataset.result = 'BLOCKED:' + e.name })
</script></body>`
  const server = createServer((_req, res) => res.writeHead(200, {'content-type': 'text/html'}).end(page))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

test('in headless Chromium, a page on an allowed origin reads the URL, one on another origin cannot', async (ctx) => {
  const methods = {AllowMethods: ['POST'], AllowHeaders: ['content-type', 'x-custom']}
  const base = await url(ctx, 'browser', {
    handler: 'handler.answer',
    cors: {AllowOrigins: ['https://placeholder.example'], ...methods},
  })
  const pages = [await pageServer(base), await pageServer(base)]
  const [mine, theirs] = pages.map((p) => `http://127.0.0.1:${(p.address() as AddressInfo).port}`)
  await ctx.lambda.send(
    new UpdateFunctionUrlConfigCommand({FunctionName: 'browser', Cors: {AllowOrigins: [mine!], ...methods}}),
  )
  const dir = await mkdtemp(join(tmpdir(), 'faas-urls-chromium-'))
  try {
    const read = async (page: string) => {
      const {stdout} = await chromium(dir, '--virtual-time-budget=15000', '--dump-dom', page)
      return /data-result="([^"]*)"/.exec(stdout)?.[1] ?? `no result in ${stdout.slice(0, 300)}`
    }
    assert.is(await read(mine!), 'READ:secret-from-function', 'the allowed origin reads the answer')
    assert.is(await read(theirs!), 'BLOCKED:TypeError', 'another origin cannot')
  } finally {
    for (const p of pages) p.close()
    await rm(dir, {recursive: true, force: true})
  }
})

test('AWS_IAM URLs: SigV4 with the local credentials (ours, botocore) passes; unsigned, wrong: 403', async (ctx) => {
  const base = await url(ctx, 'iam', {handler: 'handler.echo', authType: 'AWS_IAM'})
  const unsigned = await fetch(base)
  assert.is(unsigned.status, 403)
  const target = new URL(`${base}signed?x=1`)
  const signedWith = async (secretAccessKey: string) =>
    fetch(target, {
      headers: await signRequest(
        target,
        {method: 'GET', body: Buffer.alloc(0)},
        {accessKeyId: ctx.service.credentials.accessKeyId, secretAccessKey},
        'us-east-1',
      ),
    })
  const good = await signedWith(ctx.service.credentials.secretAccessKey)
  const event = JSON.parse(await good.text())
  assert.is(good.status, 200)
  assert.is(event.requestContext.accountId, '000000000000')
  assert.equal(event.requestContext.authorizer.iam.accessKey, ctx.service.credentials.accessKeyId)
  assert.is((await signedWith('not-the-secret')).status, 403, 'a wrong secret')
  const script = `
import sys, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
req = AWSRequest(method="POST", url=sys.argv[1], data=b'{"via":"botocore"}',
                 headers={"content-type": "application/json"})
SigV4Auth(Credentials(sys.argv[2], sys.argv[3]), "lambda", "us-east-1").add_auth(req)
signed = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers), method="POST")
with urllib.request.urlopen(signed) as r:
    print(r.status, r.read().decode())
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const {stdout} = await execa(PYTHON, ['-c', script, `${base}from/python`, accessKeyId, secretAccessKey])
  const [status, ...rest] = stdout.split(' ')
  assert.is(status, '200')
  assert.is(JSON.parse(rest.join(' ')).body, '{"via":"botocore"}')
})

test('an app written for Function URLs by others (Mangum, from PyPI) runs unchanged', async (ctx) => {
  const image = await fixtureImage(engine, 'urls-mangum')
  const base = await url(ctx, 'mangum', {image})
  const res = await fetch(`${base}hello/world?name=faas`, {
    method: 'POST',
    headers: {'content-type': 'text/plain', 'x-test': 'yes'},
    body: 'payload',
  })
  assert.is(res.status, 201)
  assert.equal(res.headers.getSetCookie(), ['a=1', 'b=2'])
  const seen = (await res.json()) as {
    method: string
    path: string
    query: string
    body: string
    headers: Record<string, string>
  }
  assert.equal([seen.method, seen.path, seen.query, seen.body], ['POST', '/hello/world', 'name=faas', 'payload'])
  assert.is(seen.headers['x-test'], 'yes')
})

test.run()
