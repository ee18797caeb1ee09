import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** Versions, aliases and qualified invokes on the local service, through the JS SDK (boto3: local-versions-boto3). */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string; digest: string; home: string}>(
  'local versions and aliases',
)
const engine = new DockerEngine()

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.digest = (await engine.inspectImage(ctx.image))!.id
  ctx.home = mkdtempSync(join(tmpdir(), 'faas-versions-'))
  ctx.service = await new LocalService(engine, {
    port: 0,
    idleTimeoutMs: 60_000,
    functionsFile: join(ctx.home, 'functions.json'),
  }).start()
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  const id = ctx.service?.options.instanceId
  await ctx.service?.close()
  if (id) assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() removes every container')
})

async function create(ctx: {lambda: LambdaClient; image: string}, name: string, setting: string) {
  return ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: ctx.image},
      ImageConfig: {Command: ['handler.env']},
      MemorySize: 256,
      Timeout: 30,
      Environment: {Variables: {MY_SETTING: setting}},
    }),
  )
}

const setTo = (ctx: {lambda: LambdaClient}, name: string, setting: string, revisionId?: string) =>
  ctx.lambda.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: name,
      Environment: {Variables: {MY_SETTING: setting}},
      RevisionId: revisionId,
    }),
  )

async function invoke(ctx: {lambda: LambdaClient}, name: string, qualifier?: string) {
  const out = await ctx.lambda.send(
    new InvokeCommand({FunctionName: name, Qualifier: qualifier, Payload: Buffer.from('{}'), LogType: 'Tail'}),
  )
  return {
    json: JSON.parse(Buffer.from(out.Payload!).toString('utf8')),
    executed: out.ExecutedVersion,
    log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'),
  }
}

/** The error an SDK call fails with (name and message), or undefined when it succeeds. */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: Error) => ({name: error.name, message: error.message}),
  )

test('PublishVersion freezes code and configuration under 1, 2, …; unchanged, it returns the last one', async (ctx) => {
  const created = await create(ctx, 'pub', 'one')
  assert.is(created.CodeSha256, ctx.digest.replace('sha256:', ''), 'CodeSha256 is the image digest')
  assert.ok(created.RevisionId, 'a RevisionId')
  const code = await ctx.lambda.send(new GetFunctionCommand({FunctionName: 'pub'}))
  assert.is(code.Code?.ImageUri, ctx.image)
  assert.is(code.Code?.ResolvedImageUri, `${ctx.image.split(':')[0]}@${ctx.digest}`, 'names the digest')
  const v1 = await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'pub', Description: 'first'}))
  assert.is(v1.Version, '1')
  assert.is(v1.FunctionArn, `${created.FunctionArn}:1`)
  assert.is(v1.Description, 'first')
  assert.is(v1.CodeSha256, created.CodeSha256)
  assert.is((await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'pub'}))).Version, '1', 'nothing changed')
  const updated = await setTo(ctx, 'pub', 'two')
  assert.is.not(updated.RevisionId, created.RevisionId, 'a change gets a fresh RevisionId')
  const v2 = await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'pub'}))
  assert.is(v2.Version, '2')
  const listed = await ctx.lambda.send(new ListVersionsByFunctionCommand({FunctionName: 'pub'}))
  assert.equal(
    listed.Versions?.map((v) => [v.Version, v.Environment?.Variables?.MY_SETTING]),
    [
      ['$LATEST', 'two'],
      ['1', 'one'],
      ['2', 'two'],
    ],
  )
  const one = await ctx.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'pub', Qualifier: '1'}))
  assert.is(one.Environment?.Variables?.MY_SETTING, 'one', 'version 1 kept its configuration')
  const byArn = await ctx.lambda.send(new GetFunctionCommand({FunctionName: `${created.FunctionArn}:2`}))
  assert.is(byArn.Configuration?.Version, '2')
  assert.is(byArn.Code?.ResolvedImageUri, code.Code?.ResolvedImageUri)
})

