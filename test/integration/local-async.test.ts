import {
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {awsJson} from '../../src/local/emulator-api.js'
import {DockerEngine} from '../../src/docker/engine.js'
import type {DestinationRecord} from '../../src/local/async-invoke.js'
import {generateSecrets} from '../../src/local/credentials.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'
import {waitFor} from '../helpers/wait.js'
import {createQueue, emulator as sqs, MOTO} from '../helpers/emulator-sqs.js'
import {createFixtureFunction, type LocalSuiteContext} from '../helpers/local-suite.js'

/** Lambda's asynchronous invocation: event invoke configs, retries, event age, destinations (the emulator's SQS). */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string; home: string}>('local async')
const engine = new DockerEngine()
const secrets = generateSecrets()

const queue = () => createQueue('async')

/** Waits for `count` records on a queue (deleting what it read); more than `count` fails. */
async function records(url: string, count: number): Promise<DestinationRecord[]> {
  const got: DestinationRecord[] = []
  await waitFor(`${count} record(s) on ${url}`, async () => {
    const {Messages} = await awsJson<{Messages?: Array<{Body: string; ReceiptHandle: string}>}>(
      sqs,
      'sqs',
      'ReceiveMessage',
      {QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1},
    )
    for (const m of Messages ?? []) {
      got.push(JSON.parse(m.Body))
      await awsJson(sqs, 'sqs', 'DeleteMessage', {QueueUrl: url, ReceiptHandle: m.ReceiptHandle})
    }
    return got.length >= count
  })
  assert.is(got.length, count, JSON.stringify(got))
  return got
}

const start = (home: string) =>
  new LocalService(engine, {
    port: 0,
    maxEnvironmentsPerFunction: 1,
    asyncRetryDelaysMs: [300, 600],
    awsEndpoint: MOTO,
    functionsFile: join(home, 'functions.json'),
    secrets,
  }).start()

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.home = mkdtempSync(join(tmpdir(), 'faas-async-'))
  ctx.service = await start(ctx.home)
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  await ctx.service?.close()
  rmSync(ctx.home, {recursive: true, force: true})
})

const deploy = (ctx: LocalSuiteContext, name: string, handler: string) =>
  createFixtureFunction(ctx, name, handler, {MemorySize: 256})

const event = (ctx: {lambda: LambdaClient}, name: string, payload: unknown) =>
  ctx.lambda.send(
    new InvokeCommand({FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload))}),
  )

