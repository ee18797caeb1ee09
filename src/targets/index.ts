import type {RetryPolicy} from '../aws/lambda.js'
import type {Settings} from '../core/settings.js'
import type {RunTarget, ServeHost} from './target.js'

export interface TargetOptions {
  /** Calls the target's invoker must carry at once (bench --max-in-flight); its sockets are sized to it. */
  maxInFlight?: number
  retry?: RetryPolicy
}

/**
 * The target commands act on: AWS Lambda or the local Lambda service. Each is loaded when chosen, so
 * an AWS command does not load the Docker client, nor a local one IAM and ECR.
 */
export async function createTarget(
  kind: 'aws' | 'local',
  settings: Settings,
  options: TargetOptions = {},
): Promise<RunTarget> {
  if (kind === 'local') {
    const {createLocalTarget} = await import('./local.js')
    return createLocalTarget(settings, {maxInFlight: options.maxInFlight})
  }
  const [{createAwsClients}, {AwsTarget}] = await Promise.all([import('../aws/clients.js'), import('./aws.js')])
  return new AwsTarget({
    clients: createAwsClients(settings, {maxInFlight: options.maxInFlight}),
    retry: options.retry,
    settings,
  })
}

/** Where `faas serve` runs its servers: the local engine (servers have no AWS counterpart). */
export async function createServeHost(): Promise<ServeHost> {
  const {createServeHost} = await import('./serve-host.js')
  return createServeHost()
}
