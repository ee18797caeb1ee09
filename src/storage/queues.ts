import {SQSClient} from '@aws-sdk/client-sqs'

import {deleteQueue, ensureQueue} from '../aws/sqs.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {HealthAnswer} from '../local/service-client.js'
import {destroyEach} from './destroy-each.js'

/**
 * SQS of the emulator a local service polls, from its health answer (its --aws-endpoint, else the local store's moto;
 * any credentials do there), or undefined when it has none. On AWS: AwsClients.sqs.
 */
export function emulatorSqs(state: HealthAnswer | undefined): SQSClient | undefined {
  const endpoint = state?.awsEndpoint ?? state?.s3Endpoint
  if (!state || !endpoint) return undefined
  return new SQSClient({endpoint, region: state.region, credentials: {accessKeyId: 'local', secretAccessKey: 'local'}})
}

/**
 * Makes the queues function `fname` declares in a local service's emulator (`sqs`, asked once for all of them),
 * refusing when it has none.
 */
export function localQueueMaker(sqs: () => Promise<SQSClient | undefined>, fname: string) {
  let emulator: Promise<SQSClient | undefined> | undefined
  return async (name: string, visibilityTimeoutS: number) => {
    const client = await (emulator ??= sqs())
    if (!client)
      throw new UserError(
        `${fname} declares a queue faas makes (${name}), and the local service it deploys to has no AWS emulator to ` +
          'keep queues in.',
        {code: 'NO_QUEUE_STORE', fix: 'Stop it (faas local stop) and deploy again: faas then starts it with one.'},
      )
    return ensureQueue(client, name, visibilityTimeoutS)
  }
}

/** Deletes the queues with the messages in them (destroy --queues); what was not there is 'absent'. */
export function destroyQueues(client: SQSClient, names: string[], emit: Emit) {
  return destroyEach('queue', names, (name) => deleteQueue(client, name), emit)
}
