import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {generateSecrets} from '../../src/local/credentials.js'
import {awsJson} from '../../src/local/emulator-api.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'
import {waitFor} from '../helpers/wait.js'
import {createQueue, emulator as sqs, MOTO} from '../helpers/emulator-sqs.js'
import {createFixtureFunction, type LocalSuiteContext} from '../helpers/local-suite.js'

/** SQS event source mappings against the emulator's real queues: batches, partial failures, a DLQ, a restart. */
const test = suite<{service: LocalService; lambda: LambdaClient; image: string; home: string}>('local sqs')
const engine = new DockerEngine()
const secrets = generateSecrets()

const queue = (attributes: Record<string, string> = {}, suffix = '') => createQueue('esm', attributes, suffix)

const send = (url: string, bodies: string[]) =>
  Promise.all(
    Array.from({length: Math.ceil(bodies.length / 10)}, (_, i) =>
      awsJson(sqs, 'sqs', 'SendMessageBatch', {
        QueueUrl: url,
        Entries: bodies.slice(i * 10, i * 10 + 10).map((body, n) => ({
          Id: String(n),
          MessageBody: body,
          MessageAttributes: {kind: {DataType: 'String', StringValue: body.split('-')[0]}},
        })),
      }),
    ),
  )

interface Seen {
  body: string
  count: string
  record: Record<string, unknown>
}
/** What the function printed for each record it was given. */
const seen = (service: LocalService, name: string): Seen[] =>
  (service.logs.get(name) ?? []).filter((l) => l.startsWith('SQS ')).map((l) => JSON.parse(l.slice(4)))

const visible = async (url: string): Promise<number> => {
  const {Attributes} = await awsJson<{Attributes: Record<string, string>}>(sqs, 'sqs', 'GetQueueAttributes', {
    QueueUrl: url,
    AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  })
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
}

const start = (home: string) =>
  new LocalService(engine, {
    port: 0,
    maxEnvironmentsPerFunction: 2,
    awsEndpoint: MOTO,
    functionsFile: join(home, 'functions.json'),
    secrets,
  }).start()

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.home = mkdtempSync(join(tmpdir(), 'faas-sqs-'))
  ctx.service = await start(ctx.home)
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  await ctx.service?.close()
  rmSync(ctx.home, {recursive: true, force: true})
})

const deploy = (ctx: LocalSuiteContext, name: string) =>
  createFixtureFunction(ctx, name, 'handler.sqs_batch', {MemorySize: 256})

test('mappings: create, get, list, update, delete with the JS SDK; bad input refused', async (ctx) => {
  await deploy(ctx, 'consumer-crud')
  const {arn} = await queue()
  const created = await ctx.lambda.send(
    new CreateEventSourceMappingCommand({FunctionName: 'consumer-crud', EventSourceArn: arn, Enabled: false}),
  )
  assert.is(created.BatchSize, 10, "Lambda's default batch")
  assert.is(created.State, 'Creating')
  const uuid = created.UUID!
  const got = await ctx.lambda.send(new GetEventSourceMappingCommand({UUID: uuid}))
  assert.is(got.State, 'Disabled')
  assert.is(got.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:consumer-crud')
  const listed = await ctx.lambda.send(new ListEventSourceMappingsCommand({FunctionName: 'consumer-crud'}))
  assert.equal(
    listed.EventSourceMappings?.map((m) => m.UUID),
    [uuid],
  )
  const refused = async (send: () => Promise<unknown>, pattern: RegExp) => {
    const error = await send().then(
      () => undefined,
      (e: Error) => e,
    )
    assert.ok(error, `refused: ${pattern}`)
    assert.match(error.message, pattern)
  }
  await refused(
    () => ctx.lambda.send(new UpdateEventSourceMappingCommand({UUID: uuid, BatchSize: 100})),
    /greater than 0 if maximum batch size is greater than 10/,
  )
  await refused(
    () => ctx.lambda.send(new UpdateEventSourceMappingCommand({UUID: uuid, BatchSize: 10_001})),
    /BatchSize .*maximum 10000/,
  )
  const updated = await ctx.lambda.send(
    new UpdateEventSourceMappingCommand({
      UUID: uuid,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: {MaximumConcurrency: 2},
    }),
  )
  assert.is(updated.BatchSize, 100)
  assert.equal(updated.FunctionResponseTypes, ['ReportBatchItemFailures'])
  assert.is(updated.ScalingConfig?.MaximumConcurrency, 2)
  const fifo = await queue({FifoQueue: 'true'}, '.fifo')
  await refused(
    () =>
      ctx.lambda.send(
        new CreateEventSourceMappingCommand({FunctionName: 'consumer-crud', EventSourceArn: fifo.arn, BatchSize: 11}),
      ),
    /SQS FIFO queue's maximum 10/,
  )
  await refused(
    () =>
      ctx.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'consumer-crud',
          EventSourceArn: arn.replace(/[^:]+$/, 'no-such-queue'),
        }),
      ),
    /does not exist in the emulator.*create it first/,
  )
  await refused(
    () => ctx.lambda.send(new CreateEventSourceMappingCommand({FunctionName: 'consumer-crud', EventSourceArn: arn})),
    /already exists/,
  )
  await ctx.lambda.send(new DeleteEventSourceMappingCommand({UUID: uuid}))
  await refused(() => ctx.lambda.send(new GetEventSourceMappingCommand({UUID: uuid})), /does not exist/)
})

