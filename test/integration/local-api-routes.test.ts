import {
  CreateFunctionCommand,
  GetFunctionCommand,
  PutFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {endpointOf} from '../../src/bench/inputs.js'
import {httpProtocol} from '../../src/bench/protocols/http.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {deploy, destroy, destroyPlan} from '../../src/services/deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/**
 * A benchmark's "api" on the local target: `deploy` serves its routes on one loopback endpoint with API
 * Gateway's matching and both payload formats; `destroy` removes it. The functions run the URL fixture's
 * handlers (echo answers with the event it got).
 */
const test = suite<{service: LocalService; lambda: LambdaClient; target: LocalTarget; dir: string; base: string}>(
  'local API routes',
)
const engine = new DockerEngine()
const settings = loadSettings({...process.env, FAAS_TARGET: 'local', FAAS_REGISTRY: undefined})
const TAG = `t${process.pid}`

const manifest = {
  name: 'routes',
  functions: {
    echo: {handler: 'handler.echo', memory: 256, timeout: 10},
    rest: {handler: 'handler.echo', memory: 256, timeout: 10},
    answer: {handler: 'handler.answer', memory: 256, timeout: 10},
    fail: {handler: 'handler.fail', memory: 256, timeout: 10},
  },
  api: {
    stage: 'dev',
    routes: {
      'POST /stateflow': {function: 'rest', payloadFormat: '1.0'},
      'GET /items/{id}': 'echo',
      'GET /items/special': {function: 'rest', payloadFormat: '1.0'},
      'ANY /items/{proxy+}': 'echo',
      'POST /answer': 'answer',
      'POST /answer-1': {function: 'answer', payloadFormat: '1.0'},
      'GET /fail': 'fail',
      $default: 'echo',
    },
  },
}

test.before(async (ctx) => {
  const image = await fixtureImage(engine, 'urls')
  ctx.dir = await mkdtemp(join(tmpdir(), 'faas-api-routes-'))
  // The manifest's handlers are the images' CMD: one image per function, as a build makes them.
  for (const [name, f] of Object.entries(manifest.functions)) {
    const context = join(ctx.dir, 'images', name)
    await mkdir(context, {recursive: true})
    await writeFile(join(context, 'Dockerfile'), `FROM ${image}\nCMD ["${f.handler}"]\n`)
    await execa('docker', ['build', '-q', '-t', `routes-${name}:${TAG}`, context])
  }
  await writeFile(join(ctx.dir, 'benchmark.json'), JSON.stringify(manifest))
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: join(ctx.dir, 'functions.json')}).start()
  ctx.lambda = lambdaClient(ctx.service)
  ctx.target = new LocalTarget(settings, {endpoint: ctx.service.url, engine, credentials: ctx.service.credentials})
})

test.after(async (ctx) => {
  await ctx.service?.close()
  for (const name of Object.keys(manifest.functions))
    await execa('docker', ['rmi', '-f', `routes-${name}:${TAG}`], {reject: false})
  await rm(ctx.dir, {recursive: true, force: true})
})

const json = async (res: Response) => [res.status, JSON.parse(await res.text())] as const

test('deploy serves the routes on one loopback endpoint, with the stage, and says where', async (ctx) => {
  const result = await deploy(ctx.target, settings, {benchmark: ctx.dir, tag: TAG, architecture: 'x86_64'}, () => {})
  assert.is(result.functions.length, 4)
  assert.match(result.api?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/dev$/)
  assert.equal(
    result.api!.routes.find((r) => r.routeKey === 'POST /stateflow'),
    {routeKey: 'POST /stateflow', function: 'routes-rest', payloadFormat: '1.0'},
  )
  ctx.base = result.api!.url
  const health = ctx.service.health() as {apis: Array<{name: string; url: string}>}
  assert.equal(
    health.apis.map((a) => [a.name, a.url]),
    [['routes', ctx.base]],
  )
  const again = await deploy(ctx.target, settings, {benchmark: ctx.dir, tag: TAG, architecture: 'x86_64'}, () => {})
  assert.is(again.api?.url, ctx.base, 'a second deploy keeps the endpoint')
  assert.ok(await ctx.lambda.send(new GetFunctionCommand({FunctionName: 'routes-echo'})))
})

