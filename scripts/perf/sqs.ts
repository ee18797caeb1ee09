/**
 * An SQS event source mapping draining a queue of the stack's emulator (issue 22; figures printed, never asserted):
 *   node --import tsx scripts/perf/sqs.ts [--messages 10000]            (FAAS_PERF_SMOKE=1: 200)
 * The messages are sent first (batches of 10), then a mapping with batch size 10 is created and the queue drained
 * by a handler that only notes, per batch, when it started and each record's id and SentTimestamp. Printed:
 * messages per second (mapping created to the last batch handled), how many were processed and how many distinct
 * (none may be missing; a duplicate is allowed, as SQS and Lambda deliver at least once, and the stack's moto hands
 * a message to two concurrent receives now and then: it checks and marks visibility without a lock), and the added
 * latency from a message's send to its handler's start, p50/p99 — measured on a queue already full, so it includes
 * the backlog's wait; and, for the latency alone, a trickle of messages sent one at a time into the drained queue.
 */
import {randomUUID} from 'node:crypto'
import {parseArgs} from 'node:util'

import {CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient} from '@aws-sdk/client-lambda'

import {DockerEngine} from '../../src/docker/engine.js'
import {awsJson, type JsonApiTarget} from '../../src/local/emulator-api.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'

const smoke = process.env.FAAS_PERF_SMOKE === '1'
const {values} = parseArgs({options: {messages: {type: 'string', default: smoke ? '200' : '10000'}}})
const MESSAGES = Number(values.messages)
const TRICKLE = smoke ? 10 : 50
const MOTO = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
const sqs: JsonApiTarget = {endpoint: MOTO, region: 'us-east-1', credentials: {accessKeyId: 'x', secretAccessKey: 'x'}}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}

interface Batch {
  start: number
  records: Array<[string, number]>
}
const batches: Batch[] = []
let queueUrl: string | undefined
let onBatch = () => {}
const engine = new DockerEngine()
const service = await new LocalService(engine, {port: 0, awsEndpoint: MOTO}, (event) => {
  if (event.kind !== 'log' || !event.message.startsWith('SQSBATCH ')) return
  batches.push(JSON.parse(event.message.slice('SQSBATCH '.length)))
  onBatch()
}).start()
try {
  const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials})
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'drain',
      Role: 'r',
      PackageType: 'Image',
      Code: {ImageUri: await fixtureImage(engine)},
      ImageConfig: {Command: ['handler.sqs_perf']},
      MemorySize: 512,
    }),
  )
  const {QueueUrl} = await awsJson<{QueueUrl: string}>(sqs, 'sqs', 'CreateQueue', {
    QueueName: `perf-${randomUUID().slice(0, 12)}`,
    Attributes: {VisibilityTimeout: '120'},
  })
  queueUrl = QueueUrl
  const {Attributes} = await awsJson<{Attributes: {QueueArn: string}}>(sqs, 'sqs', 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['QueueArn'],
  })
  // One batch of 10 at a time: the emulator slows down as the queue grows, and parallel sends only queue up in it.
  for (let i = 0; i < MESSAGES; i += 10)
    await awsJson(
      sqs,
      'sqs',
      'SendMessageBatch',
      {QueueUrl, Entries: Array.from({length: 10}, (_, n) => ({Id: String(n), MessageBody: `m-${i + n}`}))},
      AbortSignal.timeout(120_000),
    )
  const total = () => new Set(batches.flatMap((b) => b.records.map(([id]) => id))).size
  const reached = (count: number) =>
    new Promise<void>((resolve) => {
      onBatch = () => total() >= count && resolve()
      onBatch()
    })
  const started = performance.now()
  await lambda.send(
    new CreateEventSourceMappingCommand({FunctionName: 'drain', EventSourceArn: Attributes.QueueArn, BatchSize: 10}),
  )
  await reached(MESSAGES)
  const seconds = (performance.now() - started) / 1000
  const ids = batches.flatMap((b) => b.records.map(([id]) => id))
  const latencies = batches.flatMap((b) => b.records.map(([, sent]) => b.start - sent))
  console.log(
    `SQS mapping, batch size 10: ${MESSAGES} messages drained in ${seconds.toFixed(1)} s, ` +
      `${(MESSAGES / seconds).toFixed(0)} messages/s`,
  )
  console.log(`processed ${ids.length}, distinct ${new Set(ids).size} of ${MESSAGES} sent, batches ${batches.length}`)
  console.log(
    `send to handler start, full queue: p50 ${pct(latencies, 0.5).toFixed(0)} ms  ` +
      `p99 ${pct(latencies, 0.99).toFixed(0)} ms`,
  )
  const before = batches.length
  for (let i = 0; i < TRICKLE; i++) {
    await awsJson(sqs, 'sqs', 'SendMessage', {QueueUrl, MessageBody: `t-${i}`})
    await reached(MESSAGES + i + 1)
  }
  const trickle = batches.slice(before).flatMap((b) => b.records.map(([, sent]) => b.start - sent))
  console.log(
    `send to handler start, one at a time (${TRICKLE}): p50 ${pct(trickle, 0.5).toFixed(0)} ms  ` +
      `p99 ${pct(trickle, 0.99).toFixed(0)} ms`,
  )
} finally {
  await service.close()
  // The stack's emulator is shared: its queue goes with the run (a big one would slow every later call of it).
  if (queueUrl) await awsJson(sqs, 'sqs', 'DeleteQueue', {QueueUrl: queueUrl}).catch(() => undefined)
}
