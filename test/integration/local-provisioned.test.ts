import {
  CreateAliasCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'
import {waitFor} from '../helpers/wait.js'
import {createFixtureFunction} from '../helpers/local-suite.js'

/**
 * Provisioned concurrency and the account's concurrency on the local service, through the JS SDK and boto3.
 * The service's account limit is 20 (so 2 must stay unreserved), to reach it with a few calls.
 */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string}>('local provisioned concurrency')
const engine = new DockerEngine()

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.service = await new LocalService(engine, {port: 0, idleTimeoutMs: 60_000, accountConcurrency: 20}).start()
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  const id = ctx.service?.options.instanceId
  await ctx.service?.close()
  if (id) assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() removes every container')
})

/** A function with one published version (1). */
async function published(ctx: {lambda: LambdaClient; image: string}, name: string, handler: string) {
  await createFixtureFunction(ctx, name, handler, {MemorySize: 256})
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: name}))
}

async function invoke(ctx: {lambda: LambdaClient}, name: string, qualifier: string | undefined, payload: unknown) {
  const out = await ctx.lambda.send(
    new InvokeCommand({
      FunctionName: name,
      Qualifier: qualifier,
      Payload: Buffer.from(JSON.stringify(payload)),
      LogType: 'Tail',
    }),
  )
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8')
  return {json: JSON.parse(Buffer.from(out.Payload!).toString('utf8')), report: parseReport(log), log}
}

const config = (ctx: {lambda: LambdaClient}, name: string, qualifier: string) =>
  ctx.lambda.send(new GetProvisionedConcurrencyConfigCommand({FunctionName: name, Qualifier: qualifier}))

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: Error) => ({name: error.name, message: error.message}),
  )

test('IN_PROGRESS → READY; initialised ahead, no Init Duration on first calls; spill-over; kept idle', async (ctx) => {
  await published(ctx, 'pc', 'handler.slow')
  const put = await ctx.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: 'pc',
      Qualifier: '1',
      ProvisionedConcurrentExecutions: 2,
    }),
  )
  assert.equal([put.RequestedProvisionedConcurrentExecutions, put.Status], [2, 'IN_PROGRESS'])
  await waitFor('the configuration to be READY', async () => (await config(ctx, 'pc', '1')).Status === 'READY')
  const ready = await config(ctx, 'pc', '1')
  assert.equal([ready.AllocatedProvisionedConcurrentExecutions, ready.AvailableProvisionedConcurrentExecutions], [2, 2])
  // Three at once with two provisioned: two run provisioned (not cold), the third spills over to on-demand (cold).
  const runs = await Promise.all([1, 2, 3].map(() => invoke(ctx, 'pc', '1', {seconds: 1})))
  const cold = runs.filter((r) => r.report?.initDurationMs !== undefined)
  assert.is(cold.length, 1, runs.map((r) => r.log).join('\n'))
  assert.is(ctx.service.pools.get('pc:1')?.envs.size, 1, 'one on-demand environment for the spill-over')
  const unqualified = await invoke(ctx, 'pc', undefined, {seconds: 0})
  assert.ok(unqualified.report?.initDurationMs !== undefined, 'an unqualified call does not use them')
  const set = ctx.service.versionPools.provisioned.get('pc:1')!
  for (const pool of ctx.service.pools.values()) pool.reclaimIdle(Date.now() + 365 * 86_400_000)
  assert.is(set.envs.size, 2, 'provisioned environments are not reaped when idle')
  const listed = await ctx.lambda.send(new ListProvisionedConcurrencyConfigsCommand({FunctionName: 'pc'}))
  assert.equal(
    listed.ProvisionedConcurrencyConfigs?.map((c) => [c.FunctionArn, c.Status]),
    [['arn:aws:lambda:us-east-1:000000000000:function:pc:1', 'READY']],
  )
  await ctx.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({FunctionName: 'pc', Qualifier: '1'}))
  assert.is(set.envs.size, 0, 'deleting the configuration stops its environments')
  assert.is((await failure(config(ctx, 'pc', '1')))?.name, 'ProvisionedConcurrencyConfigNotFoundException')
})

test('the runtime sees provisioned-concurrency; a configuration on an alias serves calls to the alias', async (ctx) => {
  await published(ctx, 'pc-alias', 'handler.probe')
  await ctx.lambda.send(new CreateAliasCommand({FunctionName: 'pc-alias', Name: 'live', FunctionVersion: '1'}))
  await ctx.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: 'pc-alias',
      Qualifier: 'live',
      ProvisionedConcurrentExecutions: 1,
    }),
  )
  await waitFor('READY', async () => (await config(ctx, 'pc-alias', 'live')).Status === 'READY')
  const out = await invoke(ctx, 'pc-alias', 'live', {secret_env: 'AWS_LAMBDA_INITIALIZATION_TYPE'})
  assert.is(out.json.secret_env, 'provisioned-concurrency')
  assert.is(out.report?.initDurationMs, undefined, 'not cold')
  const onDemand = await invoke(ctx, 'pc-alias', '1', {secret_env: 'AWS_LAMBDA_INITIALIZATION_TYPE'})
  assert.is(onDemand.json.secret_env, 'on-demand', "calls to the version itself do not use the alias's")
})

