import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  ListFunctionUrlConfigsCommand,
  RemovePermissionCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {silent} from '../../src/core/events.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {loadFunctions} from '../../src/local/function-store.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** The Function URL control plane of the local service, through the JS SDK, boto3 and the AWS CLI. */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string; dir: string}>('local URL API')
const engine = new DockerEngine()
const PYTHON = '/var/lib/faas-stack/venv/bin/python'

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine, 'urls')
  ctx.dir = await mkdtemp(join(tmpdir(), 'faas-urls-api-'))
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: join(ctx.dir, 'functions.json')}).start()
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  await ctx.service?.close()
  await rm(ctx.dir, {recursive: true, force: true})
})

const create = (ctx: {lambda: LambdaClient; image: string}, name: string, handler = 'handler.trivial') =>
  ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: ctx.image},
      ImageConfig: {Command: [handler]},
    }),
  )

/** The error name an SDK call fails with ('' when it succeeds). */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => '',
    (error: Error) => `${error.name}: ${error.message}`,
  )

const allowPublic = async (lambda: LambdaClient, name: string) => {
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: name,
      StatementId: 'FunctionURLAllowPublicAccess',
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    }),
  )
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: name,
      StatementId: 'FunctionURLInvokeAllowPublicAccess',
      Action: 'lambda:InvokeFunction',
      Principal: '*',
      InvokedViaFunctionUrl: true,
    }),
  )
}

test('create, get, update, list and delete a URL config as Lambda answers them', async (ctx) => {
  await create(ctx, 'crud')
  const cors = {AllowOrigins: ['http://localhost:3000'], AllowMethods: ['GET', 'POST'], MaxAge: 60}
  const made = await ctx.lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'crud', AuthType: 'NONE', Cors: cors}),
  )
  assert.is(made.$metadata.httpStatusCode, 201)
  assert.match(made.FunctionUrl!, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  assert.is(made.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:crud')
  assert.equal([made.AuthType, made.InvokeMode, made.Cors], ['NONE', 'BUFFERED', cors])
  const got = await ctx.lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'crud', Qualifier: '$LATEST'}))
  assert.equal([got.FunctionUrl, got.CreationTime], [made.FunctionUrl, made.CreationTime])
  assert.ok(got.LastModifiedTime)
  assert.match(
    await failure(ctx.lambda.send(new CreateFunctionUrlConfigCommand({FunctionName: 'crud', AuthType: 'NONE'}))),
    /^ResourceConflictException: .*FunctionUrlConfig exists/,
  )
  const updated = await ctx.lambda.send(
    new UpdateFunctionUrlConfigCommand({FunctionName: 'crud', AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM'}),
  )
  assert.equal([updated.AuthType, updated.InvokeMode, updated.Cors], ['AWS_IAM', 'RESPONSE_STREAM', cors])
  assert.is(updated.FunctionUrl, made.FunctionUrl, 'the URL stays')
  const listed = await ctx.lambda.send(new ListFunctionUrlConfigsCommand({FunctionName: 'crud', MaxItems: 1}))
  assert.equal(
    listed.FunctionUrlConfigs?.map((c) => [c.FunctionUrl, c.AuthType]),
    [[made.FunctionUrl, 'AWS_IAM']],
  )
  assert.is(listed.NextMarker, undefined)
  const health = ctx.service.health() as {urls: Array<{function: string; url: string}>}
  assert.ok(
    health.urls.some((u) => u.function === 'crud' && u.url === made.FunctionUrl),
    'health lists the URL',
  )
  await ctx.lambda.send(new DeleteFunctionUrlConfigCommand({FunctionName: 'crud'}))
  assert.match(
    await failure(ctx.lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'crud'}))),
    /^ResourceNotFoundException/,
  )
  assert.ok(
    await fetch(made.FunctionUrl!).then(
      () => false,
      () => true,
    ),
    'the deleted URL no longer listens',
  )
})