test('route matching: most specific first, greedy {proxy+}, $default, 404 outside the stage', async (ctx) => {
  const route = async (path: string, method = 'GET') => {
    const res = await fetch(`${ctx.base}${path}`, {method})
    const body = JSON.parse(await res.text())
    return [res.status, body.routeKey ?? body.resource, body.pathParameters ?? null]
  }
  assert.equal(await route('/items/7'), [200, 'GET /items/{id}', {id: '7'}])
  assert.equal(await route('/items/special'), [200, '/items/special', null], 'a literal beats {id}')
  assert.equal(await route('/items/a/b%20c'), [200, 'ANY /items/{proxy+}', {proxy: 'a/b c'}])
  assert.equal(await route('/items/7', 'DELETE'), [200, 'ANY /items/{proxy+}', {proxy: '7'}], 'ANY takes others')
  assert.equal(await route('/elsewhere'), [200, '$default', null])
  const outside = await fetch(ctx.base.replace(/\/dev$/, '/prod/items/1'))
  assert.equal(await json(outside), [404, {message: 'Not Found'}])
})

test('payload format 1.0: the REST-proxy event the seed application reads', async (ctx) => {
  const res = await fetch(`${ctx.base}/stateflow?x=1&x=2&y=3`, {
    method: 'POST',
    headers: {'content-type': 'application/json', 'x-rep': 'a'},
    body: '{"op":"reserve"}',
  })
  const [status, event] = await json(res)
  assert.is(status, 200)
  assert.equal(
    [event.resource, event.path, event.httpMethod, event.body, event.isBase64Encoded],
    ['/stateflow', '/stateflow', 'POST', '{"op":"reserve"}', false],
  )
  assert.equal(event.queryStringParameters, {x: '2', y: '3'})
  assert.equal(event.multiValueQueryStringParameters, {x: ['1', '2'], y: ['3']})
  assert.is(event.headers['x-rep'], 'a')
  assert.equal(event.multiValueHeaders['x-rep'], ['a'])
  assert.is(event.pathParameters, null)
  assert.is(event.stageVariables, null)
  const rc = event.requestContext
  assert.equal([rc.stage, rc.path, rc.httpMethod, rc.resourcePath], ['dev', '/dev/stateflow', 'POST', '/stateflow'])
  assert.match(rc.apiId, /^[0-9a-f]{10}$/)
  assert.is(rc.identity.sourceIp, '127.0.0.1')
  assert.is(res.headers.get('apigw-requestid'), rc.requestId)
})

test('payload format 2.0: routeKey, pathParameters, the stage in rawPath', async (ctx) => {
  const [status, event] = await json(await fetch(`${ctx.base}/items/42?tag=a&tag=b`))
  assert.is(status, 200)
  assert.equal(
    [event.version, event.routeKey, event.rawPath, event.rawQueryString],
    ['2.0', 'GET /items/{id}', '/dev/items/42', 'tag=a&tag=b'],
  )
  assert.equal(event.pathParameters, {id: '42'})
  assert.equal(event.queryStringParameters, {tag: 'a,b'})
  assert.equal([event.requestContext.routeKey, event.requestContext.stage], ['GET /items/{id}', 'dev'])
  assert.is(event.requestContext.http.path, '/dev/items/42')
})