test('weighted alias: both versions provisioned by weight, calls to either warm, weights move them', async (ctx) => {
  await published(ctx, 'pc-canary', 'handler.trivial')
  await ctx.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'pc-canary', MemorySize: 320}))
  await ctx.lambda.send(new PublishVersionCommand({FunctionName: 'pc-canary'}))
  await ctx.lambda.send(
    new CreateAliasCommand({
      FunctionName: 'pc-canary',
      Name: 'live',
      FunctionVersion: '2',
      RoutingConfig: {AdditionalVersionWeights: {'1': 0.5}},
    }),
  )
  await ctx.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: 'pc-canary',
      Qualifier: 'live',
      ProvisionedConcurrentExecutions: 2,
    }),
  )
  await waitFor('READY', async () => (await config(ctx, 'pc-canary', 'live')).Status === 'READY')
  assert.is((await config(ctx, 'pc-canary', 'live')).AllocatedProvisionedConcurrentExecutions, 2)
  const sets = () =>
    [...ctx.service.versionPools.provisioned.get('pc-canary:live')!.sets]
      .map(([v, set]) => [v, set.requested] as [string, number])
      .sort()
  assert.equal(
    new Map(sets()),
    new Map([
      ['1', 1],
      ['2', 1],
    ]),
    'one each at weight 0.5',
  )
  // Calls one at a time until the weights have sent some to each version (each 1/2, so 30 calls leave ~1e-9 to chance).
  const executed = new Set<string>()
  for (let i = 0; i < 30 && executed.size < 2; i++) {
    const out = await ctx.lambda.send(
      new InvokeCommand({FunctionName: 'pc-canary', Qualifier: 'live', Payload: Buffer.from('{}'), LogType: 'Tail'}),
    )
    executed.add(out.ExecutedVersion!)
    const report = parseReport(Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'))
    assert.is(report?.initDurationMs, undefined, `a call to version ${out.ExecutedVersion} through live is not cold`)
  }
  assert.equal([...executed].sort(), ['1', '2'])
  assert.is(ctx.service.pools.get('pc-canary:1')?.envs.size ?? 0, 0, 'no on-demand environment for version 1')
  // The canary is promoted: all of live's provisioned environments move to version 2.
  const before = ctx.service.versionPools.provisioned.get('pc-canary:live')!.sets.get('2')!
  await ctx.lambda.send(
    new UpdateAliasCommand({FunctionName: 'pc-canary', Name: 'live', RoutingConfig: {AdditionalVersionWeights: {}}}),
  )
  assert.equal(sets(), [['2', 2]])
  assert.is(before.envs.size, 0, "version 2's share changed, so its set was replaced")
  await waitFor('READY again', async () => (await config(ctx, 'pc-canary', 'live')).Status === 'READY')
})

test('an init that fails makes the configuration FAILED with the reason; calls go on-demand', async (ctx) => {
  await published(ctx, 'pc-broken', 'missing_module.handler')
  await ctx.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: 'pc-broken',
      Qualifier: '1',
      ProvisionedConcurrentExecutions: 1,
    }),
  )
  await waitFor('FAILED', async () => (await config(ctx, 'pc-broken', '1')).Status === 'FAILED')
  const failed = await config(ctx, 'pc-broken', '1')
  assert.match(failed.StatusReason ?? '', /Runtime\.ImportModuleError/)
  assert.is(failed.AllocatedProvisionedConcurrentExecutions, 0)
  const out = await invoke(ctx, 'pc-broken', '1', {})
  assert.is(out.json.errorType, 'Runtime.ImportModuleError')
})

test('bad input: $LATEST, above reserved concurrency, an unknown version, nothing changed', async (ctx) => {
  await published(ctx, 'pc-bad', 'handler.trivial')
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'pc-bad', ReservedConcurrentExecutions: 2}))
  const put = (qualifier: string, n: number) =>
    failure(
      ctx.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'pc-bad',
          Qualifier: qualifier,
          ProvisionedConcurrentExecutions: n,
        }),
      ),
    )
  assert.equal(await put('$LATEST', 1), {
    name: 'InvalidParameterValueException',
    message: 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
  })
  const above = await put('1', 3)
  assert.is(above?.name, 'InvalidParameterValueException')
  assert.match(above!.message, /should not be greater than the reservedConcurrentExecution/)
  assert.equal(await put('9', 1), {
    name: 'ResourceNotFoundException',
    message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:pc-bad:9',
  })
  const listed = await ctx.lambda.send(new ListProvisionedConcurrencyConfigsCommand({FunctionName: 'pc-bad'}))
  assert.equal(listed.ProvisionedConcurrencyConfigs, [])
})

