/**
 * An SQS event source mapping draining queues of the stack's emulator (issue 22; figures printed, never asserted):
 *   node --import tsx scripts/perf/sqs.ts [--messages 10000] [--backlog 1000] [--window 100]
 *   (FAAS_PERF_SMOKE=1: 200 messages, a backlog of 100)
 * The handler only notes, per batch, when it started and each record's id and SentTimestamp; batch size 10. Three
 * runs on one mapping:
 * 1. a backlog: `--backlog` messages sent first, then the mapping created and the queue drained: messages per second
 *    (mapping created to the last batch handled) and send to handler start (which includes the backlog's wait);
 * 2. sustained: `--messages` sent in batches of 10 while the mapping runs, with at most `--window` sent and not yet
 *    handled (so the queue stays short: the emulator's receive slows with the queue's length, 12 s a call at 10,000
 *    queued): messages per second (first send to last handled) and send to handler start;
 * 3. a trickle sent one at a time into the drained queue: the latency alone.
 * Then how many were processed and how many distinct of all sent: none may be missing, and a duplicate would show
 * (SQS and Lambda deliver at least once; the local mapping asks the emulator for one batch at a time, since moto
 * hands a message to two concurrent receives now and then).
 */
import {randomUUID} from 'node:crypto'
import {parseArgs} from 'node:util'

import {CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient} from '@aws-sdk/client-lambda'

import {DockerEngine} from '../../src/docker/engine.js'
import {awsJson, type JsonApiTarget} from '../../src/local/emulator-api.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const smoke = process.env.FAAS_PERF_SMOKE === '1'
const {values} = parseArgs({
  options: {
    messages: {type: 'string', default: smoke ? '200' : '10000'},
    backlog: {type: 'string', default: smoke ? '100' : '1000'},
    window: {type: 'string', default: '100'},
  },
})
const MESSAGES = Number(values.messages)
const BACKLOG = Number(values.backlog)
const WINDOW = Number(values.window)
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
  const send = (prefix: string, from: number) =>
    awsJson(
      sqs,
      'sqs',
      'SendMessageBatch',
      {QueueUrl, Entries: Array.from({length: 10}, (_, n) => ({Id: String(n), MessageBody: `${prefix}-${from + n}`}))},
      AbortSignal.timeout(120_000),
    )
  const total = () => new Set(batches.flatMap((b) => b.records.map(([id]) => id))).size
  const reached = (count: number) =>
    new Promise<void>((resolve) => {
      onBatch = () => total() >= count && resolve()
      onBatch()
    })
  const latencyLine = (what: string, from: number) => {
    const ms = batches.slice(from).flatMap((b) => b.records.map(([, sent]) => b.start - sent))
    return `send to handler start, ${what}: p50 ${pct(ms, 0.5).toFixed(0)} ms  p99 ${pct(ms, 0.99).toFixed(0)} ms`
  }

  // 1. A backlog, sent one batch at a time (parallel sends only queue up in the emulator).
  for (let i = 0; i < BACKLOG; i += 10) await send('b', i)
  let started = performance.now()
  await lambda.send(
    new CreateEventSourceMappingCommand({FunctionName: 'drain', EventSourceArn: Attributes.QueueArn, BatchSize: 10}),
  )
  await reached(BACKLOG)
  let seconds = (performance.now() - started) / 1000
  console.log(
    `SQS mapping, batch size 10: ${BACKLOG} messages drained in ${seconds.toFixed(1)} s, ` +
      `${(BACKLOG / seconds).toFixed(0)} messages/s`,
  )
  console.log(latencyLine('full queue', 0))

  // 2. Sustained: sent while the mapping runs, at most WINDOW outstanding.
  let before = batches.length
  started = performance.now()
  for (let i = 0; i < MESSAGES; i += 10) {
    await reached(BACKLOG + i + 10 - WINDOW)
    await send('s', i)
  }
  await reached(BACKLOG + MESSAGES)
  seconds = (performance.now() - started) / 1000
  console.log(
    `sustained, batch size 10, at most ${WINDOW} outstanding: ${MESSAGES} messages sent and handled in ` +
      `${seconds.toFixed(1)} s, ${(MESSAGES / seconds).toFixed(0)} messages/s`,
  )
  console.log(latencyLine('sustained', before))

  // 3. A trickle into the drained queue.
  before = batches.length
  for (let i = 0; i < TRICKLE; i++) {
    await awsJson(sqs, 'sqs', 'SendMessage', {QueueUrl, MessageBody: `t-${i}`})
    await reached(BACKLOG + MESSAGES + i + 1)
  }
  console.log(latencyLine(`one at a time (${TRICKLE})`, before))
  const ids = batches.flatMap((b) => b.records.map(([id]) => id))
  const sent = BACKLOG + MESSAGES + TRICKLE
  console.log(`processed ${ids.length}, distinct ${new Set(ids).size} of ${sent} sent, batches ${batches.length}`)
} finally {
  await service.close()
  // The stack's emulator is shared: its queue goes with the run (a big one would slow every later call of it).
  if (queueUrl) await awsJson(sqs, 'sqs', 'DeleteQueue', {QueueUrl: queueUrl}).catch(() => undefined)
}
