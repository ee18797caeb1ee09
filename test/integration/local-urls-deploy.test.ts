import {GetFunctionUrlConfigCommand, GetPolicyCommand, type LambdaClient} from '@aws-sdk/client-lambda'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {LocalTarget} from '../../src/targets/local.js'
import type {FunctionSpec} from '../../src/targets/target.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** `faas deploy --url` on the local target: the URL config and the public permissions, converged and removed. */
const test = suite<{service: LocalService; lambda: LambdaClient; target: LocalTarget; dir: string; spec: FunctionSpec}>(
  'local deploy --url',
)
const engine = new DockerEngine()

test.before(async (ctx) => {
  const image = await fixtureImage(engine, 'urls')
  ctx.dir = await mkdtemp(join(tmpdir(), 'faas-urls-deploy-'))
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: join(ctx.dir, 'functions.json')}).start()
  ctx.lambda = lambdaClient(ctx.service)
  ctx.target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}), {
    endpoint: ctx.service.url,
    engine,
    credentials: ctx.service.credentials,
  })
  ctx.spec = {
    name: 'url-fn',
    image: {uri: image, architecture: 'x86_64'},
    handler: 'handler.trivial',
    memoryMb: 256,
    timeoutS: 10,
    env: {},
    policies: [],
  }
})

test.after(async (ctx) => {
  await ctx.service?.close()
  await rm(ctx.dir, {recursive: true, force: true})
})

const sids = async (lambda: LambdaClient, name: string): Promise<string[]> =>
  lambda.send(new GetPolicyCommand({FunctionName: name})).then(
    (out) => JSON.parse(out.Policy!).Statement.map((s: {Sid: string}) => s.Sid),
    () => [],
  )

test('--url none answers anyone, twice writes nothing, iam refuses the unsigned, destroy closes it', async (ctx) => {
  const events: string[] = []
  const spec: FunctionSpec = {...ctx.spec, url: {authType: 'NONE', corsOrigins: ['http://localhost:3000']}}
  const created = await ctx.target.deploy(spec, (e) => events.push(e.message))
  assert.is(created.action, 'created')
  assert.equal(created.changed, ['function', 'url', 'url-permission'])
  assert.match(created.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/)
  assert.ok(
    events.some((m) => m.includes(created.url!)),
    `an event names the URL: ${events.join(' | ')}`,
  )
  const res = await fetch(created.url!, {headers: {origin: 'http://localhost:3000'}})
  assert.equal([res.status, await res.text()], [200, 'ok'], 'public without any other step')
  assert.is(res.headers.get('access-control-allow-origin'), 'http://localhost:3000')
  assert.equal(await sids(ctx.lambda, 'url-fn'), ['FunctionURLAllowPublicAccess', 'FunctionURLInvokeAllowPublicAccess'])

  const again = await ctx.target.deploy(spec, () => {})
  assert.equal([again.action, again.changed, again.url], ['unchanged', [], created.url])

  // Without --url an existing URL is left as it is.
  const plain = await ctx.target.deploy(ctx.spec, () => {})
  assert.equal([plain.action, plain.url], ['unchanged', undefined])
  assert.is((await fetch(created.url!)).status, 200)

  const iam = await ctx.target.deploy({...spec, url: {authType: 'AWS_IAM', corsOrigins: []}}, () => {})
  assert.equal([iam.action, iam.changed, iam.url], ['updated', ['url', 'url-permission'], created.url])
  const config = await ctx.lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'url-fn'}))
  assert.equal([config.AuthType, config.Cors?.AllowOrigins], ['AWS_IAM', []])
  assert.equal(await sids(ctx.lambda, 'url-fn'), [], 'the public statements went')
  assert.is((await fetch(created.url!)).status, 403, 'unsigned requests are refused')

  const gone = await ctx.target.destroy(['url-fn'], {}, () => {})
  assert.equal(gone, [
    {name: 'url-fn', kind: 'url', action: 'deleted'},
    {name: 'url-fn', kind: 'function', action: 'deleted'},
  ])
  assert.ok(
    await fetch(created.url!).then(
      () => false,
      () => true,
    ),
    'nothing listens on the URL',
  )
  assert.equal(await ctx.target.destroy(['url-fn'], {}, () => {}), [
    {name: 'url-fn', kind: 'function', action: 'absent'},
  ])
})

test.run()
