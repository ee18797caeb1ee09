// A benchmark's routes on AWS: deploy --target aws makes an API Gateway HTTP API (integrations, routes, an
// auto-deployed stage, API Gateway's permission on the function) against our own moto, a second deploy writes
// nothing, a changed spec converges, and destroy removes the API and the permission.
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  DeleteApiCommand,
  GetApisCommand,
  GetIntegrationsCommand,
  GetRoutesCommand,
  GetStagesCommand,
} from '@aws-sdk/client-apigatewayv2'
import {CreateRepositoryCommand, ECRClient, PutImageCommand} from '@aws-sdk/client-ecr'
import {GetFunctionCommand, GetPolicyCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {createHash} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {createAwsClients, type AwsClients} from '../../src/aws/clients.js'
import {loadSettings} from '../../src/core/settings.js'
import {deploy} from '../../src/services/deploy.js'
import {AwsTarget} from '../../src/targets/aws.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {startMoto} from '../helpers/moto.js'

const ACCOUNT = '123456789012'
const FN = 'hotel-reservation-frontend'

const moto = await startMoto()
const env = {
  AWS_ENDPOINT_URL: moto.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_ACCOUNT_ID: ACCOUNT,
  FAAS_TARGET: 'aws',
  FAAS_REGISTRY: undefined,
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  AWS_EC2_METADATA_DISABLED: 'true',
}
// uvu imports every file of the suite before it runs any test: our env is set for our tests only (test.before) and
// restored afterwards, and our own clients name our moto, whatever other files put in the env meanwhile.
let savedEnv: NodeJS.ProcessEnv = {}
let settings: ReturnType<typeof loadSettings>
test.before(() => {
  savedEnv = {...process.env}
  Object.assign(process.env, env)
  delete process.env.FAAS_REGISTRY
  settings = loadSettings(process.env)
})

const sdk = {region: 'us-east-1', endpoint: moto.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}}
const apigw = new ApiGatewayV2Client(sdk)
const lambda = new LambdaClient(sdk)
const ecr = new ECRClient(sdk)
const quiet = () => {}

/** Clients that record every command name sent (Lambda and API Gateway), to tell reads from writes. */
function recordingClients(): AwsClients & {sent: string[]} {
  const clients = createAwsClients(settings)
  const sent: string[] = []
  const record = {step: 'initialize', name: 'recordCommands'} as const
  for (const client of [clients.ecr, clients.iam, clients.lambda])
    client.middlewareStack.add(
      (next, context) => (args) => (sent.push(String(context.commandName)), next(args)),
      record,
    )
  clients.apigateway.middlewareStack.add(
    (next, context) => (args) => (sent.push(String(context.commandName)), next(args)),
    record,
  )
  return Object.assign(clients, {sent})
}
const writesOf = (sent: string[]) => sent.filter((c) => !/^(Get|List|Describe|BatchGet)/.test(c))

/** The HTTP API as the SDK reads it: routes (key → function ARN and payload format), stages, API statements. */
async function read(name: string) {
  const apis = ((await apigw.send(new GetApisCommand({}))).Items ?? []).filter((a) => a.Name === name)
  if (apis.length === 0) return undefined
  assert.is(apis.length, 1, 'one API per benchmark')
  const api = apis[0]!
  const integrations = (await apigw.send(new GetIntegrationsCommand({ApiId: api.ApiId!}))).Items ?? []
  const routes = (await apigw.send(new GetRoutesCommand({ApiId: api.ApiId!}))).Items ?? []
  const stages = (await apigw.send(new GetStagesCommand({ApiId: api.ApiId!}))).Items ?? []
  const byId = new Map(integrations.map((i) => [`integrations/${i.IntegrationId}`, i]))
  return {
    api,
    integrations: integrations.map((i) => [i.IntegrationType, i.IntegrationUri, i.PayloadFormatVersion]).sort(),
    routes: routes
      .map((r) => {
        const i = byId.get(r.Target!)
        return [r.RouteKey, i?.IntegrationType, i?.IntegrationUri, i?.PayloadFormatVersion]
      })
      .sort(),
    stages: stages.map((s) => [s.StageName, s.AutoDeploy]),
  }
}