test('Publish on CreateFunction and UpdateFunctionCode answers with the version it published', async (ctx) => {
  const created = await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'born-published',
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: ctx.image},
      ImageConfig: {Command: ['handler.env']},
      Publish: true,
    }),
  )
  assert.equal([created.Version, created.FunctionArn?.endsWith(':born-published:1')], ['1', true])
  const again = await ctx.lambda.send(
    new UpdateFunctionCodeCommand({FunctionName: 'born-published', ImageUri: ctx.image, Publish: true}),
  )
  assert.is(again.Version, '1', 'the same image and configuration: no new version')
  const latest = await ctx.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'born-published'}))
  assert.is(latest.Version, '$LATEST')
})

test('each version runs in its own environments with its own configuration; the response names it', async (ctx) => {
  await create(ctx, 'iso', 'one')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'iso'}))
  await setTo(ctx, 'iso', 'two')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'iso'}))
  await setTo(ctx, 'iso', 'three')
  const [v1, v2, latest] = await Promise.all([invoke(ctx, 'iso', '1'), invoke(ctx, 'iso', '2'), invoke(ctx, 'iso')])
  assert.equal([v1.json.MY_SETTING, v1.json.AWS_LAMBDA_FUNCTION_VERSION, v1.executed], ['one', '1', '1'])
  assert.equal([v2.json.MY_SETTING, v2.json.AWS_LAMBDA_FUNCTION_VERSION, v2.executed], ['two', '2', '2'])
  assert.equal(
    [latest.json.MY_SETTING, latest.json.AWS_LAMBDA_FUNCTION_VERSION, latest.executed],
    ['three', '$LATEST', '$LATEST'],
  )
  assert.match(v1.log, /^START RequestId: \S+ Version: 1$/m)
  assert.match(latest.log, /^START RequestId: \S+ Version: \$LATEST$/m)
  const arn = `arn:aws:lambda:us-east-1:000000000000:function:iso:2`
  assert.equal((await invoke(ctx, arn)).json.MY_SETTING, 'two', 'a qualified ARN')
  assert.equal((await invoke(ctx, 'iso:1')).executed, '1', 'a qualified name')
  assert.equal((await invoke(ctx, 'iso', '$LATEST')).executed, '$LATEST')
  const containers = ['iso', 'iso:1', 'iso:2'].map((key) => [...ctx.service.pools.get(key)!.envs][0]!.containerId)
  assert.is(new Set(containers).size, 3, 'no environment is shared between versions')
  // Changing $LATEST retires its environments only: a version's stay warm.
  await setTo(ctx, 'iso', 'four')
  assert.is((await invoke(ctx, 'iso', '1')).json.MY_SETTING, 'one')
  assert.is([...ctx.service.pools.get('iso:1')!.envs][0]!.containerId, containers[1])
})

test('RevisionId preconditions: a stale one is PreconditionFailedException and changes nothing', async (ctx) => {
  const created = await create(ctx, 'rev', 'one')
  const fresh = await setTo(ctx, 'rev', 'two', created.RevisionId)
  for (const call of [
    setTo(ctx, 'rev', 'three', created.RevisionId),
    ctx.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'rev', ImageUri: ctx.image, RevisionId: 'stale'})),
    ctx.lambda.send(new PublishVersionCommand({FunctionName: 'rev', RevisionId: created.RevisionId})),
  ]) {
    const error = await failure(call)
    assert.is(error?.name, 'PreconditionFailedException')
    assert.match(error!.message, /The Revision Id provided does not match the latest Revision Id/)
  }
  const now = await ctx.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'rev'}))
  assert.is(now.Environment?.Variables?.MY_SETTING, 'two')
  assert.is(now.RevisionId, fresh.RevisionId)
  const v1 = await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'rev', RevisionId: fresh.RevisionId}))
  assert.is(v1.Version, '1')
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'rev', Name: 'live', FunctionVersion: '1'}))
  const alias = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'rev', Name: 'live'}))
  assert.is(
    (await failure(ctx.lambda.send(new UpdateAliasCommand({FunctionName: 'rev', Name: 'live', RevisionId: 'x'}))))
      ?.name,
    'PreconditionFailedException',
  )
  const moved = await ctx.lambda.send(
    new UpdateAliasCommand({FunctionName: 'rev', Name: 'live', Description: 'd', RevisionId: alias.RevisionId}),
  )
  assert.is.not(moved.RevisionId, alias.RevisionId)
})

