import type {
  FunctionEventInvokeConfig,
  PutFunctionEventInvokeConfigRequest,
  UpdateFunctionEventInvokeConfigRequest,
} from '@aws-sdk/client-lambda'

import {arnOf, nameOf} from './arns.js'
import type {ControlContext, Result} from './control-api.js'
import {invalid, LambdaApiError, notFound} from './lambda-errors.js'
import type {EventInvokeConfig, LocalFunction} from './types.js'

/**
 * Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s): a function's retries, maximum event age and
 * destinations for its Event invocations, kept on the function (saved with it). Destinations are checked
 * when set: a queue, bus or function that does not exist is refused, as Lambda refuses what it cannot reach.
 */

export type EventInvokeConfigBody = Partial<
  PutFunctionEventInvokeConfigRequest | UpdateFunctionEventInvokeConfigRequest
>

const noConfig = (fn: LocalFunction) =>
  new LambdaApiError(
    404,
    'ResourceNotFoundException',
    `The function ${fn.arn} doesn't have an EventInvokeConfig. Set one with PutFunctionEventInvokeConfig.`,
  )

function functionOf(ctx: ControlContext, ref: string, qualifier: string | undefined): LocalFunction {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx, name))
  if (qualifier !== undefined && qualifier !== '$LATEST')
    throw invalid(`The local Lambda service has no versions or aliases: use Qualifier $LATEST or none (${qualifier}).`)
  return fn
}

function rangeOf(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(
      `${field} must be a whole number from ${min} to ${max} (Lambda's range); got ${JSON.stringify(value)}.`,
    )
  return value
}

/** The response shape (FunctionEventInvokeConfig). */
export function describe(fn: LocalFunction, config: EventInvokeConfig): FunctionEventInvokeConfig {
  const destination = (arn: string | undefined) => (arn ? {Destination: arn} : undefined)
  return {
    FunctionArn: `${fn.arn}:$LATEST`,
    LastModified: config.lastModified as unknown as Date,
    MaximumRetryAttempts: config.maximumRetryAttempts ?? 2,
    MaximumEventAgeInSeconds: config.maximumEventAgeInSeconds ?? 21_600,
    DestinationConfig: {OnSuccess: destination(config.onSuccess) ?? {}, OnFailure: destination(config.onFailure) ?? {}},
  }
}

/** PUT replaces the configuration (absent fields back to Lambda's defaults); POST (Update) changes what it names. */
export async function putEventInvokeConfig(
  ctx: ControlContext,
  ref: string,
  qualifier: string | undefined,
  body: EventInvokeConfigBody,
  replace: boolean,
): Promise<Result> {
  const fn = functionOf(ctx, ref, qualifier)
  const base: EventInvokeConfig = replace || !fn.eventInvokeConfig ? {lastModified: 0} : {...fn.eventInvokeConfig}
  const retries = rangeOf(body.MaximumRetryAttempts, 'MaximumRetryAttempts', 0, 2)
  const age = rangeOf(body.MaximumEventAgeInSeconds, 'MaximumEventAgeInSeconds', 60, 21_600)
  if (retries !== undefined) base.maximumRetryAttempts = retries
  if (age !== undefined) base.maximumEventAgeInSeconds = age
  for (const [key, field] of [
    ['OnSuccess', 'onSuccess'],
    ['OnFailure', 'onFailure'],
  ] as const) {
    const given = body.DestinationConfig?.[key]
    if (given === undefined) continue
    const arn = given?.Destination ?? undefined
    if (arn !== undefined && arn !== '') await checkDestination(ctx, fn, arn, key)
    base[field] = arn || undefined
  }
  base.lastModified = Date.now() / 1000
  fn.eventInvokeConfig = base
  await ctx.changed(fn.name, 'event-invoke-config')
  return [200, describe(fn, base)]
}

async function checkDestination(ctx: ControlContext, fn: LocalFunction, arn: string, key: string): Promise<void> {
  if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:(sqs|lambda|events|sns):/.test(arn))
    throw invalid(
      `DestinationConfig.${key}.Destination ${JSON.stringify(arn)} is not a destination ARN: give an SQS queue ` +
        `(arn:aws:sqs:…), an EventBridge bus (arn:aws:events:…:event-bus/…) or a function (arn:aws:lambda:…).`,
    )
  if (!ctx.destinations) throw invalid(`The local Lambda service cannot deliver to ${arn}.`)
  const problem = await ctx.destinations(arn, fn)
  if (problem) throw invalid(`DestinationConfig.${key}.Destination ${arn} cannot be used: ${problem}`)
}

export function getEventInvokeConfig(ctx: ControlContext, ref: string, qualifier: string | undefined): Result {
  const fn = functionOf(ctx, ref, qualifier)
  if (!fn.eventInvokeConfig) throw noConfig(fn)
  return [200, describe(fn, fn.eventInvokeConfig)]
}

export async function deleteEventInvokeConfig(
  ctx: ControlContext,
  ref: string,
  qualifier: string | undefined,
): Promise<Result> {
  const fn = functionOf(ctx, ref, qualifier)
  if (!fn.eventInvokeConfig) throw noConfig(fn)
  fn.eventInvokeConfig = undefined
  await ctx.changed(fn.name, 'event-invoke-config')
  return [204, undefined]
}

export function listEventInvokeConfigs(ctx: ControlContext, ref: string): Result {
  const fn = functionOf(ctx, ref, undefined)
  const configs = fn.eventInvokeConfig ? [describe(fn, fn.eventInvokeConfig)] : []
  return [200, {FunctionEventInvokeConfigs: configs}]
}