async function apiStatements(fn: string) {
  const policy = await lambda.send(new GetPolicyCommand({FunctionName: fn})).then(
    (out) => JSON.parse(out.Policy!) as {Statement: any[]},
    (e: Error) => {
      if (e.name === 'ResourceNotFoundException') return {Statement: []}
      throw e
    },
  )
  return policy.Statement.filter((s) => String(s.Sid).startsWith('faas-api-'))
}

test.after(async () => {
  process.env = savedEnv
  await moto.stop()
})

let functionArn = ''
let apiId = ''

test('deploy hotel-reservation --target aws: the HTTP API, its route, stage and permission, printed', async () => {
  await ecr.send(new CreateRepositoryCommand({repositoryName: FN}))
  const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`
  await ecr.send(
    new PutImageCommand({
      repositoryName: FN,
      imageTag: 'v1',
      imageManifest: JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1000, digest: digest('c')},
        layers: [{mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1000, digest: digest('l')}],
      }),
    }),
  )
  const run = await faasJson(['deploy', 'hotel-reservation', '--tag', 'v1'], {env})
  assert.is(run.exitCode, 0, run.stderr)
  assert.not.match(run.stderr, /not deployed/)
  functionArn = (await lambda.send(new GetFunctionCommand({FunctionName: FN}))).Configuration!.FunctionArn!
  const got = await read('hotel-reservation')
  assert.ok(got, 'the API exists')
  apiId = got.api.ApiId!
  assert.is(got.api.ProtocolType, 'HTTP')
  assert.is(got.api.Tags?.['managed-by'], 'faas')
  assert.equal(got.integrations, [['AWS_PROXY', functionArn, '1.0']])
  assert.equal(got.routes, [['POST /stateflow', 'AWS_PROXY', functionArn, '1.0']])
  assert.equal(got.stages, [['dev', true]])
  const statements = await apiStatements(FN)
  assert.is(statements.length, 1)
  assert.is(statements[0].Action, 'lambda:InvokeFunction')
  assert.match(JSON.stringify(statements[0].Principal), 'apigateway.amazonaws.com')
  assert.equal(statements[0].Condition.ArnLike['AWS:SourceArn'], `arn:aws:execute-api:us-east-1:${ACCOUNT}:${apiId}/*`)

  const api = run.result.api
  assert.is(api.url, `${got.api.ApiEndpoint}/dev`)
  assert.equal(
    [api.name, api.stage, api.action, api.routes],
    ['hotel-reservation', 'dev', 'created', [{routeKey: 'POST /stateflow', function: FN, payloadFormat: '1.0'}]],
  )
  // The text output prints the endpoint as the local target does.
  const text = await faas(['deploy', 'hotel-reservation', '--tag', 'v1'], {env})
  assert.is(text.exitCode, 0, text.stderr)
  assert.match(text.stdout, `API ${api.url}\n  POST /stateflow\t${FN}\t(payload 1.0)`)
})

test('a second deploy writes nothing', async () => {
  const clients = recordingClients()
  const target = new AwsTarget({clients, settings})
  const result = await deploy(target, settings, {benchmark: 'hotel-reservation', tag: 'v1'}, quiet)
  assert.equal([result.api?.action, result.api?.changed], ['unchanged', []])
  assert.equal(writesOf(clients.sent), [])
  assert.ok(clients.sent.includes('GetRoutesCommand'), 'the API was read')
})

test('a changed spec converges: new routes and formats added, stale ones and their integration removed', async () => {
  const clients = recordingClients()
  const target = new AwsTarget({clients, settings})
  const spec = {
    stage: '$default',
    routes: [
      {routeKey: 'GET /items/{id}', function: FN, payloadFormat: '2.0' as const},
      {routeKey: 'ANY /{proxy+}', function: FN, payloadFormat: '2.0' as const},
      {routeKey: '$default', function: FN, payloadFormat: '1.0' as const},
      {routeKey: 'GET /elsewhere', function: 'not-deployed', payloadFormat: '2.0' as const},
    ],
  }
  const warnings: string[] = []
  const changed = await target.ensureApi('hotel-reservation', spec, (e) => {
    if (e.kind === 'warn') warnings.push(e.message)
  })
  assert.equal(warnings, [
    'routes to not-deployed are left out of the HTTP API: not-deployed is not deployed (deploy it, then deploy again)',
  ])
  assert.equal(
    changed.routes.map((r) => r.routeKey),
    ['GET /items/{id}', 'ANY /{proxy+}', '$default'],
  )
  assert.is(changed.action, 'updated')
  assert.equal(changed.changed?.sort(), ['integrations', 'routes', 'stage'])
  const got = (await read('hotel-reservation'))!
  assert.is(got.api.ApiId, apiId, 'the same API')
  assert.equal(changed.url, `${got.api.ApiEndpoint}/`)
  assert.equal(got.integrations, [
    ['AWS_PROXY', functionArn, '1.0'],
    ['AWS_PROXY', functionArn, '2.0'],
  ])
  assert.equal(got.routes, [
    ['$default', 'AWS_PROXY', functionArn, '1.0'],
    ['ANY /{proxy+}', 'AWS_PROXY', functionArn, '2.0'],
    ['GET /items/{id}', 'AWS_PROXY', functionArn, '2.0'],
  ])
  assert.equal(got.stages, [['$default', true]])
  assert.is((await apiStatements(FN)).length, 1, 'the permission stays')

  clients.sent.length = 0
  const again = await target.ensureApi('hotel-reservation', spec, quiet)
  assert.equal([again.action, writesOf(clients.sent)], ['unchanged', []])
  // Back to the manifest's API for what follows.
  const back = await deploy(target, settings, {benchmark: 'hotel-reservation', tag: 'v1'}, quiet)
  assert.is(back.api?.action, 'updated')
  assert.equal((await read('hotel-reservation'))!.routes, [['POST /stateflow', 'AWS_PROXY', functionArn, '1.0']])
})

test('destroy removes the API and the permission, and is idempotent', async () => {
  const gone = await faasJson(['destroy', 'hotel-reservation', '--yes'], {env})
  assert.is(gone.exitCode, 0, gone.stderr)
  assert.equal(gone.result.outcomes[0], {name: 'hotel-reservation', kind: 'api', action: 'deleted'})
  assert.is(await read('hotel-reservation'), undefined)
  const again = await faasJson(['destroy', 'hotel-reservation', '--yes'], {env})
  assert.equal(again.result.outcomes[0], {name: 'hotel-reservation', kind: 'api', action: 'absent'})
})

test("destroy of the API alone removes API Gateway's permission from a function that stays", async () => {
  const target = new AwsTarget({clients: createAwsClients(settings), settings})
  const {functions} = await deploy(target, settings, {benchmark: 'hotel-reservation', tag: 'v1'}, quiet)
  assert.is(functions[0]!.action, 'created')
  assert.is((await apiStatements(FN)).length, 1)
  assert.equal(await target.destroyApi('hotel-reservation', quiet), {
    name: 'hotel-reservation',
    kind: 'api',
    action: 'deleted',
  })
  assert.equal(await apiStatements(FN), [])
  assert.is(await read('hotel-reservation'), undefined)
})

test('an API of the same name that faas did not make: refused before anything is made, left as it is', async () => {
  await new AwsTarget({clients: createAwsClients(settings), settings}).destroy([FN], {roles: true}, quiet)
  const theirs = await apigw.send(new CreateApiCommand({Name: 'hotel-reservation', ProtocolType: 'HTTP'}))
  const run = await faas(['deploy', 'hotel-reservation', '--tag', 'v1'], {env})
  assertUserError(run, /An HTTP API named hotel-reservation \(\w+\) exists that faas did not create/)
  const got = (await read('hotel-reservation'))!
  assert.equal([got.api.ApiId, got.routes], [theirs.ApiId, []])
  const fn = await lambda.send(new GetFunctionCommand({FunctionName: FN})).then(
    () => 'there',
    (e: Error) => e.name,
  )
  assert.is(fn, 'ResourceNotFoundException', 'no function was deployed')
  await apigw.send(new DeleteApiCommand({ApiId: theirs.ApiId!}))
})

test.run()