test('boto3 drives the same calls', async (ctx) => {
  await deploy(ctx, 'consumer-boto')
  const {arn} = await queue()
  const script = `
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], \
aws_secret_access_key=sys.argv[3])
m = c.create_event_source_mapping(FunctionName="consumer-boto", EventSourceArn=sys.argv[4], BatchSize=5, Enabled=False)
out = {"batch": m["BatchSize"]}
out["get"] = c.get_event_source_mapping(UUID=m["UUID"])["State"]
out["list"] = len(c.list_event_source_mappings(EventSourceArn=sys.argv[4])["EventSourceMappings"])
out["update"] = c.update_event_source_mapping(UUID=m["UUID"], BatchSize=7)["BatchSize"]
out["delete"] = c.delete_event_source_mapping(UUID=m["UUID"])["State"]
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
  assert.equal(JSON.parse(run.stdout), {batch: 5, get: 'Disabled', list: 1, update: 7, delete: 'Deleting'})
})

test("a queue drained in batches: Lambda's SQS records, reported failures retried, then the DLQ", async (ctx) => {
  await deploy(ctx, 'consumer')
  const dlq = await queue()
  const {url, arn} = await queue({
    VisibilityTimeout: '6',
    RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 2}),
  })
  const bodies = [...Array.from({length: 24}, (_, i) => `ok-${i}`), 'fail-1']
  await send(url, bodies)
  await ctx.lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'consumer',
      EventSourceArn: arn,
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    }),
  )
  await waitFor(
    'the queue to drain into the DLQ',
    async () => (await visible(url)) === 0 && (await visible(dlq.url)) === 1,
  )
  const records = seen(ctx.service, 'consumer')
  const oks = records.filter((r) => r.body.startsWith('ok-')).map((r) => r.body)
  assert.is(oks.length, 24, 'every good message once')
  assert.is(new Set(oks).size, 24)
  const failed = records.filter((r) => r.body === 'fail-1')
  assert.equal(
    failed.map((r) => r.count),
    ['1', '2'],
    'the reported item came back once, then went to the DLQ (maxReceiveCount 2)',
  )
  const record = records[0]!.record
  assert.is(record.eventSource, 'aws:sqs')
  assert.is(record.eventSourceARN, arn)
  assert.is(record.awsRegion, 'us-east-1')
  assert.type(record.md5OfBody, 'string')
  assert.type(record.receiptHandle, 'string')
  assert.ok((record.attributes as Record<string, string>).SentTimestamp)
  assert.equal((record.messageAttributes as Record<string, unknown>).kind, {
    stringValue: (record.body as string).split('-')[0],
    stringListValues: [],
    binaryListValues: [],
    dataType: 'String',
  })
})

test('a batch whose function fails stays whole on the queue; a restart mid-drain loses nothing', async (ctx) => {
  await deploy(ctx, 'restarted')
  const {url, arn} = await queue({VisibilityTimeout: '3'})
  await send(url, ['crash-1'])
  const bodies = Array.from({length: 30}, (_, i) => `slow-${i}`)
  await send(url, bodies)
  await ctx.lambda.send(
    new CreateEventSourceMappingCommand({FunctionName: 'restarted', EventSourceArn: arn, BatchSize: 1}),
  )
  await waitFor('a few messages to be processed', async () => seen(ctx.service, 'restarted').length >= 4)
  const before = seen(ctx.service, 'restarted').map((r) => r.body)
  await ctx.service.close()
  ctx.service = await start(ctx.home)
  ctx.lambda = lambdaClient(ctx.service)
  // crash-1 fails on every receive (no DLQ here): it stays; everything else is processed and deleted.
  await waitFor('the queue to hold only crash-1', async () => {
    const after = new Set([...before, ...seen(ctx.service, 'restarted').map((r) => r.body)])
    return bodies.every((b) => after.has(b)) && (await visible(url)) === 1
  })
  const crashes = [...before, ...seen(ctx.service, 'restarted').map((r) => r.body)].filter((b) => b === 'crash-1')
  assert.ok(crashes.length >= 1, 'crash-1 was given to the function and left on the queue')
})

test.run()
