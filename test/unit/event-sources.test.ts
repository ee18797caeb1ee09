import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parseEventSources} from '../../src/core/event-sources.js'
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
  assert.match(refused([{sqs: ARN, batch: 5}]), /has batch; it takes sqs, batchSize/)
  assert.match(refused([{sqs: ARN}, {sqs: ARN}]), /names .*orders twice/)
})

test.run()
