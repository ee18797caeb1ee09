import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parseEventSources, queueVisibilityTimeoutS, sqsSourcesBundle} from '../../src/core/event-sources.js'
import {UserError} from '../../src/core/errors.js'

const ARN = 'arn:aws:sqs:us-east-1:123456789012:orders'
const bad = (what: string) => new UserError(what, {code: 'BAD_MANIFEST', fix: 'fix it'})
const parse = (raw: unknown) => parseEventSources(raw, 'consumer', bad)
const refused = (raw: unknown) => {
  try {
    parse(raw)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`)
}

test("Lambda's defaults, and every setting", () => {
  assert.equal(parse([{sqs: ARN}]), [
    {queueArn: ARN, batchSize: 10, batchingWindowS: 0, reportBatchItemFailures: false, enabled: true},
  ])
  const all = {sqs: ARN, batchSize: 500, batchingWindow: 5, reportBatchItemFailures: true, maximumConcurrency: 4}
  assert.equal(parse([{...all, enabled: false}])[0], {
    queueArn: ARN,
    batchSize: 500,
    batchingWindowS: 5,
    reportBatchItemFailures: true,
    maximumConcurrency: 4,
    enabled: false,
  })
  assert.equal(parse(undefined), [])
})

test("outside Lambda's limits: each named", () => {
  assert.match(refused({sqs: ARN}), /must be a list/)
  assert.match(refused([{sqs: 'orders'}]), /"sqs" must be a queue's ARN/)
  assert.match(refused([{sqs: ARN, batchSize: 0}]), /"batchSize" must be 1 to 10000 for a standard queue/)
  assert.match(refused([{sqs: `${ARN}.fifo`, batchSize: 11}]), /1 to 10 for a FIFO queue/)
  assert.match(refused([{sqs: `${ARN}.fifo`, batchingWindow: 1}]), /FIFO queue takes no "batchingWindow"/)
  assert.match(refused([{sqs: ARN, batchSize: 11}]), /over 10 needs a "batchingWindow" of at least 1 second/)
  assert.match(refused([{sqs: ARN, batchingWindow: 301}]), /0 to 300 seconds/)
  assert.match(refused([{sqs: ARN, maximumConcurrency: 1}]), /"maximumConcurrency" must be 2 to 1000/)
  assert.match(refused([{sqs: ARN, enabled: 'yes'}]), /"enabled" must be true or false/)
  assert.match(refused([{sqs: ARN, batch: 5}]), /has batch; it takes sqs, queue, batchSize/)
  assert.match(refused([{sqs: ARN}, {sqs: ARN}]), /names .*orders twice/)
})

test('a queue faas makes: named in place of an ARN, checked as SQS names queues', () => {
  assert.equal(parse([{queue: 'jobs.fifo', batchSize: 5}]), [
    {createQueue: 'jobs.fifo', batchSize: 5, batchingWindowS: 0, reportBatchItemFailures: false, enabled: true},
  ])
  assert.match(refused([{queue: 'jobs', sqs: ARN}]), /must name one queue: "sqs" .* or "queue"/)
  assert.match(refused([{batchSize: 5}]), /must name one queue/)
  assert.match(refused([{queue: 'no spaces'}]), /"queue" must be a queue name \(1 to 80 letters/)
  assert.match(refused([{queue: 'x'.repeat(81)}]), /"queue" must be a queue name/)
  assert.match(refused([{queue: 'jobs.fifo', batchSize: 11}]), /1 to 10 for a FIFO queue/)
  assert.match(refused([{queue: 'jobs'}, {queue: 'jobs'}]), /names jobs twice/)
})

test("the role's SQS actions: on each queue's ARN, or on a made queue's name in the region", () => {
  const bundle = sqsSourcesBundle(parse([{sqs: ARN}, {queue: 'jobs'}]), 'eu-west-1')
  assert.equal(bundle.document.Statement[0]!.Resource, [ARN, 'arn:aws:sqs:eu-west-1:*:jobs'])
  assert.equal([queueVisibilityTimeoutS(3), queueVisibilityTimeoutS(60), queueVisibilityTimeoutS(900)], [30, 360, 5400])
})

test.run()
