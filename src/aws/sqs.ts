import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'

import {aws} from './errors.js'

/** Marks the queues faas made (for the account's owner: what they are and where they came from). */
const MADE_BY = {'faas:made-by': 'faas deploy'}

const isMissing = (error: unknown) =>
  ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'].includes((error as {name?: string})?.name ?? '')

async function queueUrl(client: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetQueueUrlCommand({QueueName: name}))).QueueUrl
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

async function attributesOf(client: SQSClient, url: string, name: string) {
  const {Attributes} = await aws(`read queue ${name} (sqs:GetQueueAttributes)`, () =>
    client.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['QueueArn', 'VisibilityTimeout']})),
  )
  return {arn: Attributes!.QueueArn!, visibilityTimeoutS: Number(Attributes!.VisibilityTimeout)}
}

/**
 * The queue `name`, made if absent (FIFO when the name ends in .fifo) with a visibility timeout of
 * `visibilityTimeoutS`; an existing one that hides a received message for less gets it raised (Lambda refuses a
 * mapping from a queue whose visibility timeout is below the function's timeout). Idempotent: a second call only
 * reads.
 */
export async function ensureQueue(
  client: SQSClient,
  name: string,
  visibilityTimeoutS: number,
): Promise<{arn: string; action: 'created' | 'updated' | 'unchanged'}> {
  const found = await aws(`find queue ${name} (sqs:GetQueueUrl)`, () => queueUrl(client, name))
  if (!found) {
    const {QueueUrl} = await aws(`create queue ${name} (sqs:CreateQueue)`, () =>
      client.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(visibilityTimeoutS),
            ...(name.endsWith('.fifo') ? {FifoQueue: 'true'} : {}),
          },
          tags: MADE_BY,
        }),
      ),
    )
    return {arn: (await attributesOf(client, QueueUrl!, name)).arn, action: 'created'}
  }
  const current = await attributesOf(client, found, name)
  if (current.visibilityTimeoutS >= visibilityTimeoutS) return {arn: current.arn, action: 'unchanged'}
  await aws(`raise the visibility timeout of queue ${name} (sqs:SetQueueAttributes)`, () =>
    client.send(
      new SetQueueAttributesCommand({QueueUrl: found, Attributes: {VisibilityTimeout: String(visibilityTimeoutS)}}),
    ),
  )
  return {arn: current.arn, action: 'updated'}
}

/** Deletes the queue and the messages in it; a missing one is 'absent'. */
export async function deleteQueue(client: SQSClient, name: string): Promise<'deleted' | 'absent'> {
  const url = await aws(`find queue ${name} (sqs:GetQueueUrl)`, () => queueUrl(client, name))
  if (!url) return 'absent'
  await aws(`delete queue ${name} (sqs:DeleteQueue)`, () => client.send(new DeleteQueueCommand({QueueUrl: url})))
  return 'deleted'
}
