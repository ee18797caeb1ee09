import type {UserError} from './errors.js'

/**
 * A function's SQS event source, as benchmark.json declares it under "eventSources" and `faas deploy` makes it an
 * event source mapping (on AWS and on the local service alike): `{"sqs": "<queue ARN>", "batchSize": 10,
 * "batchingWindow": 0, "reportBatchItemFailures": false, "maximumConcurrency": 2, "enabled": true}`, all but "sqs"
 * optional, checked against Lambda's limits.
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

const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/
const KEYS = ['sqs', 'batchSize', 'batchingWindow', 'reportBatchItemFailures', 'maximumConcurrency', 'enabled']

const whole = (value: unknown, min: number, max: number) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max

/** The event sources of function `fname`, or `bad` naming what is wrong. */
export function parseEventSources(raw: unknown, fname: string, bad: (what: string) => UserError): SqsEventSource[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) throw bad(`"eventSources" of ${fname} must be a list of {"sqs": "<queue ARN>", …}`)
  const sources = raw.map((given: unknown, i): SqsEventSource => {
    const at = `eventSources[${i}] of ${fname}`
    if (typeof given !== 'object' || given === null || Array.isArray(given))
      throw bad(`${at} must be {"sqs": "<queue ARN>", …}`)
    const source = given as Record<string, unknown>
    const unknown = Object.keys(source).filter((k) => !KEYS.includes(k))
    if (unknown.length > 0) throw bad(`${at} has ${unknown.join(', ')}; it takes ${KEYS.join(', ')}`)
    const arn = source.sqs
    if (typeof arn !== 'string' || !QUEUE_ARN.test(arn))
      throw bad(
        `${at}: "sqs" must be a queue's ARN (arn:aws:sqs:<region>:<account>:<name>), not ${JSON.stringify(arn)}`,
      )
    const fifo = arn.endsWith('.fifo')
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
      queueArn: arn,
      batchSize: batchSize as number,
      batchingWindowS: batchingWindowS as number,
      reportBatchItemFailures: source.reportBatchItemFailures === true,
      ...(maximumConcurrency !== undefined ? {maximumConcurrency: maximumConcurrency as number} : {}),
      enabled: source.enabled !== false,
    }
  })
  const arns = sources.map((s) => s.queueArn)
  const twice = arns.find((arn, i) => arns.indexOf(arn) !== i)
  if (twice) throw bad(`${fname} names ${twice} twice in "eventSources"; a queue maps to a function once`)
  return sources
}

/** The SQS actions Lambda's poller needs of the function's role, on exactly these queues. */
export const SQS_SOURCES_BUNDLE = 'sqs_event_sources'
export function sqsSourcesBundle(sources: SqsEventSource[]) {
  return {
    name: SQS_SOURCES_BUNDLE,
    description: `What Lambda needs to poll the function's SQS event sources (${sources.length} queue(s)).`,
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          Resource: sources.map((s) => s.queueArn),
        },
      ],
    },
  }
}
