import {createHash} from 'node:crypto'

import type {
  CreateFunctionRequest,
  PutFunctionConcurrencyRequest,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
} from '@aws-sdk/client-lambda'

import type {DockerEngine} from '../docker/engine.js'
import type {EventSourceMappings} from './event-sources.js'
import {conflict, invalid, notFound} from './lambda-errors.js'
import type {AliasLookup, LocalFunction, UrlFronts} from './types.js'

/**
 * The subset of Lambda's control plane faas deploys with: functions live in the service process
 * (persisted by the service when it has a functions file). Each handler returns [status, body]; errors are
 * Lambda-shaped so any SDK understands them.
 */

export interface ControlContext {
  engine: DockerEngine
  functions: Map<string, LocalFunction>
  region: string
  accountId: string
  /** Called after a function was created, updated (code, configuration, concurrency, URL, policy) or deleted. */
  changed: (
    name: string,
    what: 'configured' | 'concurrency' | 'deleted' | 'url' | 'policy' | 'event-invoke-config',
  ) => Promise<void>
  /** The Function URLs' listeners. */
  urls: UrlFronts
  /** Which aliases exist (see AliasLookup). */
  aliases: AliasLookup
  /** Why a destination ARN cannot be used by `fn` (undefined: it can); see async-invoke.ts. */
  destinations?: (arn: string, fn: LocalFunction) => Promise<string | undefined>
  /** SQS event source mappings (event-sources.ts). */
  mappings?: EventSourceMappings
}

export type Result = [number, unknown]

const NAME = /^[a-zA-Z0-9-_]{1,64}$/

export function arnOf(ctx: Pick<ControlContext, 'region' | 'accountId'>, name: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`
}

/** Accepts a name, a full or partial ARN. */
export function nameOf(ref: string): string {
  const decoded = decodeURIComponent(ref)
  const match = /(?:^|:)function:([^:]+)/.exec(decoded)
  return match ? match[1]! : decoded.split(':')[0]!
}

export function configuration(fn: LocalFunction): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Role: fn.role ?? `arn:aws:iam::000000000000:role/${fn.name}-role`,
    CodeSha256: fn.codeSha256,
    CodeSize: 0,
    Description: fn.description ?? '',
    Timeout: fn.timeoutS,
    MemorySize: fn.memoryMb,
    LastModified: fn.lastModified,
    Version: '$LATEST',
    Environment: {Variables: fn.env},
    PackageType: 'Image',
    ImageConfigResponse:
      fn.command || fn.entryPoint ? {ImageConfig: {Command: fn.command, EntryPoint: fn.entryPoint}} : undefined,
    Architectures: fn.architectures,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    EphemeralStorage: {Size: fn.ephemeralStorageMb},
    LoggingConfig: {LogFormat: fn.logFormat, LogGroup: `/aws/lambda/${fn.name}`},
  }
}

async function checkImage(ctx: ControlContext, uri: unknown): Promise<{uri: string; id: string; architecture: string}> {
  if (typeof uri !== 'string' || !uri)
    throw invalid('Code.ImageUri is required: a local engine image reference such as map-reduce-driver:latest.')
  const image = await ctx.engine.inspectImage(uri)
  if (!image) throw invalid(`Source image ${uri} does not exist in the local engine. Build it first (faas build).`)
  return {uri, id: image.id, architecture: image.architecture}
}

function numberIn(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${field} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`)
  return value
}

// Request bodies are the SDK's shapes as a client sends them, but they arrive as untrusted JSON with any
// field missing: numbers and enums are checked here, and a missing image is refused.
export type CreateFunctionBody = Partial<CreateFunctionRequest>
export type UpdateCodeBody = Partial<UpdateFunctionCodeRequest>
export type UpdateConfigurationBody = Partial<UpdateFunctionConfigurationRequest>
export type PutConcurrencyBody = Partial<PutFunctionConcurrencyRequest>

function applyConfig(fn: LocalFunction, body: CreateFunctionBody | UpdateConfigurationBody): void {
  fn.memoryMb = numberIn(body.MemorySize, 'MemorySize', 128, 10240) ?? fn.memoryMb
  fn.timeoutS = numberIn(body.Timeout, 'Timeout', 1, 900) ?? fn.timeoutS
  if (body.Environment?.Variables) fn.env = {...body.Environment.Variables}
  if (body.ImageConfig) {
    fn.command = body.ImageConfig.Command ?? undefined
    fn.entryPoint = body.ImageConfig.EntryPoint ?? undefined
  }
  if (body.EphemeralStorage !== undefined)
    fn.ephemeralStorageMb =
      numberIn(body.EphemeralStorage?.Size, 'EphemeralStorage.Size', 512, 10240) ?? fn.ephemeralStorageMb
  if (body.LoggingConfig?.LogFormat !== undefined) {
    const format = body.LoggingConfig.LogFormat
    if (format !== 'Text' && format !== 'JSON')
      throw invalid(`LoggingConfig.LogFormat must be Text or JSON; got ${JSON.stringify(format)}.`)
    fn.logFormat = format
  }
  if (body.Role) fn.role = body.Role
  if (body.Description !== undefined) fn.description = body.Description
}

