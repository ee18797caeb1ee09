import {LambdaClient} from '@aws-sdk/client-lambda'

import {clientConfig, createAwsClients} from '../aws/clients.js'
import {getFunction, invoke as lambdaInvoke, type RetryPolicy} from '../aws/lambda.js'
import type {Settings} from '../core/settings.js'
import {LocalTarget} from '../targets/local.js'
import {createTarget} from '../targets/index.js'
import {awsReconfigurer, reconfigurerOf, type Reconfigurer} from './reconfigure.js'
import type {Invoke} from './runner.js'

/** One attempt per call: a bench records throttling and failures as they happen instead of retrying them away. */
const NO_RETRY: RetryPolicy = {attempts: 1, delayMs: () => 0, sleep: async () => {}}

/**
 * What a bench needs from a target: an invoke that measures (on AWS without the SDK's or faas's
 * retries, which would hide throttling inside inflated latencies) and, for sweeps and cold starts,
 * a reconfigurer (made only when asked for).
 */
export function benchTarget(
  kind: 'aws' | 'local',
  settings: Settings,
  options: {reconfigure: boolean},
): {invoke: Invoke; reconfigurer?: Reconfigurer; architecture: (name: string) => Promise<'arm64' | 'x86_64' | undefined>} {
  // The function's own Architectures, so the cost estimate prices what really runs.
  const architectureOf = async (lambda: LambdaClient, name: string) => (await getFunction(lambda, name))?.architectures[0] as 'arm64' | 'x86_64' | undefined
  if (kind === 'aws') {
    const measuring = new LambdaClient({...clientConfig(settings), maxAttempts: 1})
    return {
      invoke: (request) => lambdaInvoke(measuring, request, NO_RETRY),
      reconfigurer: options.reconfigure ? awsReconfigurer(createAwsClients(settings)) : undefined,
      architecture: (name) => architectureOf(measuring, name),
    }
  }
  const target = createTarget(kind, settings)
  return {
    invoke: (request) => target.invoke(request),
    reconfigurer: options.reconfigure ? reconfigurerOf(target) : undefined,
    architecture: async (name) => (target instanceof LocalTarget ? architectureOf(await target.lambda(), name) : undefined),
  }
}