test('aliases: create, get, list, update, delete; calls split by the routing weights', async (ctx) => {
  await create(ctx, 'canary', 'blue')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'canary'}))
  await setTo(ctx, 'canary', 'green')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'canary'}))
  const created = await ctx.lambda.send(
    new CreateAliasCommand({
      FunctionName: 'canary',
      Name: 'live',
      FunctionVersion: '1',
      Description: 'production',
      RoutingConfig: {AdditionalVersionWeights: {'2': 0.3}},
    }),
  )
  assert.is(created.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:canary:live')
  assert.equal(created.RoutingConfig?.AdditionalVersionWeights, {'2': 0.3})
  const got = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'canary', Name: 'live'}))
  assert.equal([got.FunctionVersion, got.Description, got.RevisionId], ['1', 'production', created.RevisionId])
  const n = 200
  const runs = []
  for (let i = 0; i < n; i++) runs.push(await invoke(ctx, 'canary', 'live'))
  for (const run of runs) assert.is(run.json.AWS_LAMBDA_FUNCTION_VERSION, run.executed, 'the version that ran')
  const green = runs.filter((r) => r.executed === '2').length
  assert.equal(new Set(runs.map((r) => `${r.executed}=${r.json.MY_SETTING}`)), new Set(['1=blue', '2=green']))
  // Binomial(200, 0.3): mean 60, sd 6.5; ±5 sd fails a correct split about once in 3.5 million runs.
  assert.ok(Math.abs(green - n * 0.3) <= 5 * Math.sqrt(n * 0.3 * 0.7), `${green} of ${n} calls ran version 2`)
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'canary', Name: 'dev', FunctionVersion: '$LATEST'}))
  const listed = await ctx.lambda.send(new ListAliasesCommand({FunctionName: 'canary'}))
  assert.equal(listed.Aliases?.map((a) => a.Name).sort(), ['dev', 'live'])
  const onTwo = await ctx.lambda.send(new ListAliasesCommand({FunctionName: 'canary', FunctionVersion: '2'}))
  assert.equal(
    onTwo.Aliases?.map((a) => a.Name),
    ['live'],
    'version 2 gets calls through live',
  )
  const promoted = await ctx.lambda.send(
    new UpdateAliasCommand({
      FunctionName: 'canary',
      Name: 'live',
      FunctionVersion: '2',
      RoutingConfig: {AdditionalVersionWeights: {}},
    }),
  )
  assert.is(promoted.RoutingConfig, undefined)
  assert.is(promoted.Description, 'production', 'kept')
  assert.is((await invoke(ctx, 'canary', 'live')).executed, '2')
  assert.is((await invoke(ctx, 'canary', 'dev')).executed, '$LATEST')
  await ctx.lambda.send(new DeleteAliasCommand({FunctionName: 'canary', Name: 'dev'}))
  await ctx.lambda.send(new DeleteAliasCommand({FunctionName: 'canary', Name: 'dev'}))
  const error = await failure(ctx.lambda.send(new GetAliasCommand({FunctionName: 'canary', Name: 'dev'})))
  assert.equal(error, {
    name: 'ResourceNotFoundException',
    message: 'Alias not found: arn:aws:lambda:us-east-1:000000000000:function:canary:dev',
  })
})

test('deleting a version: refused while an alias names it; numbers are never reused', async (ctx) => {
  await create(ctx, 'del', 'a')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))
  await setTo(ctx, 'del', 'b')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'del', Name: 'live', FunctionVersion: '1'}))
  await invoke(ctx, 'del', '2')
  const refused = await failure(ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '1'})))
  assert.equal(refused, {
    name: 'ResourceConflictException',
    message: 'Unable to delete version because the following aliases reference it: [live]',
  })
  const latest = await failure(ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '$LATEST'})))
  assert.is(latest?.name, 'InvalidParameterValueException')
  const pool = ctx.service.pools.get('del:2')!
  await ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '2'}))
  assert.is(pool.envs.size, 0, "the version's environments went with it")
  assert.is(ctx.service.pools.get('del:2'), undefined)
  const gone = await failure(invoke(ctx, 'del', '2'))
  assert.equal(gone, {
    name: 'ResourceNotFoundException',
    message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:del:2',
  })
  await setTo(ctx, 'del', 'c')
  assert.is((await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))).Version, '3', 'not 2 again')
  assert.is((await invoke(ctx, 'del', 'live')).json.MY_SETTING, 'a')
  await ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'del'}))
  assert.equal(
    [...ctx.service.pools.keys()].filter((k) => k.startsWith('del')),
    [],
    'deleting the function closes the pools of all its versions',
  )
})

