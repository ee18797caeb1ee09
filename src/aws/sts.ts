import {GetCallerIdentityCommand, type STSClient} from '@aws-sdk/client-sts'

import type {Settings} from '../core/settings.js'
import {aws} from './errors.js'

/** The account id: AWS_ACCOUNT_ID when set, else whoever the credentials belong to (STS). */
export async function resolveAccountId(settings: Settings, sts: STSClient): Promise<string> {
  if (settings.accountId) return settings.accountId
  const identity = await aws('look up the AWS account (sts:GetCallerIdentity)', () => sts.send(new GetCallerIdentityCommand({})))
  return identity.Account!
}