test('boto3: put, get, list and delete a provisioned concurrency configuration', async (ctx) => {
  await published(ctx, 'pc-py', 'handler.trivial')
  const script = `
import json, sys, time, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                 aws_secret_access_key=sys.argv[3])
out = {"put": c.put_provisioned_concurrency_config(FunctionName="pc-py", Qualifier="1",
                                                  ProvisionedConcurrentExecutions=1)["Status"]}
for _ in range(1200):
    got = c.get_provisioned_concurrency_config(FunctionName="pc-py", Qualifier="1")
    if got["Status"] != "IN_PROGRESS":
        break
    time.sleep(0.1)
out["status"] = [got["Status"], got["AllocatedProvisionedConcurrentExecutions"]]
out["listed"] = [x["FunctionArn"] for x in c.list_provisioned_concurrency_configs(FunctionName="pc-py")[
    "ProvisionedConcurrencyConfigs"]]
c.delete_provisioned_concurrency_config(FunctionName="pc-py", Qualifier="1")
try:
    c.get_provisioned_concurrency_config(FunctionName="pc-py", Qualifier="1")
except c.exceptions.ProvisionedConcurrencyConfigNotFoundException:
    out["deleted"] = True
print(json.dumps(out))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const python = `${process.env.FAAS_STACK_DIR ?? '/var/lib/faas-stack'}/venv/bin/python`
  const out = JSON.parse((await execa(python, ['-c', script, ctx.service.url, accessKeyId, secretAccessKey])).stdout)
  assert.equal(out, {
    put: 'IN_PROGRESS',
    status: ['READY', 1],
    listed: ['arn:aws:lambda:us-east-1:000000000000:function:pc-py:1'],
    deleted: true,
  })
})

test('account limit: settings, reservations leave the minimum, reserved across versions, 429s', async (ctx) => {
  const settings = async () => (await ctx.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit!
  const before = await settings()
  assert.is(before.ConcurrentExecutions, 20)
  const reserved = (name: string, n: number) =>
    ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: name, ReservedConcurrentExecutions: n}))
  await published(ctx, 'acct-reserved', 'handler.slow')
  await published(ctx, 'acct-shared', 'handler.slow')
  const tooMuch = await failure(reserved('acct-reserved', before.UnreservedConcurrentExecutions!))
  assert.equal(tooMuch, {
    name: 'InvalidParameterValueException',
    message:
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution " +
      'below its minimum value of [2].',
  })
  assert.is((await settings()).UnreservedConcurrentExecutions, before.UnreservedConcurrentExecutions, 'unchanged')
  const provisionedTooMuch = await failure(
    ctx.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'acct-shared',
        Qualifier: '1',
        ProvisionedConcurrentExecutions: before.UnreservedConcurrentExecutions!,
      }),
    ),
  )
  assert.is(provisionedTooMuch?.name, 'InvalidParameterValueException')
  assert.match(provisionedTooMuch!.message, /exceeds the account's available UnreservedConcurrentExecution/)

  // Reserved concurrency 1 is the function's, not each version's: a call to $LATEST while version 1 runs is throttled.
  await reserved('acct-reserved', 1)
  const running = invoke(ctx, 'acct-reserved', '1', {seconds: 3})
  await waitFor(
    'the call to version 1 to run',
    async () => ctx.service.pools.get('acct-reserved:1')?.stats().busy === 1,
  )
  const onLatest = await invoke(ctx, 'acct-reserved', undefined, {seconds: 0}).catch((error) => error)
  assert.instance(onLatest, TooManyRequestsException)
  assert.is(onLatest.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded')
  await running

  // The rest of the account: reserve all but the minimum, then the unreserved functions share 2.
  const unreserved = (await settings()).UnreservedConcurrentExecutions!
  await reserved('acct-reserved', 1 + unreserved - 2)
  assert.is((await settings()).UnreservedConcurrentExecutions, 2)
  const calls = [1, 2, 3].map(() => invoke(ctx, 'acct-shared', '1', {seconds: 3}).catch((error) => error))
  const outcomes = await Promise.all(calls)
  const throttled = outcomes.filter((o) => o instanceof TooManyRequestsException)
  assert.is(throttled.length, 1, 'two run, the third is past the account limit')
  assert.is(throttled[0].Reason, 'ConcurrentInvocationLimitExceeded')
  await ctx.lambda.send(new DeleteFunctionConcurrencyCommand({FunctionName: 'acct-reserved'}))
})

test.run()