test('event invoke configs: put, get, update, list, delete with the JS SDK; bad values refused', async (ctx) => {
  await deploy(ctx, 'configured', 'handler.echo')
  const {arn} = await queue()
  const put = await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'configured',
      MaximumRetryAttempts: 1,
      DestinationConfig: {OnFailure: {Destination: arn}},
    }),
  )
  assert.is(put.MaximumRetryAttempts, 1)
  assert.is(put.MaximumEventAgeInSeconds, 21_600, "Lambda's default age")
  assert.is(put.DestinationConfig?.OnFailure?.Destination, arn)
  assert.ok(put.LastModified instanceof Date)
  const updated = await ctx.lambda.send(
    new UpdateFunctionEventInvokeConfigCommand({FunctionName: 'configured', MaximumEventAgeInSeconds: 120}),
  )
  assert.is(updated.MaximumRetryAttempts, 1, 'Update keeps what it does not name')
  assert.is(updated.DestinationConfig?.OnFailure?.Destination, arn)
  const got = await ctx.lambda.send(new GetFunctionEventInvokeConfigCommand({FunctionName: 'configured'}))
  assert.is(got.MaximumEventAgeInSeconds, 120)
  const replaced = await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({FunctionName: 'configured', MaximumRetryAttempts: 0}),
  )
  assert.is(replaced.MaximumEventAgeInSeconds, 21_600, 'Put replaces the whole configuration')
  assert.is(replaced.DestinationConfig?.OnFailure?.Destination, undefined)
  const list = await ctx.lambda.send(new ListFunctionEventInvokeConfigsCommand({FunctionName: 'configured'}))
  assert.is(list.FunctionEventInvokeConfigs?.length, 1)

  const refused = async (input: Record<string, unknown>, pattern: RegExp) => {
    const error = await ctx.lambda
      .send(new PutFunctionEventInvokeConfigCommand({FunctionName: 'configured', ...input}))
      .then(
        () => undefined,
        (e: Error) => e,
      )
    assert.ok(error, `refused: ${JSON.stringify(input)}`)
    assert.is(error.name, 'InvalidParameterValueException')
    assert.match(error.message, pattern)
  }
  await refused({MaximumRetryAttempts: 3}, /MaximumRetryAttempts must be a whole number from 0 to 2/)
  await refused({MaximumEventAgeInSeconds: 59}, /from 60 to 21600/)
  await refused({MaximumEventAgeInSeconds: 21_601}, /from 60 to 21600/)
  const missing = arn.replace(/[^:]+$/, 'no-such-queue')
  await refused({DestinationConfig: {OnSuccess: {Destination: missing}}}, /no-such-queue cannot be used.*Create it/)
  await refused(
    {DestinationConfig: {OnFailure: {Destination: 'arn:aws:lambda:us-east-1:000000000000:function:nobody'}}},
    /no local function is named nobody/,
  )
  await refused({DestinationConfig: {OnFailure: {Destination: 'my-queue'}}}, /is not a destination ARN/)
  await refused(
    {DestinationConfig: {OnFailure: {Destination: 'arn:aws:sns:us-east-1:000000000000:topic'}}},
    /delivers to SQS queues, EventBridge buses and functions, not to sns/,
  )
  const after = await ctx.lambda.send(new GetFunctionEventInvokeConfigCommand({FunctionName: 'configured'}))
  assert.is(after.MaximumRetryAttempts, 0, 'a refused call changes nothing')

  await ctx.lambda.send(new DeleteFunctionEventInvokeConfigCommand({FunctionName: 'configured'}))
  const gone = await ctx.lambda.send(new GetFunctionEventInvokeConfigCommand({FunctionName: 'configured'})).then(
    () => undefined,
    (e: Error) => e,
  )
  assert.is(gone?.name, 'ResourceNotFoundException')
})

