import {randomUUID} from 'node:crypto'

import {awsJson, type JsonApiTarget} from '../../src/local/emulator-api.js'

/** The stack's AWS emulator (moto), where the local service's queues and buses live in tests. */
export const MOTO = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
export const emulator: JsonApiTarget = {
  endpoint: MOTO,
  region: 'us-east-1',
  credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
}

/** A fresh queue in the emulator (a FIFO one when `suffix` is `.fifo`): its URL and ARN. */
export async function createQueue(
  prefix: string,
  attributes: Record<string, string> = {},
  suffix = '',
): Promise<{url: string; arn: string}> {
  const {QueueUrl} = await awsJson<{QueueUrl: string}>(emulator, 'sqs', 'CreateQueue', {
    QueueName: `${prefix}-${randomUUID().slice(0, 18)}${suffix}`,
    Attributes: attributes,
  })
  const {Attributes} = await awsJson<{Attributes: {QueueArn: string}}>(emulator, 'sqs', 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['QueueArn'],
  })
  return {url: QueueUrl, arn: Attributes.QueueArn}
}