function touch(fn: LocalFunction): void {
  fn.revision++
  fn.lastModified = new Date().toISOString().replace('Z', '+0000')
}

function get(ctx: ControlContext, ref: string): LocalFunction {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx, name))
  return fn
}

export async function createFunction(ctx: ControlContext, body: CreateFunctionBody): Promise<Result> {
  const name = body.FunctionName
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalid('FunctionName must be 1-64 letters, digits, hyphens or underscores.')
  if (ctx.functions.has(name)) throw conflict(name)
  if (body.PackageType && body.PackageType !== 'Image')
    throw invalid('The local Lambda service runs container images only (PackageType Image).')
  const image = await checkImage(ctx, body.Code?.ImageUri)
  const fn: LocalFunction = {
    name,
    arn: arnOf(ctx, name),
    imageUri: image.uri,
    memoryMb: 128,
    timeoutS: 3,
    env: {},
    architectures: body.Architectures ?? ['x86_64'],
    ephemeralStorageMb: 512,
    logFormat: 'Text',
    imageArchitecture: image.architecture,
    revision: 0,
    lastModified: '',
    codeSha256: createHash('sha256').update(image.id).digest('base64'),
  }
  applyConfig(fn, body)
  touch(fn)
  // Two creates racing both passed the first check while the image was looked at: Lambda lets one win.
  if (ctx.functions.has(name)) throw conflict(name)
  ctx.functions.set(name, fn)
  await ctx.changed(name, 'configured')
  return [201, configuration(fn)]
}

export function getFunction(ctx: ControlContext, ref: string): Result {
  const fn = get(ctx, ref)
  return [
    200,
    {
      Configuration: configuration(fn),
      Code: {RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: fn.imageUri},
      ...(fn.reservedConcurrency === undefined
        ? {}
        : {Concurrency: {ReservedConcurrentExecutions: fn.reservedConcurrency}}),
    },
  ]
}

export const getConfiguration = (ctx: ControlContext, ref: string): Result => [200, configuration(get(ctx, ref))]

export function listFunctions(ctx: ControlContext): Result {
  return [200, {Functions: [...ctx.functions.values()].map(configuration)}]
}

export async function updateCode(ctx: ControlContext, ref: string, body: UpdateCodeBody): Promise<Result> {
  const fn = get(ctx, ref)
  const image = await checkImage(ctx, body.ImageUri)
  fn.imageUri = image.uri
  fn.imageArchitecture = image.architecture
  fn.codeSha256 = createHash('sha256').update(image.id).digest('base64')
  if (body.Architectures) fn.architectures = body.Architectures
  touch(fn)
  await ctx.changed(fn.name, 'configured')
  return [200, configuration(fn)]
}

export async function updateConfiguration(
  ctx: ControlContext,
  ref: string,
  body: UpdateConfigurationBody,
): Promise<Result> {
  const fn = get(ctx, ref)
  // Checked whole before anything changes: a bad field leaves the function as it was.
  const next = {...fn}
  applyConfig(next, body)
  Object.assign(fn, next)
  touch(fn)
  await ctx.changed(fn.name, 'configured')
  return [200, configuration(fn)]
}

export async function deleteFunction(ctx: ControlContext, ref: string): Promise<Result> {
  const fn = get(ctx, ref)
  ctx.functions.delete(fn.name)
  // Its URLs go with it, as on Lambda.
  for (const url of fn.urls ?? []) await ctx.urls.close(url.urlId)
  await ctx.changed(fn.name, 'deleted')
  return [204, undefined]
}

export async function putConcurrency(ctx: ControlContext, ref: string, body: PutConcurrencyBody): Promise<Result> {
  const fn = get(ctx, ref)
  fn.reservedConcurrency = numberIn(body.ReservedConcurrentExecutions, 'ReservedConcurrentExecutions', 0, 1000) ?? 0
  await ctx.changed(fn.name, 'concurrency')
  return [200, {ReservedConcurrentExecutions: fn.reservedConcurrency}]
}

export function getConcurrency(ctx: ControlContext, ref: string): Result {
  const fn = get(ctx, ref)
  return [200, fn.reservedConcurrency === undefined ? {} : {ReservedConcurrentExecutions: fn.reservedConcurrency}]
}

export async function deleteConcurrency(ctx: ControlContext, ref: string): Promise<Result> {
  const fn = get(ctx, ref)
  fn.reservedConcurrency = undefined
  await ctx.changed(fn.name, 'concurrency')
  return [204, undefined]
}