test('bad input is refused as Lambda words it, and nothing changes', async (ctx) => {
  await create(ctx, 'bad', 'x')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'bad'}))
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'bad', Name: 'live', FunctionVersion: '1'}))
  const before = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'bad', Name: 'live'}))
  for (const qualifier of ['7', 'nope']) {
    const expected = {
      name: 'ResourceNotFoundException',
      message: `Function not found: arn:aws:lambda:us-east-1:000000000000:function:bad:${qualifier}`,
    }
    assert.equal(await failure(invoke(ctx, 'bad', qualifier)), expected)
    assert.equal(
      await failure(ctx.lambda.send(new GetFunctionCommand({FunctionName: 'bad', Qualifier: qualifier}))),
      expected,
    )
  }
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    [
      'weight above 1',
      () =>
        ctx.lambda.send(
          new UpdateAliasCommand({
            FunctionName: 'bad',
            Name: 'live',
            FunctionVersion: '1',
            RoutingConfig: {AdditionalVersionWeights: {'1': 1.5}},
          }),
        ),
      /less than or equal to 1\.0/,
    ],
    [
      'weights on $LATEST',
      () =>
        ctx.lambda.send(
          new UpdateAliasCommand({
            FunctionName: 'bad',
            Name: 'live',
            FunctionVersion: '$LATEST',
            RoutingConfig: {AdditionalVersionWeights: {'1': 0.5}},
          }),
        ),
      /\$LATEST is not supported for an alias pointing to more than 1 version/,
    ],
    [
      'the same version twice',
      () =>
        ctx.lambda.send(
          new UpdateAliasCommand({
            FunctionName: 'bad',
            Name: 'live',
            RoutingConfig: {AdditionalVersionWeights: {'1': 0.5}},
          }),
        ),
      /cannot also be its additional version/,
    ],
    [
      'qualifiers that disagree',
      () => ctx.lambda.send(new InvokeCommand({FunctionName: 'bad:1', Qualifier: 'live'})),
      /derived qualifier from the function name does not match/,
    ],
    [
      'an update of a version',
      () => ctx.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'bad:1', MemorySize: 512})),
      /does not support versions other than \$LATEST/,
    ],
  ]
  for (const [what, call, message] of cases) {
    const error = await failure(call())
    assert.is(error?.name, 'InvalidParameterValueException', what)
    assert.match(error!.message, message, what)
  }
  const exists = await failure(
    ctx.lambda.send(new CreateAliasCommand({FunctionName: 'bad', Name: 'live', FunctionVersion: '1'})),
  )
  assert.is(exists?.name, 'ResourceConflictException')
  const missing = await failure(
    ctx.lambda.send(new CreateAliasCommand({FunctionName: 'bad', Name: 'next', FunctionVersion: '9'})),
  )
  assert.is(missing?.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:bad:9')
  const {$metadata: _after, ...after} = await ctx.lambda.send(new GetAliasCommand({FunctionName: 'bad', Name: 'live'}))
  const {$metadata: _before, ...unchanged} = before
  assert.equal(after, unchanged)
  const aliases = await ctx.lambda.send(new ListAliasesCommand({FunctionName: 'bad'}))
  assert.equal(
    aliases.Aliases?.map((a) => a.Name),
    ['live'],
  )
  const config = await ctx.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'bad', Qualifier: '1'}))
  assert.is(config.MemorySize, 256)
})

test('versions and aliases survive a restart of the service on the same functions file', async (ctx) => {
  await create(ctx, 'kept', 'old')
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'kept'}))
  await setTo(ctx, 'kept', 'new')
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'kept', Name: 'live', FunctionVersion: '1'}))
  const restarted = await new LocalService(engine, {
    port: 0,
    functionsFile: ctx.service.options.functionsFile,
    secrets: ctx.service.options.secrets,
  }).start()
  try {
    const lambda = lambdaClient(restarted)
    assert.is((await invoke({lambda}, 'kept', 'live')).json.MY_SETTING, 'old')
    assert.is((await invoke({lambda}, 'kept')).json.MY_SETTING, 'new')
    await lambda.send(new PublishVersionCommand({FunctionName: 'kept'}))
    const versions = await lambda.send(new ListVersionsByFunctionCommand({FunctionName: 'kept'}))
    assert.equal(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    )
  } finally {
    await restarted.close()
  }
})

