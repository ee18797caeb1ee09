// deploy --publish [--alias NAME] [--alias-weight V=W] on both targets: the local service (in process, with its
// own key pair) and AWS (a moto of its own with AWS's managed policies, through the CLI with --json).
import {ECRClient, CreateRepositoryCommand, PutImageCommand} from '@aws-sdk/client-ecr'
import {
  GetAliasCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda'
import {createHash} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {deploy} from '../../src/services/deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {assertUserError, faas, faasJson, motoEnv} from '../helpers/cli.js'
import {lambdaClient} from '../helpers/local.js'
import {startMoto} from '../helpers/moto.js'

const test = suite<{service: LocalService; lambda: LambdaClient; image: string}>('deploy --publish')
const engine = new DockerEngine()
const quiet = () => {}

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.service = await new LocalService(engine, {port: 0}).start()
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  await ctx.service?.close()
})

test('local target: publishes, points the alias, and writes nothing when nothing changed', async (ctx) => {
  const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}), {
    endpoint: ctx.service.url,
    credentials: ctx.service.credentials,
    engine,
  })
  const [repository, tag] = ctx.image.split(':') as [string, string]
  const request = (env: Record<string, string>, extra: {aliasWeight?: string} = {}) => ({
    repository,
    tag,
    functionName: 'pub-local',
    policies: [],
    env,
    handler: 'handler.env',
    publish: true,
    alias: 'live',
    ...extra,
  })
  const settings = loadSettings({...process.env, FAAS_TARGET: 'local'})
  const first = (await deploy(target, settings, request({MY_SETTING: 'one'}), quiet)).functions[0]!
  assert.is(first.version, '1')
  assert.equal(first.alias, {name: 'live', version: '1', weights: {}})
  assert.equal(first.changed, ['function', 'version', 'alias'])
  const again = (await deploy(target, settings, request({MY_SETTING: 'one'}), quiet)).functions[0]!
  assert.equal([again.action, again.changed, again.version], ['unchanged', [], '1'])
  const canary = (await deploy(target, settings, request({MY_SETTING: 'two'}, {aliasWeight: '1=0.25'}), quiet))
    .functions[0]!
  assert.equal([canary.version, canary.changed], ['2', ['env', 'version', 'alias']])
  const alias = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'pub-local', Name: 'live'}))
  assert.equal([alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights], ['2', {'1': 0.25}])
  const out = await ctx.lambda.send(new InvokeCommand({FunctionName: 'pub-local', Qualifier: '1'}))
  assert.is(JSON.parse(Buffer.from(out.Payload!).toString()).MY_SETTING, 'one')
  const refused = await deploy(target, settings, request({MY_SETTING: 'two'}, {aliasWeight: '2=0.5'}), quiet).then(
    () => undefined,
    (error: Error) => error.message,
  )
  assert.match(refused ?? '', /names version 2 of pub-local, the version just published/)
  const after = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'pub-local', Name: 'live'}))
  assert.is(after.RevisionId, alias.RevisionId, 'the alias was left as it was')
})

test('local target: --provisioned on the alias, READY when deploy returns, idempotent; bad input', async (ctx) => {
  const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}), {
    endpoint: ctx.service.url,
    credentials: ctx.service.credentials,
    engine,
  })
  const [repository, tag] = ctx.image.split(':') as [string, string]
  const settings = loadSettings({...process.env, FAAS_TARGET: 'local'})
  const request = (extra: {provisioned?: number; reservedConcurrency?: number; publish?: boolean}) => ({
    repository,
    tag,
    functionName: 'pub-provisioned',
    policies: [],
    env: {},
    handler: 'handler.probe',
    publish: true,
    alias: 'live',
    ...extra,
  })
  const refused = (extra: Parameters<typeof request>[0]) =>
    deploy(target, settings, request(extra), quiet).then(
      () => undefined,
      (error: Error) => error.message,
    )
  assert.match((await refused({provisioned: 3, reservedConcurrency: 2})) ?? '', /above the reserved concurrency 2/)
  assert.match((await refused({provisioned: 1, publish: false})) ?? '', /--publish was not given/)
  assert.not.ok(ctx.service.functions.has('pub-provisioned'), 'nothing was deployed')
  const first = (await deploy(target, settings, request({provisioned: 1, reservedConcurrency: 2}), quiet)).functions[0]!
  assert.equal(first.provisioned, {qualifier: 'live', requested: 1, status: 'READY'})
  assert.ok(first.changed.includes('provisioned'), first.changed.join())
  const out = await ctx.lambda.send(
    new InvokeCommand({
      FunctionName: 'pub-provisioned',
      Qualifier: 'live',
      Payload: Buffer.from(JSON.stringify({secret_env: 'AWS_LAMBDA_INITIALIZATION_TYPE'})),
    }),
  )
  assert.is(JSON.parse(Buffer.from(out.Payload!).toString()).secret_env, 'provisioned-concurrency')
  const again = (await deploy(target, settings, request({provisioned: 1, reservedConcurrency: 2}), quiet)).functions[0]!
  assert.equal([again.action, again.changed, again.provisioned?.status], ['unchanged', [], 'READY'])
})

