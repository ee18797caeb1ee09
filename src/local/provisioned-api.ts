import {checkProvisioned} from './account.js'
import {functionOf, type ControlContext, type Result} from './control-api.js'
import {invalid, LambdaApiError, notFound} from './lambda-errors.js'
import type {LocalFunction} from './types.js'
import {findVersion, isVersionNumber, LATEST, requestedQualifier} from './versions.js'

/**
 * Put/Get/Delete/ListProvisionedConcurrencyConfigs, as Lambda answers them. The configuration is saved
 * with the function; the environments it asks for are the service's (provisioned.ts), whose state
 * (allocated, IN_PROGRESS/READY/FAILED) the answers report.
 */

const configNotFound = () =>
  new LambdaApiError(
    404,
    'ProvisionedConcurrencyConfigNotFoundException',
    'No Provisioned Concurrency Config found for this function',
  )

/** The version or alias a configuration is for: it must exist, and $LATEST cannot have one. */
function qualifierOf(ctx: ControlContext, ref: string, query: URLSearchParams): {fn: LocalFunction; qualifier: string} {
  const fn = functionOf(ctx, ref)
  const qualifier = requestedQualifier(ref, query.get('Qualifier'))
  if (qualifier === undefined)
    throw invalid('Qualifier is required: provisioned concurrency is set on a published version or an alias.')
  if (qualifier === LATEST)
    throw invalid('Provisioned Concurrency Configs cannot be applied to unpublished function versions.')
  const exists = isVersionNumber(qualifier) ? findVersion(fn, qualifier) : fn.aliases?.[qualifier]
  if (!exists) throw notFound(`${fn.arn}:${qualifier}`)
  return {fn, qualifier}
}

function configJson(ctx: ControlContext, fn: LocalFunction, qualifier: string, withArn = false) {
  const config = fn.provisioned![qualifier]!
  const state = ctx.provisioning(fn.name, qualifier)
  return {
    ...(withArn ? {FunctionArn: `${fn.arn}:${qualifier}`} : {}),
    RequestedProvisionedConcurrentExecutions: config.requested,
    AvailableProvisionedConcurrentExecutions: state?.allocated ?? 0,
    AllocatedProvisionedConcurrentExecutions: state?.allocated ?? 0,
    Status: state?.status ?? 'IN_PROGRESS',
    ...(state?.reason ? {StatusReason: state.reason} : {}),
    LastModified: config.lastModified,
  }
}

export async function putProvisioned(
  ctx: ControlContext,
  ref: string,
  query: URLSearchParams,
  body: {ProvisionedConcurrentExecutions?: unknown},
): Promise<Result> {
  const {fn, qualifier} = qualifierOf(ctx, ref, query)
  const requested = body.ProvisionedConcurrentExecutions
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1)
    throw invalid(`ProvisionedConcurrentExecutions must be a whole number ≥ 1; got ${JSON.stringify(requested)}.`)
  checkProvisioned(ctx, fn, qualifier, requested)
  if (requested > ctx.maxEnvironments) {
    throw invalid(
      `Requested Provisioned Concurrency ${requested} is more than the ${ctx.maxEnvironments} environments the local ` +
        `service runs per function (faas local start --max-environments).`,
    )
  }
  fn.provisioned = {
    ...fn.provisioned,
    [qualifier]: {requested, lastModified: new Date().toISOString().replace('Z', '+0000')},
  }
  await ctx.changed(fn.name, 'provisioned', qualifier)
  return [202, configJson(ctx, fn, qualifier)]
}

export function getProvisioned(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  if (query.get('List') === 'ALL') {
    const fn = functionOf(ctx, ref)
    const configs = Object.keys(fn.provisioned ?? {}).map((q) => configJson(ctx, fn, q, true))
    return [200, {ProvisionedConcurrencyConfigs: configs}]
  }
  const {fn, qualifier} = qualifierOf(ctx, ref, query)
  if (!fn.provisioned?.[qualifier]) throw configNotFound()
  return [200, configJson(ctx, fn, qualifier)]
}

export async function deleteProvisioned(ctx: ControlContext, ref: string, query: URLSearchParams): Promise<Result> {
  const {fn, qualifier} = qualifierOf(ctx, ref, query)
  if (fn.provisioned?.[qualifier]) {
    const {[qualifier]: _gone, ...rest} = fn.provisioned
    fn.provisioned = rest
    await ctx.changed(fn.name, 'provisioned', qualifier)
  }
  return [204, undefined]
}
