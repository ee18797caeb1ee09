import {
  CreateAliasCommand,
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  paginateListVersionsByFunction,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  waitUntilFunctionActiveV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda'

import {UserError} from '../core/errors.js'
import {pollUntil} from '../core/wait.js'
import {aws as awsCall} from './errors.js'
import {isThrottled, waitBounds} from './lambda.js'

/**
 * Publishing a version and pointing an alias at it: the same Lambda calls on AWS and on the local
 * service. Idempotent: PublishVersion returns the last version when nothing changed since (Lambda's
 * own rule), and the alias is written only when it points elsewhere.
 */

export interface PublishRequest {
  /** The alias to point at the published version. */
  alias?: string
  /** RoutingConfig.AdditionalVersionWeights: another version and the share of the alias's calls it keeps. */
  weights?: Record<string, number>
  /** Provisioned concurrency on the alias, or without one on the version. */
  provisioned?: number
}

export interface Published {
  version: string
  /** False when nothing had changed since that version was published. */
  created: boolean
  alias?: {name: string; version: string; weights: Record<string, number>; action: 'created' | 'updated' | 'unchanged'}
  provisioned?: {qualifier: string; requested: number; status: string; action: 'updated' | 'unchanged'}
}

type AwsError = {name?: string}

/**
 * An AWS call as errors.ts's aws(), with throttling that outlasted the SDK's retries said as such: these
 * calls are idempotent here, so running the command again finishes the job.
 */
async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await awsCall(action, call)
  } catch (error) {
    if (!isThrottled(error as AwsError)) throw error
    throw new UserError(`AWS kept throttling the request to ${action} (${(error as AwsError).name}).`, {
      code: 'THROTTLED',
      fix:
        "Run the command again in a minute (what is done is kept, nothing is published twice); check the account's " +
        'Lambda API limits.',
      cause: error,
    })
  }
}

const sameWeights = (a: Record<string, number> | undefined, b: Record<string, number> | undefined): boolean => {
  const left = Object.entries(a ?? {}).sort()
  const right = Object.entries(b ?? {}).sort()
  return JSON.stringify(left) === JSON.stringify(right)
}

async function versionsOf(lambda: LambdaClient, name: string): Promise<Set<string>> {
  const versions = new Set<string>()
  await aws(`list the versions of ${name} (lambda:ListVersionsByFunction)`, async () => {
    for await (const page of paginateListVersionsByFunction({client: lambda}, {FunctionName: name}))
      for (const v of page.Versions ?? []) if (v.Version) versions.add(v.Version)
  })
  return versions
}

/** Publishes $LATEST (a no-op when unchanged) and, when asked, points the alias at it with the weights. */
export async function publishAndAlias(
  lambda: LambdaClient,
  name: string,
  request: PublishRequest,
  options: {provisionWaitMs?: number} = {},
): Promise<Published> {
  const before = await versionsOf(lambda, name)
  const out = await aws(`publish a version of ${name} (lambda:PublishVersion)`, () =>
    lambda.send(new PublishVersionCommand({FunctionName: name})),
  )
  const version = out.Version!
  await waitUntilFunctionActiveV2(
    {client: lambda, ...(await waitBounds(lambda))},
    {FunctionName: name, Qualifier: version},
  )
  const published: Published = {version, created: !before.has(version)}
  const wait = options.provisionWaitMs ?? PROVISION_WAIT_MS
  if (!request.alias) return withProvisioned(lambda, name, version, request.provisioned, published, wait)
  const weights = request.weights ?? {}
  for (const other of Object.keys(weights)) {
    if (other === version)
      throw new UserError(`--alias-weight names version ${other} of ${name}, the version just published.`, {
        code: 'BAD_ALIAS_WEIGHT',
        fix: `Give the weight to an older version (the alias's own is ${version}), or leave out --alias-weight.`,
      })
    if (!before.has(other))
      throw new UserError(`--alias-weight names version ${other} of ${name}, which does not exist.`, {
        code: 'BAD_ALIAS_WEIGHT',
        fix: `Name a published version (${[...before].filter((v) => v !== '$LATEST').join(', ') || 'none yet'}).`,
      })
  }
  const alias = request.alias
  const current = await aws(`read alias ${alias} of ${name} (lambda:GetAlias)`, () =>
    lambda.send(new GetAliasCommand({FunctionName: name, Name: alias})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  const routing = {AdditionalVersionWeights: weights}
  let action: 'created' | 'updated' | 'unchanged' = 'unchanged'
  if (!current) {
    await aws(`create alias ${alias} of ${name} (lambda:CreateAlias)`, () =>
      lambda.send(
        new CreateAliasCommand({FunctionName: name, Name: alias, FunctionVersion: version, RoutingConfig: routing}),
      ),
    )
    action = 'created'
  } else if (
    current.FunctionVersion !== version ||
    !sameWeights(current.RoutingConfig?.AdditionalVersionWeights, weights)
  ) {
    await aws(`update alias ${alias} of ${name} (lambda:UpdateAlias)`, () =>
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: name,
          Name: alias,
          FunctionVersion: version,
          RoutingConfig: routing,
          RevisionId: current.RevisionId,
        }),
      ),
    )
    action = 'updated'
  }
  return withProvisioned(
    lambda,
    name,
    alias,
    request.provisioned,
    {...published, alias: {name: alias, version, weights, action}},
    wait,
  )
}

/** Longest wait for provisioned concurrency to be READY (Lambda takes minutes; the local service, an init). */
const PROVISION_WAIT_MS = 20 * 60_000

/**
 * Sets provisioned concurrency on the alias (or version) when it differs, and waits for it to be READY;
 * FAILED is an error with Lambda's reason.
 */
async function withProvisioned(
  lambda: LambdaClient,
  name: string,
  qualifier: string,
  requested: number | undefined,
  published: Published,
  waitMs: number,
): Promise<Published> {
  if (requested === undefined) return published
  const read = () =>
    lambda
      .send(new GetProvisionedConcurrencyConfigCommand({FunctionName: name, Qualifier: qualifier}))
      .catch((error: AwsError) => {
        if (error?.name === 'ProvisionedConcurrencyConfigNotFoundException') return undefined
        throw error
      })
  const what = `provisioned concurrency of ${name}:${qualifier}`
  let current = await aws(`read the ${what} (lambda:GetProvisionedConcurrencyConfig)`, read)
  let action: 'updated' | 'unchanged' = 'unchanged'
  if (current?.RequestedProvisionedConcurrentExecutions !== requested) {
    await aws(`set the ${what} (lambda:PutProvisionedConcurrencyConfig)`, () =>
      lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: name,
          Qualifier: qualifier,
          ProvisionedConcurrentExecutions: requested,
        }),
      ),
    )
    action = 'updated'
  }
  const settled = await pollUntil(
    async () => {
      current = await aws(`read the ${what} (lambda:GetProvisionedConcurrencyConfig)`, read)
      return current?.Status !== 'IN_PROGRESS'
    },
    {timeoutMs: waitMs, maxDelayMs: 5000},
  )
  if (current?.Status === 'FAILED')
    throw new UserError(`The ${what} FAILED: ${(current.StatusReason ?? 'no reason given').replace(/\.?$/, '.')}`, {
      code: 'PROVISIONING_FAILED',
      fix: 'Fix the init error (faas logs shows it), deploy again, or leave out --provisioned.',
    })
  const status = settled ? (current?.Status ?? 'READY') : 'IN_PROGRESS'
  return {...published, provisioned: {qualifier, requested, status, action}}
}