test('boto3 drives the same calls', async (ctx) => {
  await deploy(ctx, 'boto-configured', 'handler.echo')
  const {arn} = await queue()
  const script = `
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], \
aws_secret_access_key=sys.argv[3])
out = {}
out["put"] = c.put_function_event_invoke_config(FunctionName="boto-configured", MaximumRetryAttempts=2, \
DestinationConfig={"OnSuccess": {"Destination": sys.argv[4]}})["DestinationConfig"]["OnSuccess"]["Destination"]
out["update"] = c.update_function_event_invoke_config(FunctionName="boto-configured", \
MaximumEventAgeInSeconds=600)["MaximumEventAgeInSeconds"]
out["get"] = c.get_function_event_invoke_config(FunctionName="boto-configured")["MaximumRetryAttempts"]
out["list"] = len(c.list_function_event_invoke_configs(FunctionName="boto-configured")["FunctionEventInvokeConfigs"])
try:
    c.put_function_event_invoke_config(FunctionName="boto-configured", MaximumRetryAttempts=5)
except Exception as e:
    out["bad"] = type(e).__name__
c.delete_function_event_invoke_config(FunctionName="boto-configured")
try:
    c.get_function_event_invoke_config(FunctionName="boto-configured")
except c.exceptions.ResourceNotFoundException:
    out["deleted"] = True
print(json.dumps(out))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const run = await execa('/var/lib/faas-stack/venv/bin/python', [
    '-c',
    script,
    ctx.service.url,
    accessKeyId,
    secretAccessKey,
    arn,
  ])
  assert.equal(JSON.parse(run.stdout), {
    put: arn,
    update: 600,
    get: 2,
    list: 1,
    bad: 'InvalidParameterValueException',
    deleted: true,
  })
})

test('a failed Event call is retried (same request id); its success record goes to the SQS queue', async (ctx) => {
  await deploy(ctx, 'flaky', 'handler.flaky')
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'flaky',
      DestinationConfig: {OnSuccess: {Destination: arn}},
    }),
  )
  const accepted = await event(ctx, 'flaky', {fail: 2, order: 7})
  assert.is(accepted.StatusCode, 202)
  const [record] = await records(url, 1)
  assert.is(record!.version, '1.0')
  assert.equal(record!.requestContext, {
    requestId: accepted.$metadata.requestId,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST',
    condition: 'Success',
    approximateInvokeCount: 3,
  })
  assert.equal(record!.requestPayload, {fail: 2, order: 7})
  assert.equal(record!.responseContext, {statusCode: 200, executedVersion: '$LATEST'})
  assert.equal(record!.responsePayload, {attempt: 3, event: {fail: 2, order: 7}})
  const lines = ctx.service.logs.get('flaky')!.filter((l) => l.includes(accepted.$metadata.requestId!))
  assert.ok(
    lines.some((l) => l.includes('failed (attempt 2)')),
    lines.join('\n'),
  )
})

test('retries exhausted: the failure record, to a function destination that forwards it to SQS', async (ctx) => {
  await deploy(ctx, 'always-fails', 'handler.handled')
  await deploy(ctx, 'on-failure', 'handler.echo')
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'on-failure',
      DestinationConfig: {OnSuccess: {Destination: arn}},
    }),
  )
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'always-fails',
      MaximumRetryAttempts: 1,
      DestinationConfig: {OnFailure: {Destination: 'arn:aws:lambda:us-east-1:000000000000:function:on-failure'}},
    }),
  )
  const accepted = await event(ctx, 'always-fails', {value: 42})
  const [forwarded] = await records(url, 1)
  // on-failure echoed the record it was invoked with: its success record carries it as the response.
  const failure = forwarded!.responsePayload as DestinationRecord
  assert.equal(failure.requestContext, {
    requestId: accepted.$metadata.requestId,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:always-fails:$LATEST',
    condition: 'RetriesExhausted',
    approximateInvokeCount: 2,
  })
  assert.equal(failure.requestPayload, {value: 42})
  assert.equal(failure.responseContext, {statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled'})
  assert.is((failure.responsePayload as {errorType: string}).errorType, 'ValueError')
})

test("an EventBridge bus of the emulator as destination: the record is the event's detail", async (ctx) => {
  await deploy(ctx, 'to-bus', 'handler.echo')
  const {url, arn: queueArn} = await queue()
  const {EventBusArn} = await awsJson<{EventBusArn: string}>(sqs, 'events', 'CreateEventBus', {
    Name: `async-${randomUUID()}`,
  })
  const rule = `to-queue-${randomUUID().slice(0, 8)}`
  await awsJson(sqs, 'events', 'PutRule', {
    Name: rule,
    EventBusName: EventBusArn,
    EventPattern: JSON.stringify({source: ['lambda']}),
  })
  await awsJson(sqs, 'events', 'PutTargets', {
    Rule: rule,
    EventBusName: EventBusArn,
    Targets: [{Id: 'q', Arn: queueArn}],
  })
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'to-bus',
      DestinationConfig: {OnSuccess: {Destination: EventBusArn}},
    }),
  )
  const accepted = await event(ctx, 'to-bus', {via: 'bus'})
  const [envelope] = (await records(url, 1)) as unknown as Array<{'detail-type': string; detail: DestinationRecord}>
  assert.is(envelope!['detail-type'], 'Lambda Function Invocation Result - Success')
  assert.is(envelope!.detail.requestContext.requestId, accepted.$metadata.requestId)
  assert.equal(envelope!.detail.responsePayload, {via: 'bus'})
})

test('an event that would outlive its maximum age goes to the failure destination as EventAgeExceeded', async (ctx) => {
  await deploy(ctx, 'too-old', 'handler.handled')
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'too-old',
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: {OnFailure: {Destination: arn}},
    }),
  )
  const delays = ctx.service.options.asyncRetryDelaysMs
  ctx.service.options.asyncRetryDelaysMs = [90_000] // Lambda's retry would come after the event's 60 s
  try {
    await event(ctx, 'too-old', {value: 1})
    const [record] = await records(url, 1)
    assert.is(record!.requestContext.condition, 'EventAgeExceeded')
    assert.is(record!.requestContext.approximateInvokeCount, 1)
  } finally {
    ctx.service.options.asyncRetryDelaysMs = delays
  }
})

test('a throttled Event (reserved concurrency in use) is retried with back-off from 1 s, then runs', async (ctx) => {
  await deploy(ctx, 'reserved', 'handler.slow')
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'reserved', ReservedConcurrentExecutions: 1}))
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'reserved',
      DestinationConfig: {OnSuccess: {Destination: arn}},
    }),
  )
  const sync = (seconds: number) =>
    ctx.lambda.send(new InvokeCommand({FunctionName: 'reserved', Payload: Buffer.from(JSON.stringify({seconds}))}))
  await sync(0) // the environment's cold start out of the way
  const busy = sync(3)
  const starts = () => (ctx.service.logs.get('reserved') ?? []).filter((l) => l.startsWith('START')).length
  await waitFor('the long call to hold the one environment', async () => starts() === 2)
  const accepted = await event(ctx, 'reserved', {seconds: 0})
  const [record] = await records(url, 1)
  await busy
  assert.equal([record!.requestContext.condition, record!.requestContext.approximateInvokeCount], ['Success', 1])
  const lines = ctx.service.logs.get('reserved')!.filter((l) => l.includes(accepted.$metadata.requestId!))
  assert.ok(
    lines.some((l) => /throttled \(ReservedFunctionConcurrentInvocationLimitExceeded\); retried in 1 s/.test(l)),
    lines.join('\n'),
  )
})

test('an Event throttled until its maximum age goes to the failure destination, never run', async (ctx) => {
  await deploy(ctx, 'reserved-0', 'handler.echo')
  await ctx.lambda.send(
    new PutFunctionConcurrencyCommand({FunctionName: 'reserved-0', ReservedConcurrentExecutions: 0}),
  )
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'reserved-0',
      DestinationConfig: {OnFailure: {Destination: arn}},
    }),
  )
  const age = ctx.service.options.maxEventAgeMs
  ctx.service.options.maxEventAgeMs = 3500 // throttled at 0, 1 and 3 s; the next try (at 7 s) would be too late
  try {
    const accepted = await event(ctx, 'reserved-0', {value: 1})
    const [record] = await records(url, 1)
    assert.equal(
      [record!.requestContext.condition, record!.requestContext.approximateInvokeCount],
      ['EventAgeExceeded', 0],
    )
    const lines = ctx.service.logs.get('reserved-0')!.filter((l) => l.includes(accepted.$metadata.requestId!))
    assert.equal(
      lines.flatMap((l) => /retried in (\d+) s/.exec(l)?.[1] ?? []),
      ['1', '2'],
      lines.join('\n'),
    )
  } finally {
    ctx.service.options.maxEventAgeMs = age
  }
})

test('queued events survive a restart: a pending retry runs after it, a completed one is not redone', async (ctx) => {
  await deploy(ctx, 'restarted', 'handler.flaky')
  const {url, arn} = await queue()
  await ctx.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'restarted',
      DestinationConfig: {OnSuccess: {Destination: arn}},
    }),
  )
  const done = await event(ctx, 'restarted', {fail: 0, which: 'before'})
  const [first] = await records(url, 1)
  assert.is(first!.requestContext.requestId, done.$metadata.requestId)
  ctx.service.options.asyncRetryDelaysMs = [5000] // the retry is pending when the service stops
  const pending = await event(ctx, 'restarted', {fail: 1, which: 'across'})
  await waitFor('the first attempt to fail', async () =>
    (ctx.service.logs.get('restarted') ?? []).some((l) => l.includes(`${pending.$metadata.requestId} failed`)),
  )
  assert.is(ctx.service.async.size, 1, 'only the pending event is queued: the completed one is gone')
  await ctx.service.close()
  ctx.service = await start(ctx.home)
  ctx.lambda = lambdaClient(ctx.service)
  assert.is(ctx.service.async.size, 1, 'the restarted service found the pending event, and only it')
  // Its retry keeps its time (5 s after the failure), then its record arrives once, every attempt counted: the one
  // before the restart, and two after (the new environment's /tmp, where flaky counts, starts empty: it fails again).
  const [record] = await records(url, 1)
  assert.is(record!.requestContext.requestId, pending.$metadata.requestId)
  assert.is(record!.requestContext.approximateInvokeCount, 3)
  assert.equal(record!.requestPayload, {fail: 1, which: 'across'})
  await waitFor('the queue to empty', async () => ctx.service.async.size === 0)
})

test.run()
