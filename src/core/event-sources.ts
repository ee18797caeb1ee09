import type {UserError} from './errors.js'

/**
 * A function's SQS event source as `faas deploy` makes it an event source mapping (on AWS and on the local service
 * alike). benchmark.json declares it under "eventSources": `{"sqs": "<queue ARN>", "batchSize": 10,
 * "batchingWindow": 0, "reportBatchItemFailures": false, "maximumConcurrency": 2, "enabled": true}`, all but "sqs"
 * optional, checked against Lambda's limits; or, for a queue faas makes where the function runs, `{"queue":
 * "<name>", …}` in place of "sqs" (see DeclaredSqsSource).
 */
export interface SqsEventSource {
  queueArn: string
  batchSize: number
  /** MaximumBatchingWindowInSeconds. */
  batchingWindowS: number
  /** FunctionResponseTypes ["ReportBatchItemFailures"]. */
  reportBatchItemFailures: boolean
  /** ScalingConfig.MaximumConcurrency; absent: Lambda's default (no cap of its own). */
  maximumConcurrency?: number
  enabled: boolean
}

/**
 * An event source as declared: a queue's ARN, or the name of a queue faas makes (its ARN is known once it exists;
 * deploy makes it with a visibility timeout of six times the function's timeout, as Lambda advises, and
 * `destroy --queues` deletes it).
 */
export type DeclaredSqsSource = Omit<SqsEventSource, 'queueArn'> & ({queueArn: string} | {createQueue: string})

/** The queue a declared source names, for messages. */
export const queueOf = (s: DeclaredSqsSource) => ('queueArn' in s ? s.queueArn : s.createQueue)

/** Lambda advises a queue's visibility timeout of six times the function's timeout (and refuses less than one). */
export const queueVisibilityTimeoutS = (functionTimeoutS: number) =>
  Math.min(43_200, Math.max(30, 6 * functionTimeoutS))

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/
const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/
const KEYS = ['sqs', 'queue', 'batchSize', 'batchingWindow', 'reportBatchItemFailures', 'maximumConcurrency', 'enabled']

const whole = (value: unknown, min: number, max: number) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max

/** The event sources of function `fname`, or `bad` naming what is wrong. */
export function parseEventSources(raw: unknown, fname: string, bad: (what: string) => UserError): DeclaredSqsSource[] {
  if (raw === undefined) return []
  const form = '{"sqs": "<queue ARN>", …} or {"queue": "<name of a queue faas makes>", …}'
  if (!Array.isArray(raw)) throw bad(`"eventSources" of ${fname} must be a list of ${form}`)
  const sources = raw.map((given: unknown, i): DeclaredSqsSource => {
    const at = `eventSources[${i}] of ${fname}`
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw bad(`${at} must be ${form}`)
    const source = given as Record<string, unknown>
    const unknown = Object.keys(source).filter((k) => !KEYS.includes(k))
    if (unknown.length > 0) throw bad(`${at} has ${unknown.join(', ')}; it takes ${KEYS.join(', ')}`)
    if ((source.sqs === undefined) === (source.queue === undefined))
      throw bad(`${at} must name one queue: "sqs" (an existing queue's ARN) or "queue" (a queue faas makes)`)
    const arn = source.sqs
    const name = source.queue
    if (arn !== undefined && (typeof arn !== 'string' || !QUEUE_ARN.test(arn)))
      throw bad(
        `${at}: "sqs" must be a queue's ARN (arn:aws:sqs:<region>:<account>:<name>), not ${JSON.stringify(arn)}`,
      )
    if (name !== undefined && (typeof name !== 'string' || !QUEUE_NAME.test(name)))
      throw bad(
        `${at}: "queue" must be a queue name (1 to 80 letters, digits, - and _, with .fifo for a FIFO queue), ` +
          `not ${JSON.stringify(name)}`,
      )
    const queue = arn !== undefined ? {queueArn: arn as string} : {createQueue: name as string}
    const fifo = queueOf(queue as DeclaredSqsSource).endsWith('.fifo')
    const batchingWindowS = source.batchingWindow ?? 0
    if (!whole(batchingWindowS, 0, 300)) throw bad(`${at}: "batchingWindow" must be 0 to 300 seconds`)
    if (fifo && batchingWindowS !== 0) throw bad(`${at}: a FIFO queue takes no "batchingWindow"`)
    const batchSize = source.batchSize ?? 10
    const most = fifo ? 10 : 10_000
    if (!whole(batchSize, 1, most))
      throw bad(`${at}: "batchSize" must be 1 to ${most} for ${fifo ? 'a FIFO' : 'a standard'} queue`)
    if ((batchSize as number) > 10 && batchingWindowS === 0)
      throw bad(`${at}: a "batchSize" over 10 needs a "batchingWindow" of at least 1 second (as Lambda requires)`)
    const {maximumConcurrency} = source
    if (maximumConcurrency !== undefined && !whole(maximumConcurrency, 2, 1000))
      throw bad(`${at}: "maximumConcurrency" must be 2 to 1000`)
    for (const key of ['reportBatchItemFailures', 'enabled'])
      if (source[key] !== undefined && typeof source[key] !== 'boolean')
        throw bad(`${at}: "${key}" must be true or false`)
    return {
      ...queue,
      batchSize: batchSize as number,
      batchingWindowS: batchingWindowS as number,
      reportBatchItemFailures: source.reportBatchItemFailures === true,
      ...(maximumConcurrency !== undefined ? {maximumConcurrency: maximumConcurrency as number} : {}),
      enabled: source.enabled !== false,
    }
  })
  const queues = sources.map(queueOf)
  const twice = queues.find((queue, i) => queues.indexOf(queue) !== i)
  if (twice) throw bad(`${fname} names ${twice} twice in "eventSources"; a queue maps to a function once`)
  return sources
}

/** The SQS actions Lambda's poller needs of the function's role, on exactly these queues. */
export const SQS_SOURCES_BUNDLE = 'sqs_event_sources'
export function sqsSourcesBundle(sources: DeclaredSqsSource[], region = '*') {
  return {
    name: SQS_SOURCES_BUNDLE,
    description: `What Lambda needs to poll the function's SQS event sources (${sources.length} queue(s)).`,
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          Resource: sources.map((s) => ('queueArn' in s ? s.queueArn : `arn:aws:sqs:${region}:*:${s.createQueue}`)),
        },
      ],
    },
  }
}
