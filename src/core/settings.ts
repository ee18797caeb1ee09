import {UserError} from './errors.js'
import {parsePlatform, type Platform} from './platform.js'

/**
 * Everything faas reads from the environment, in one place. Flags override these; the AWS SDK's own
 * chain (profiles, SSO, AWS_ENDPOINT_URL[_<SERVICE>]) still applies underneath.
 */
export interface Settings {
  region?: string
  accountId?: string
  /** Explicit credentials, only when given under the seed's names (AWS_ACCESS_KEY / AWS_SECRET_KEY). */
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
  /** Registry override (FAAS_REGISTRY), e.g. 127.0.0.1:5000; ECR of the account otherwise. */
  registry?: string
  /**
   * Base image for builds (FAAS_BASE_IMAGE): "local" for faas's offline base, an image ref, or unset for the AWS one.
   */
  baseImage?: string
  platform: Platform
  target: 'local' | 'aws'
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const target = env.FAAS_TARGET ?? 'local'
  if (target !== 'local' && target !== 'aws') {
    throw new UserError(`FAAS_TARGET is "${target}".`, {code: 'BAD_TARGET', fix: 'Set it to "local" or "aws".'})
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? env.AWS_SECRET_KEY
  // Only the seed's names need passing by hand: the SDK reads AWS_ACCESS_KEY_ID & co. itself.
  const seedNames = Boolean(accessKeyId && secretAccessKey && (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY))
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    accountId: env.AWS_ACCOUNT_ID,
    credentials: seedNames
      ? {accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, sessionToken: env.AWS_SESSION_TOKEN}
      : undefined,
    registry: env.FAAS_REGISTRY,
    baseImage: env.FAAS_BASE_IMAGE,
    platform: parsePlatform(env.FAAS_PLATFORM ?? 'linux/arm64'),
    target,
  }
}

export function requireRegion(settings: Settings): string {
  if (!settings.region) {
    throw new UserError('No AWS region is set.', {
      code: 'NO_REGION',
      fix: 'Export AWS_REGION (or AWS_DEFAULT_REGION), e.g. AWS_REGION=us-west-1.',
    })
  }
  return settings.region
}