test('bad input gets Lambda-shaped errors and leaves nothing half made', async (ctx) => {
  await create(ctx, 'checks')
  const tries: Array<[Record<string, unknown>, RegExp]> = [
    [{AuthType: 'OPEN'}, /InvalidParameterValueException: .*authType.*\[AWS_IAM, NONE\]/],
    [{AuthType: 'NONE', Qualifier: '1'}, /InvalidParameterValueException: .*qualifier.*never a version/],
    [{AuthType: 'NONE', Qualifier: 'live'}, /ResourceNotFoundException: Function not found: .*:checks:live/],
    [{AuthType: 'NONE', InvokeMode: 'STREAMED'}, /InvalidParameterValueException: .*invokeMode/],
    [{AuthType: 'NONE', Cors: {AllowOrigins: ['example.com']}}, /"example.com" is not an origin/],
    [{AuthType: 'NONE', Cors: {AllowOrigins: ['https://a.example/path']}}, /is not an origin/],
    [
      {AuthType: 'NONE', Cors: {AllowMethods: ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'DELETE', '*']}},
      /less than or equal to 6/,
    ],
    [{AuthType: 'NONE', Cors: {AllowMethods: ['FETCH']}}, /"FETCH" is not one of/],
    [{AuthType: 'NONE', Cors: {MaxAge: 86401}}, /cors.maxAge/],
    [{AuthType: 'NONE', Cors: {AllowHeaders: ['bad header']}}, /not an HTTP header name/],
    [
      {AuthType: 'NONE', Cors: {AllowOrigins: Array.from({length: 101}, (_, i) => `https://o${i}.example`)}},
      /less than or equal to 100/,
    ],
    [{AuthType: 'NONE', FunctionName: 'ghost'}, /ResourceNotFoundException: Function not found: .*function:ghost/],
  ]
  for (const [input, expected] of tries) {
    const call = ctx.lambda.send(new CreateFunctionUrlConfigCommand({FunctionName: 'checks', ...input} as never))
    assert.match(await failure(call), expected, JSON.stringify(input))
  }
  assert.equal(
    (await ctx.lambda.send(new ListFunctionUrlConfigsCommand({FunctionName: 'checks'}))).FunctionUrlConfigs,
    [],
  )
  assert.ok(!(ctx.service.health() as {urls: Array<{function: string}>}).urls.some((u) => u.function === 'checks'))
  await ctx.lambda.send(new CreateFunctionUrlConfigCommand({FunctionName: 'checks', AuthType: 'NONE', Cors: {}}))
  assert.match(
    await failure(
      ctx.lambda.send(
        new UpdateFunctionUrlConfigCommand({FunctionName: 'checks', AuthType: 'NONE', Cors: {MaxAge: -1}}),
      ),
    ),
    /cors.maxAge/,
  )
  assert.equal((await ctx.lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'checks'}))).Cors, {})
})

test('a NONE URL answers 403 until the policy has both statements Lambda requires since October 2025', async (ctx) => {
  await create(ctx, 'policy')
  const {FunctionUrl: url} = await ctx.lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'policy', AuthType: 'NONE'}),
  )
  assert.is((await fetch(url!)).status, 403, 'no policy')
  assert.match(
    await failure(ctx.lambda.send(new GetPolicyCommand({FunctionName: 'policy'}))),
    /ResourceNotFoundException/,
  )
  await ctx.lambda.send(
    new AddPermissionCommand({
      FunctionName: 'policy',
      StatementId: 'url',
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    }),
  )
  const only = await fetch(url!)
  assert.equal([only.status, await only.json()], [403, {Message: 'Forbidden'}], 'InvokeFunctionUrl alone is not enough')
  await allowPublic(ctx.lambda, 'policy')
  const open = await fetch(url!)
  assert.equal([open.status, await open.text()], [200, 'ok'])
  const policy = JSON.parse((await ctx.lambda.send(new GetPolicyCommand({FunctionName: 'policy'}))).Policy!)
  const invokeStatement = policy.Statement.find((s: {Sid: string}) => s.Sid === 'FunctionURLInvokeAllowPublicAccess')
  assert.equal(invokeStatement, {
    Sid: 'FunctionURLInvokeAllowPublicAccess',
    Effect: 'Allow',
    Principal: '*',
    Action: 'lambda:InvokeFunction',
    Resource: 'arn:aws:lambda:us-east-1:000000000000:function:policy',
    Condition: {Bool: {'lambda:InvokedViaFunctionUrl': 'true'}},
  })
  assert.match(
    await failure(
      ctx.lambda.send(
        new AddPermissionCommand({
          FunctionName: 'policy',
          StatementId: 'url',
          Action: 'lambda:InvokeFunction',
          Principal: '*',
        }),
      ),
    ),
    /ResourceConflictException: The statement id \(url\) provided already exists/,
  )
  assert.match(
    await failure(
      ctx.lambda.send(
        new AddPermissionCommand({
          FunctionName: 'policy',
          StatementId: 'wrong',
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        }),
      ),
    ),
    /InvalidParameterValueException: FunctionUrlAuthType is only supported for the lambda:InvokeFunctionUrl action/,
  )
  await ctx.lambda.send(
    new RemovePermissionCommand({FunctionName: 'policy', StatementId: 'FunctionURLInvokeAllowPublicAccess'}),
  )
  assert.is((await fetch(url!)).status, 403, 'removing the InvokeFunction statement closes the URL again')
  assert.match(
    await failure(ctx.lambda.send(new RemovePermissionCommand({FunctionName: 'policy', StatementId: 'nope'}))),
    /ResourceNotFoundException: Statement nope is not found/,
  )
})

test('a restarted service keeps URLs (same port) and policies; an older state file still loads', async (ctx) => {
  await create(ctx, 'kept')
  const {FunctionUrl: url} = await ctx.lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'kept', AuthType: 'NONE'}),
  )
  await allowPublic(ctx.lambda, 'kept')
  assert.is((await fetch(url!)).status, 200)
  const file = ctx.service.options.functionsFile!
  const secrets = ctx.service.options.secrets
  await ctx.service.close()
  ctx.service = await new LocalService(engine, {port: 0, functionsFile: file, secrets}).start()
  ctx.lambda = lambdaClient(ctx.service)
  const again = await ctx.lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'kept'}))
  assert.is(again.FunctionUrl, url, 'the same URL')
  const res = await fetch(url!)
  assert.equal([res.status, await res.text()], [200, 'ok'], 'it answers, with the policy kept')

  const old = join(ctx.dir, 'old-functions.json')
  const {urls: _u, policies: _p, ...before} = ctx.service.functions.get('kept')!
  await writeFile(old, JSON.stringify({functions: [{...before, env: undefined}]}))
  const [loaded] = loadFunctions(old, secrets.identityKey, silent)
  assert.equal([loaded?.name, loaded?.urls, loaded?.policies], ['kept', undefined, undefined])
})

