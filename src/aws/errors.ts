import {UserError, messageOf} from '../core/errors.js'

/**
 * Turns the AWS errors a user can act on into UserErrors (what failed, the next step);
 * anything else is returned unchanged as an internal error.
 */
export function awsUserError(error: unknown, action: string): unknown {
  const e = error as {name?: string; message?: string; $metadata?: {httpStatusCode?: number}}
  const name = e?.name ?? ''
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) {
    return new UserError(`No AWS credentials were found to ${action}.`, {
      code: 'NO_CREDENTIALS',
      fix:
        'Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the seed names AWS_ACCESS_KEY / AWS_SECRET_KEY), ' +
        'or set AWS_PROFILE to a configured profile (aws configure / aws sso login).',
      cause: error,
    })
  }
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    const permission = /not authorized to perform: ([\w:*-]+)/.exec(e.message ?? '')?.[1]
    return new UserError(`AWS refused to ${action}: ${e.message}`, {
      code: 'ACCESS_DENIED',
      fix: permission
        ? `Grant the caller the ${permission} permission, or use credentials that have it.`
        : 'Check the IAM permissions of the credentials in use.',
      cause: error,
    })
  }
  if (/InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|ExpiredToken/i.test(name)) {
    return new UserError(`AWS did not accept the credentials to ${action}: ${messageOf(error)}`, {
      code: 'BAD_CREDENTIALS',
      fix: 'Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or refresh the session token / SSO login).',
      cause: error,
    })
  }
  if (
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up/.test(messageOf(error)) ||
    name === 'TimeoutError'
  ) {
    return new UserError(`Cannot reach AWS to ${action}: ${messageOf(error)}.`, {
      code: 'AWS_UNREACHABLE',
      fix: 'Check the network, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> if you point faas at an emulator.',
      cause: error,
    })
  }
  const status = e?.$metadata?.httpStatusCode ?? 0
  if (
    status >= 500 ||
    /^(ServiceUnavailable|InternalFailure|InternalError|InternalServerError|ServiceException)/.test(name)
  ) {
    // The SDK has already retried these; what is left is AWS's side (or the emulator's) failing.
    return new UserError(
      `AWS failed to ${action}: ${name || 'an error'}${status ? ` (HTTP ${status})` : ''}: ` +
        `${e?.message ?? messageOf(error)}.`,
      {
        code: 'AWS_FAILED',
        fix:
          "A fault on AWS's side: run the command again in a minute (what is done is kept); if it persists, " +
          'check the AWS Health Dashboard, or the emulator behind AWS_ENDPOINT_URL.',
        cause: error,
      },
    )
  }
  return error
}

/** Runs an AWS call, rethrowing user-actionable failures as UserErrors. */
export async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw awsUserError(error, action)
  }
}