/** Puts an image manifest under repository:tag in moto's ECR, as a push would. */
async function pushImage(ecr: ECRClient, repository: string, tag: string, seed: string): Promise<void> {
  await ecr.send(new CreateRepositoryCommand({repositoryName: repository})).catch((e) => {
    if (e.name !== 'RepositoryAlreadyExistsException') throw e
  })
  const digest = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1000, digest: digest(seed)},
    layers: [{mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1000, digest: digest(`${seed}-l`)}],
  })
  await ecr.send(new PutImageCommand({repositoryName: repository, imageTag: tag, imageManifest: manifest}))
}

test('AWS (moto): deploy --publish --alias through the CLI, idempotent, --json names version and alias', async () => {
  const moto = await startMoto()
  const env = {
    ...motoEnv(),
    AWS_ENDPOINT_URL: moto.url,
    FAAS_TARGET: 'aws',
    FAAS_REGISTRY: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  }
  try {
    await publishOnMoto(env)
  } finally {
    await moto.stop()
  }
})

async function publishOnMoto(env: Record<string, string | undefined>): Promise<void> {
  const config = {
    endpoint: env.AWS_ENDPOINT_URL!,
    region: 'us-east-1',
    credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'},
  }
  const name = `pub-${process.pid}`
  await pushImage(new ECRClient(config), name, 'v1', `${name}-1`)
  const seed = ['deploy', '--repo_name', name, '--repo_tag', 'v1', '--function_name', name, '--arch', 'x86_64']
  for (const [args, pattern] of [
    [['--alias', 'live'], /--publish was not given/],
    [['--publish', '--alias', '123'], /alias name "123" is not valid/],
    [['--publish', '--alias', 'live', '--alias-weight', '1=1.5'], /not a version and a weight from 0 to 1/],
  ] as Array<[string[], RegExp]>)
    assertUserError(await faas([...seed, ...args], {env}), pattern)
  const lambda = new LambdaClient(config)
  const exists = await lambda.send(new GetFunctionCommand({FunctionName: name})).then(
    () => true,
    () => false,
  )
  assert.not.ok(exists, 'bad input created nothing')
  const first = await faasJson([...seed, '--publish', '--alias', 'live'], {env})
  assert.is(first.exitCode, 0, first.stdout)
  assert.is(first.result.functions[0].version, '1')
  assert.equal(first.result.functions[0].alias, {name: 'live', version: '1', weights: {}})
  const again = await faasJson([...seed, '--publish', '--alias', 'live'], {env})
  assert.equal(
    [again.result.functions[0].action, again.result.functions[0].changed, again.result.functions[0].version],
    ['unchanged', [], '1'],
  )
  const canary = await faasJson(
    [...seed, '--envmap', '{"K":"2"}', '--publish', '--alias', 'live', '--alias-weight', '1=0.9'],
    {env},
  )
  assert.is(canary.exitCode, 0, canary.stdout)
  assert.equal(
    [canary.result.functions[0].version, canary.result.functions[0].changed],
    ['2', ['env', 'version', 'alias']],
  )
  const alias = await lambda.send(new GetAliasCommand({FunctionName: name, Name: 'live'}))
  assert.equal([alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights], ['2', {'1': 0.9}])
  const missing = await faas(
    [...seed, '--envmap', '{"K":"2"}', '--publish', '--alias', 'live', '--alias-weight', '9=0.5'],
    {env},
  )
  assertUserError(missing, /names version 9 of .*, which does not exist/)
  const versions = await lambda.send(new ListVersionsByFunctionCommand({FunctionName: name}))
  assert.equal(
    versions.Versions?.map((v) => v.Version),
    ['$LATEST', '1', '2'],
    'no version was added',
  )
}

test.run()