test('responses map per format; errors are API Gateway 500s', async (ctx) => {
  const answer = (path: string, value: unknown) =>
    fetch(`${ctx.base}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(value),
    })
  const plain = await answer('/answer', {hello: 'world'})
  assert.equal(
    [plain.status, plain.headers.get('content-type'), JSON.parse(await plain.text())],
    [200, 'application/json', {hello: 'world'}],
    '2.0: any value is JSON 200',
  )
  const shaped = await answer('/answer-1', {
    statusCode: 201,
    headers: {'x-one': '1'},
    multiValueHeaders: {'set-cookie': ['a=1', 'b=2']},
    body: 'made',
  })
  assert.equal([shaped.status, shaped.headers.get('x-one'), await shaped.text()], [201, '1', 'made'])
  assert.equal(shaped.headers.getSetCookie(), ['a=1', 'b=2'])
  assert.equal(await json(await answer('/answer-1', {hello: 'world'})), [500, {message: 'Internal Server Error'}])
  assert.equal(await json(await fetch(`${ctx.base}/fail`)), [500, {message: 'Internal Server Error'}])
})

test('bench over HTTP drives a route as a whole URL (POST, the event as body)', async (ctx) => {
  const invoker = httpProtocol({maxSockets: 4, timeoutMs: 10_000})
  try {
    const address = endpointOf('http')(`${ctx.base}/answer`)
    await invoker.check([address])
    const outs = await Promise.all(
      Array.from({length: 8}, () => invoker.invoke({name: address, payload: '{"statusCode": 202, "body": "ok"}'})),
    )
    assert.equal(
      outs.map((o) => [o.statusCode, o.payload]),
      Array.from({length: 8}, () => [202, 'ok']),
    )
  } finally {
    await invoker.close()
  }
})

test('an app written for API Gateway by others (Mangum, from PyPI) runs unchanged behind 1.0 and 2.0', async (ctx) => {
  const image = await fixtureImage(engine, 'urls-mangum')
  await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'mangum-routes',
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: image},
    }),
  )
  const api = await ctx.target.ensureApi(
    'mangum',
    {
      stage: 'dev',
      routes: [
        {routeKey: 'ANY /v1/{proxy+}', function: 'mangum-routes', payloadFormat: '1.0'},
        {routeKey: 'ANY /v2/{proxy+}', function: 'mangum-routes', payloadFormat: '2.0'},
      ],
    },
    () => {},
  )
  for (const version of ['v1', 'v2']) {
    const res = await fetch(`${api.url}/${version}/hello?name=faas`, {
      method: 'POST',
      headers: {'content-type': 'text/plain', 'x-test': 'yes'},
      body: 'payload',
    })
    assert.is(res.status, 201, version)
    assert.equal(res.headers.getSetCookie(), ['a=1', 'b=2'], version)
    const seen = (await res.json()) as {method: string; path: string; query: string; body: string; headers: any}
    assert.equal([seen.method, seen.query, seen.body, seen.headers['x-test']], ['POST', 'name=faas', 'payload', 'yes'])
    assert.match(seen.path, new RegExp(`/${version}/hello$`), version)
  }
  assert.equal((await ctx.target.destroyApi('mangum', () => {})).action, 'deleted')
})

test('limits on routes: over 6 MB 413, throttled 429, as API Gateway words them', async (ctx) => {
  const huge = await fetch(`${ctx.base}/answer`, {
    method: 'POST',
    headers: {'content-type': 'text/plain'},
    body: 'x'.repeat(6 * 1024 * 1024 + 1),
  })
  assert.equal([huge.status, await huge.json()], [413, {message: 'Request Entity Too Large'}])
  await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'routes-sleep',
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: await fixtureImage(engine, 'urls')},
      ImageConfig: {Command: ['handler.sleep']},
    }),
  )
  await ctx.lambda.send(
    new PutFunctionConcurrencyCommand({FunctionName: 'routes-sleep', ReservedConcurrentExecutions: 1}),
  )
  const api = await ctx.target.ensureApi(
    'limits',
    {stage: '$default', routes: [{routeKey: 'GET /sleep', function: 'routes-sleep', payloadFormat: '2.0'}]},
    () => {},
  )
  const answers = await Promise.all(
    [1, 2, 3].map(async () => {
      const res = await fetch(`${api.url}sleep?seconds=2`)
      return [res.status, await res.text()] as const
    }),
  )
  assert.ok(
    answers.some(([status]) => status === 200) &&
      answers.some(([status, body]) => status === 429 && body === '{"message":"Too Many Requests"}'),
    `one runs, the others are throttled: ${JSON.stringify(answers)}`,
  )
  await ctx.target.destroyApi('limits', () => {})
})

test('a restarted service answers the API on the same endpoint', async (ctx) => {
  const file = ctx.service.options.functionsFile!
  const secrets = ctx.service.options.secrets
  await ctx.service.close()
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: file, secrets}).start()
  ctx.target = new LocalTarget(settings, {endpoint: ctx.service.url, engine, credentials: ctx.service.credentials})
  const [status, event] = await json(await fetch(`${ctx.base}/items/5`))
  assert.equal([status, event.routeKey, event.pathParameters], [200, 'GET /items/{id}', {id: '5'}])
})

test('Host checks hold; destroy removes the API and nothing answers there', async (ctx) => {
  const {port} = new URL(ctx.base)
  const {stdout} = await execa('curl', ['-sS', '-H', `Host: evil.example:${port}`, `${ctx.base}/items/1`])
  assert.equal(JSON.parse(stdout), {message: 'Forbidden'})
  const plan = await destroyPlan({benchmark: ctx.dir})
  assert.is(plan.api, 'routes')
  const outcomes = await destroy(ctx.target, plan, {roles: false, repositories: false}, () => {})
  assert.equal(outcomes[0], {name: 'routes', kind: 'api', action: 'deleted'})
  assert.ok(
    await fetch(ctx.base).then(
      () => false,
      () => true,
    ),
    'nothing listens',
  )
  const again = await destroy(ctx.target, plan, {roles: false, repositories: false}, () => {})
  assert.equal(again[0], {name: 'routes', kind: 'api', action: 'absent'})
})

test.run()
