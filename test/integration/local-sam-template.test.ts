import {GetFunctionCommand, type LambdaClient} from '@aws-sdk/client-lambda'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {deployTemplate} from '../../src/services/template-deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {lambdaClient} from '../helpers/local.js'
import {freePort} from '../helpers/net.js'

/** A SAM project's template.yaml, as it is, deployed on the local target: functions, URL, Api and HttpApi routes. */
const test = suite<{service: LocalService; lambda: LambdaClient; target: LocalTarget; dir: string; image: string}>(
  'SAM template on the local target',
)
const engine = new DockerEngine()
const settings = loadSettings({...process.env, FAAS_TARGET: 'local', AWS_REGION: 'us-east-1'})
const TEMPLATE = fileURLToPath(new URL('../fixtures/sam/template.yaml', import.meta.url))

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine, 'urls')
  ctx.dir = await mkdtemp(join(tmpdir(), 'faas-sam-'))
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: join(ctx.dir, 'functions.json')}).start()
  ctx.lambda = lambdaClient(ctx.service)
  ctx.target = new LocalTarget(settings, {endpoint: ctx.service.url, engine, credentials: ctx.service.credentials})
})

test.after(async (ctx) => {
  await ctx.service?.close()
  await rm(ctx.dir, {recursive: true, force: true})
})

test('the same template.yaml: image functions, Globals, intrinsics, URL and routes; the rest listed', async (ctx) => {
  const warnings: string[] = []
  const result = await deployTemplate(
    ctx.target,
    settings,
    {template: TEMPLATE, parameters: {ImageUri: ctx.image}},
    (e) => e.kind === 'warn' && warnings.push(e.message),
  )
  assert.equal(
    result.functions.map((f) => [f.name, f.action]),
    [
      ['Echo', 'created'],
      ['sam-answer', 'created'],
    ],
  )
  assert.equal(result.ignored, [
    'Zipped (a Zip function: faas runs images)',
    'Table (AWS::Serverless::SimpleTable)',
    'Echo.Policies',
  ])
  assert.is(warnings.filter((w) => w.includes('Table (AWS::Serverless::SimpleTable)')).length, 1, 'listed once')
  const echo = (await ctx.lambda.send(new GetFunctionCommand({FunctionName: 'Echo'}))).Configuration!
  assert.equal([echo.MemorySize, echo.Timeout], [256, 10], 'Globals apply')
  assert.equal(echo.Environment?.Variables, {
    STAGE: 'local',
    GREETING: 'hello',
    WHERE: 'us-east-1-sam',
    OTHER: 'sam-answer',
  })
  // The URL, public and with its Cors.
  const url = result.functions[0]!.url!
  const res = await fetch(`${url}x`, {headers: {origin: 'http://localhost:3000'}})
  assert.is(res.status, 200)
  assert.is(res.headers.get('access-control-allow-origin'), 'http://localhost:3000')
  // Routes from the root, as sam local start-api serves them: Api is payload 1.0, HttpApi 2.0.
  const base = result.api!.url.replace(/\/$/, '')
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  const rest = JSON.parse(await (await fetch(`${base}/hello?x=1`)).text())
  assert.equal([rest.resource, rest.httpMethod, rest.queryStringParameters], ['/hello', 'GET', {x: '1'}])
  const http = JSON.parse(await (await fetch(`${base}/items/9`, {method: 'POST', body: 'hi'})).text())
  assert.equal([http.routeKey, http.pathParameters], ['POST /items/{id}', {id: '9'}])
  const other = await fetch(`${base}/anything`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({statusCode: 418, body: 'teapot'}),
  })
  assert.equal([other.status, await other.text()], [418, 'teapot'], 'an HttpApi event without a Path is $default')
  const again = await deployTemplate(
    ctx.target,
    settings,
    {template: TEMPLATE, parameters: {ImageUri: ctx.image}},
    () => {},
  )
  assert.equal(
    again.functions.map((f) => f.action),
    ['unchanged', 'unchanged'],
  )
  assert.is(again.api?.url, result.api?.url)
})

test('intrinsics faas cannot resolve are named with their line; nothing is deployed', async (ctx) => {
  const text = (await readFile(TEMPLATE, 'utf8'))
    .replace('STAGE: local', 'TABLE: !Ref Table')
    .replace('OTHER: !Ref Answer', 'ARN: !GetAtt Table.Arn')
  const file = join(ctx.dir, 'template.yaml')
  await writeFile(file, text)
  const before = ctx.service.functions.size
  try {
    await deployTemplate(ctx.target, settings, {template: file, parameters: {ImageUri: ctx.image}}, () => {})
    assert.unreachable('an error')
  } catch (error) {
    assert.instance(error, UserError)
    assert.match(
      (error as UserError).paragraph,
      /cannot resolve these intrinsic functions: line 19: !Ref Table; line 34: !GetAtt Table\.Arn\. Replace each/,
    )
  }
  assert.is(ctx.service.functions.size, before)
})

test('the CLI: local start --detach --template serves it, status lists URL and API, bad input stops', async (ctx) => {
  const env = {FAAS_HOME: join(ctx.dir, 'home'), FAAS_LOCAL_PORT: String(await freePort()), FAAS_TARGET: 'local'}
  try {
    const started = await faas(
      ['local', 'start', '--detach', '--template', TEMPLATE, '--parameter-overrides', `ImageUri=${ctx.image}`],
      {env},
    )
    assert.is(started.exitCode, 0, started.stderr)
    assert.match(
      started.stderr,
      /faas does not emulate, and leaves out: Zipped .*Table \(AWS::Serverless::SimpleTable\)/,
    )
    assert.match(started.stdout, /^ {2}Echo\tcreated\tURL http:\/\/127\.0\.0\.1:\d+\/$/m)
    const status = await faasJson(['local', 'status'], {env})
    assert.equal(
      status.result.apis[0].routes.map((r: {routeKey: string}) => r.routeKey),
      ['GET /hello', 'POST /items/{id}', '$default'],
    )
    assert.equal(
      status.result.urls.map((u: {function: string}) => u.function),
      ['Echo'],
    )
    const text = await faas(['local', 'status'], {env})
    assert.match(text.stdout, /^ {2}API sam http:\/\/127\.0\.0\.1:\d+\/$/m)
    const rest = await fetch(`${status.result.apis[0].url}hello`)
    assert.is(JSON.parse(await rest.text()).resource, '/hello')
    const bad = await faas(['deploy', '--template', TEMPLATE, '--parameter-overrides', 'Nope=1'], {env})
    assertUserError(
      bad,
      /--parameter-overrides names Nope, which is not one of its Parameters\. Its parameters are: Greeting, ImageUri/,
    )
    const missing = await faas(['deploy', '--template', join(ctx.dir, 'none.yaml')], {env})
    assertUserError(missing, /cannot be read \(ENOENT\)\. Give the path of your SAM template/)
    const gone = await faasJson(
      ['destroy', '--template', TEMPLATE, '--parameter-overrides', `ImageUri=${ctx.image}`, '--yes'],
      {env},
    )
    assert.is(gone.exitCode, 0, gone.stderr)
    assert.equal(
      gone.result.outcomes.map((o: {kind: string; name: string; action: string}) => `${o.kind} ${o.name} ${o.action}`),
      ['api sam deleted', 'url Echo deleted', 'function Echo deleted', 'function sam-answer deleted'],
    )
  } finally {
    await faas(['local', 'stop'], {env})
  }
})

test.run()
