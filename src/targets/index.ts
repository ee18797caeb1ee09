import {createAwsClients} from '../aws/clients.js'
import type {RetryPolicy} from '../aws/lambda.js'
import {loadPolicyBundles} from '../core/policies.js'
import type {Settings} from '../core/settings.js'
import {AwsTarget} from './aws.js'
import {createLocalTarget} from './local.js'
import type {Target} from './target.js'

export interface TargetOptions {
  /** A JSON file of the user's own policy bundles (also FAAS_POLICIES_FILE). */
  policiesFile?: string
  retry?: RetryPolicy
}

/** The target commands act on: AWS Lambda or the local Lambda service. */
export function createTarget(kind: 'aws' | 'local', settings: Settings, options: TargetOptions = {}): Target {
  if (kind === 'local') return createLocalTarget(settings)
  return new AwsTarget({
    clients: createAwsClients(settings),
    bundles: loadPolicyBundles(options.policiesFile ?? process.env.FAAS_POLICIES_FILE),
    retry: options.retry,
  })
}