test('deleting a function closes its URLs', async (ctx) => {
  await create(ctx, 'dropped')
  const {FunctionUrl: url} = await ctx.lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'dropped', AuthType: 'NONE'}),
  )
  assert.is((await fetch(url!)).status, 403)
  await ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'dropped'}))
  assert.ok(
    await fetch(url!).then(
      () => false,
      () => true,
    ),
    'nothing listens on the URL',
  )
})

test('boto3 manages a URL and its permissions unchanged', async (ctx) => {
  await create(ctx, 'boto')
  const script = `
import json, sys, urllib.request, urllib.error
import boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                 aws_secret_access_key=sys.argv[3])
cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET"]}
url = c.create_function_url_config(FunctionName="boto", AuthType="NONE", Cors=cors)["FunctionUrl"]
def status():
    try:
        return urllib.request.urlopen(url).status
    except urllib.error.HTTPError as e:
        return e.code
before = status()
c.add_permission(FunctionName="boto", StatementId="u", Action="lambda:InvokeFunctionUrl", Principal="*",
                 FunctionUrlAuthType="NONE")
c.add_permission(FunctionName="boto", StatementId="i", Action="lambda:InvokeFunction", Principal="*",
                 InvokedViaFunctionUrl=True)
after = status()
policy = json.loads(c.get_policy(FunctionName="boto")["Policy"])
listed = c.list_function_url_configs(FunctionName="boto")["FunctionUrlConfigs"]
c.delete_function_url_config(FunctionName="boto")
try:
    c.get_function_url_config(FunctionName="boto")
    missing = ""
except c.exceptions.ResourceNotFoundException as e:
    missing = e.response["Error"]["Code"]
print(json.dumps({"url": url, "before": before, "after": after, "sids": [s["Sid"] for s in policy["Statement"]],
                  "listed": [u["FunctionUrl"] for u in listed], "missing": missing}))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const run = await execa(PYTHON, ['-c', script, ctx.service.url, accessKeyId, secretAccessKey])
  const out = JSON.parse(run.stdout)
  assert.equal(
    {...out, url: undefined},
    {
      url: undefined,
      before: 403,
      after: 200,
      sids: ['u', 'i'],
      listed: [out.url],
      missing: 'ResourceNotFoundException',
    },
  )
})

/** The AWS CLI (PyPI `awscli`) in a venv: FAAS_TEST_AWS_CLI names its `aws`, else one on PATH. */
function awsCli(): string | undefined {
  const given = process.env.FAAS_TEST_AWS_CLI
  if (given) return given
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, 'aws'))) return join(dir, 'aws')
  return undefined
}

test('the AWS CLI creates a URL, opens it and reads it back', async (ctx) => {
  const aws = awsCli()
  if (!aws) {
    console.log('  (skipped: no AWS CLI; pip install awscli into a venv and set FAAS_TEST_AWS_CLI to its bin/aws)')
    return
  }
  await create(ctx, 'cli')
  const env = {
    AWS_ACCESS_KEY_ID: ctx.service.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.service.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  }
  const cli = async (...args: string[]) =>
    JSON.parse(
      (await execa(aws, ['lambda', ...args, '--endpoint-url', ctx.service.url, '--output', 'json'], {env})).stdout ||
        '{}',
    )
  const made = await cli(
    'create-function-url-config',
    '--function-name',
    'cli',
    '--auth-type',
    'NONE',
    '--cors',
    'AllowOrigins=https://a.example,MaxAge=30',
  )
  await cli(
    'add-permission',
    '--function-name',
    'cli',
    '--statement-id',
    'u',
    '--action',
    'lambda:InvokeFunctionUrl',
    '--principal',
    '*',
    '--function-url-auth-type',
    'NONE',
  )
  await cli(
    'add-permission',
    '--function-name',
    'cli',
    '--statement-id',
    'i',
    '--action',
    'lambda:InvokeFunction',
    '--principal',
    '*',
    '--invoked-via-function-url',
  )
  const res = await fetch(made.FunctionUrl)
  assert.equal([res.status, await res.text()], [200, 'ok'])
  const got = await cli('get-function-url-config', '--function-name', 'cli')
  assert.equal([got.FunctionUrl, got.Cors], [made.FunctionUrl, {AllowOrigins: ['https://a.example'], MaxAge: 30}])
  await cli('delete-function-url-config', '--function-name', 'cli')
  assert.equal((await cli('list-function-url-configs', '--function-name', 'cli')).FunctionUrlConfigs, [])
})

test.run()
