import type {AwsClients} from './clients.js'
import type {Settings} from '../core/settings.js'
import {aws} from './errors.js'

/**
 * The account id: AWS_ACCOUNT_ID when set, else whoever the credentials belong to (STS). The STS
 * client (and its SDK package) is made only when the answer takes a call.
 */
export async function resolveAccountId(settings: Settings, clients: Pick<AwsClients, 'sts'>): Promise<string> {
  if (settings.accountId) return settings.accountId
  const {GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
  const identity = await aws('look up the AWS account (sts:GetCallerIdentity)', () =>
    clients.sts.send(new GetCallerIdentityCommand({})),
  )
  return identity.Account!
}