test('boto3: every version and alias call, as a Python user would make them', async (ctx) => {
  await create(ctx, 'py', 'one')
  const script = `
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                 aws_secret_access_key=sys.argv[3])
out = {}
v1 = c.publish_version(FunctionName="py")
out["v1"] = [v1["Version"], v1["CodeSha256"], v1["RevisionId"] is not None]
out["again"] = c.publish_version(FunctionName="py")["Version"]
latest = c.get_function_configuration(FunctionName="py")
c.update_function_configuration(FunctionName="py", Environment={"Variables": {"MY_SETTING": "two"}},
                                RevisionId=latest["RevisionId"])
try:
    c.update_function_configuration(FunctionName="py", MemorySize=512, RevisionId=latest["RevisionId"])
    out["stale"] = "accepted"
except c.exceptions.PreconditionFailedException:
    out["stale"] = "PreconditionFailedException"
revision = c.get_function(FunctionName="py")["Configuration"]["RevisionId"]
out["v2"] = c.publish_version(FunctionName="py", RevisionId=revision)["Version"]
out["versions"] = [v["Version"] for v in c.list_versions_by_function(FunctionName="py")["Versions"]]
got = c.get_function(FunctionName="py", Qualifier="1")
out["get1"] = [got["Configuration"]["Environment"]["Variables"]["MY_SETTING"], got["Code"]["ResolvedImageUri"]]
alias = c.create_alias(FunctionName="py", Name="live", FunctionVersion="1",
                       RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
out["alias"] = [alias["AliasArn"], alias["RoutingConfig"]["AdditionalVersionWeights"]]
out["aliases"] = [a["Name"] for a in c.list_aliases(FunctionName="py")["Aliases"]]
moved = c.update_alias(FunctionName="py", Name="live", FunctionVersion="2",
                       RoutingConfig={"AdditionalVersionWeights": {}},
                       RevisionId=c.get_alias(FunctionName="py", Name="live")["RevisionId"])
out["moved"] = [moved["FunctionVersion"], moved.get("RoutingConfig")]
ran = c.invoke(FunctionName="py", Qualifier="live", Payload=b"{}")
out["invoke"] = [ran["ExecutedVersion"], json.loads(ran["Payload"].read())["MY_SETTING"]]
ran = c.invoke(FunctionName="py:1", Payload=b"{}")
out["invoke1"] = [ran["ExecutedVersion"], json.loads(ran["Payload"].read())["AWS_LAMBDA_FUNCTION_VERSION"]]
c.delete_alias(FunctionName="py", Name="live")
c.delete_function(FunctionName="py", Qualifier="1")
try:
    c.get_function_configuration(FunctionName="py", Qualifier="1")
except c.exceptions.ResourceNotFoundException as e:
    out["deleted"] = e.response["Error"]["Message"]
print(json.dumps(out))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const python = `${process.env.FAAS_STACK_DIR ?? '/var/lib/faas-stack'}/venv/bin/python`
  const run = await execa(python, ['-c', script, ctx.service.url, accessKeyId, secretAccessKey])
  const out = JSON.parse(run.stdout)
  assert.equal(out.v1, ['1', ctx.digest.replace('sha256:', ''), true])
  assert.is(out.again, '1')
  assert.is(out.stale, 'PreconditionFailedException')
  assert.is(out.v2, '2')
  assert.equal(out.versions, ['$LATEST', '1', '2'])
  assert.equal(out.get1, ['one', `${ctx.image.split(':')[0]}@${ctx.digest}`])
  assert.equal(out.alias, ['arn:aws:lambda:us-east-1:000000000000:function:py:live', {'2': 0.5}])
  assert.equal(out.aliases, ['live'])
  assert.equal(out.moved, ['2', null])
  assert.equal(out.invoke, ['2', 'two'])
  assert.equal(out.invoke1, ['1', '1'])
  assert.is(out.deleted, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:py:1')
})

test.run()
