import {randomUUID} from 'node:crypto'

import type {
  CreateFunctionRequest,
  PutFunctionConcurrencyRequest,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
} from '@aws-sdk/client-lambda'

import type {DockerEngine} from '../docker/engine.js'
import {checkReservation} from './account.js'
import {arnOf, nameOf} from './arns.js'
import type {EventSourceMappings} from './event-sources.js'
import {conflict, invalid, notFound, resourceConflict} from './lambda-errors.js'
import type {ProvisionedState} from './provisioned.js'
import {ACTIVE, type FunctionStatus} from './prepared.js'
import type {AliasLookup, LocalFunction, UrlFronts} from './types.js'
import {
  aliasesOf,
  checkRevision,
  codeSha256Of,
  findVersion,
  isVersionNumber,
  LATEST,
  publish,
  qualifierIn,
  requestedQualifier,
  resolvedImageUri,
  versionOf,
} from './versions.js'

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
  /**
   * Called after a function was created, updated (code, configuration or concurrency) or deleted, a version
   * published or deleted (`version` names it), an alias changed, a URL, a policy or the event invoke config.
   */
  changed: (name: string, what: Change, version?: string) => Promise<void>
  /** The Function URLs' listeners. */
  urls: UrlFronts
  /** Which aliases exist (see AliasLookup). */
  aliases: AliasLookup
  /** Most environments per function (--max-environments): provisioned concurrency cannot ask for more. */
  maxEnvironments: number
  /** The account's concurrency limit (GetAccountSettings; FAAS_LOCAL_ACCOUNT_CONCURRENCY). */
  accountConcurrency: number
  /** The environments of a provisioned concurrency configuration (by version or alias), as they stand. */
  provisioning: (name: string, qualifier: string) => ProvisionedState | undefined
  /** The function's state (Pending until its first sandbox is prepared); Active when not given. */
  status?: (name: string) => FunctionStatus | undefined
  /** Settles once the function is no longer Pending / InProgress (bounded). */
  settled?: (name: string) => Promise<void>
  /** Why a destination ARN cannot be used by `fn` (undefined: it can); see async-invoke.ts. */
  destinations?: (arn: string, fn: LocalFunction) => Promise<string | undefined>
  /** SQS event source mappings (event-sources.ts). */
  mappings?: EventSourceMappings
}

export type Change =
  | 'configured'
  | 'concurrency'
  | 'deleted'
  | 'published'
  | 'version-deleted'
  | 'aliased'
  | 'provisioned'
  | 'url'
  | 'policy'
  | 'event-invoke-config'

export type Result = [number, unknown]

const NAME = /^[a-zA-Z0-9-_]{1,64}$/

export function configuration(fn: LocalFunction, status: FunctionStatus = ACTIVE): Record<string, unknown> {
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
    Version: versionOf(fn),
    RevisionId: fn.revisionId,
    Environment: {Variables: fn.env},
    PackageType: 'Image',
    ImageConfigResponse:
      fn.command || fn.entryPoint ? {ImageConfig: {Command: fn.command, EntryPoint: fn.entryPoint}} : undefined,
    Architectures: fn.architectures,
    ...status,
    EphemeralStorage: {Size: fn.ephemeralStorageMb},
    LoggingConfig: {LogFormat: fn.logFormat, LogGroup: `/aws/lambda/${fn.name}`},
  }
}

async function checkImage(
  ctx: ControlContext,
  uri: unknown,
): Promise<{uri: string; digest: string; architecture: string}> {
  if (typeof uri !== 'string' || !uri)
    throw invalid('Code.ImageUri is required: a local engine image reference such as map-reduce-driver:latest.')
  const image = await ctx.engine.inspectImage(uri)
  if (!image) throw invalid(`Source image ${uri} does not exist in the local engine. Build it first (faas build).`)
  return {uri, digest: image.id, architecture: image.architecture}
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
  fn.revisionId = randomUUID()
  fn.lastModified = new Date().toISOString().replace('Z', '+0000')
}

/** The function ($LATEST) a reference names, whatever its qualifier. */
export function functionOf(ctx: ControlContext, ref: string): LocalFunction {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx, name))
  return fn
}

const get = functionOf

/** Updates change $LATEST only: a published version is immutable. */
function latestOnly(ctx: ControlContext, ref: string): LocalFunction {
  const qualifier = qualifierIn(ref)
  if (qualifier !== undefined && qualifier !== LATEST)
    throw invalid('Current operation does not support versions other than $LATEST')
  return get(ctx, ref)
}

/** What a GetFunction qualifier names: a version, or an alias's own version (reported under the alias's ARN). */
function qualified(ctx: ControlContext, ref: string, param: string | null): {fn: LocalFunction; arn?: string} {
  const latest = get(ctx, ref)
  const qualifier = requestedQualifier(ref, param)
  if (qualifier === undefined || qualifier === LATEST) return {fn: latest}
  const alias = isVersionNumber(qualifier) ? undefined : latest.aliases?.[qualifier]
  const fn = findVersion(latest, alias ? alias.functionVersion : qualifier)
  if (!fn) throw notFound(`${latest.arn}:${qualifier}`)
  return {fn, arn: alias ? `${latest.arn}:${alias.name}` : undefined}
}

/** `Publish: true` on CreateFunction/UpdateFunctionCode: the call answers with the version it published. */
function publishNow(fn: LocalFunction): LocalFunction {
  return publish(fn, undefined).version
}

function setImage(fn: LocalFunction, image: {uri: string; digest: string; architecture: string}): void {
  fn.imageUri = image.uri
  fn.imageArchitecture = image.architecture
  fn.imageDigest = image.digest
  fn.codeSha256 = codeSha256Of(image.digest)
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
    revision: 0,
    lastModified: '',
    codeSha256: '',
  }
  setImage(fn, image)
  applyConfig(fn, body)
  touch(fn)
  // Two creates racing both passed the first check while the image was looked at: Lambda lets one win.
  if (ctx.functions.has(name)) throw conflict(name)
  ctx.functions.set(name, fn)
  const published = body.Publish ? publishNow(fn) : undefined
  await ctx.changed(name, 'configured')
  return [201, configurationOf(ctx, published ?? fn)]
}

const configurationOf = (ctx: ControlContext, fn: LocalFunction) => configuration(fn, ctx.status?.(fn.name))

/** The function once it is no longer Pending (bounded): an SDK waiter sees Active on its first look. */
async function settled(ctx: ControlContext, ref: string): Promise<LocalFunction> {
  await ctx.settled?.(get(ctx, ref).name)
  return get(ctx, ref)
}

export async function getFunction(ctx: ControlContext, ref: string, qualifier: string | null = null): Promise<Result> {
  const reserved = (await settled(ctx, ref)).reservedConcurrency
  const {fn, arn} = qualified(ctx, ref, qualifier)
  return [
    200,
    {
      Configuration: {...configurationOf(ctx, fn), ...(arn ? {FunctionArn: arn} : {})},
      Code: {RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: resolvedImageUri(fn)},
      ...(reserved === undefined ? {} : {Concurrency: {ReservedConcurrentExecutions: reserved}}),
    },
  ]
}

export async function getConfiguration(
  ctx: ControlContext,
  ref: string,
  qualifier: string | null = null,
): Promise<Result> {
  await settled(ctx, ref)
  const {fn, arn} = qualified(ctx, ref, qualifier)
  return [200, {...configurationOf(ctx, fn), ...(arn ? {FunctionArn: arn} : {})}]
}

export function listFunctions(ctx: ControlContext): Result {
  return [200, {Functions: [...ctx.functions.values()].map((fn) => configurationOf(ctx, fn))}]
}

export async function updateCode(ctx: ControlContext, ref: string, body: UpdateCodeBody): Promise<Result> {
  const fn = latestOnly(ctx, ref)
  checkRevision(fn.revisionId, body.RevisionId)
  const image = await checkImage(ctx, body.ImageUri)
  // Checked again: the image was looked at in between.
  checkRevision(fn.revisionId, body.RevisionId)
  setImage(fn, image)
  if (body.Architectures) fn.architectures = body.Architectures
  touch(fn)
  const published = body.Publish ? publishNow(fn) : undefined
  await ctx.changed(fn.name, 'configured')
  return [200, configurationOf(ctx, published ?? fn)]
}

export async function updateConfiguration(
  ctx: ControlContext,
  ref: string,
  body: UpdateConfigurationBody,
): Promise<Result> {
  const fn = latestOnly(ctx, ref)
  checkRevision(fn.revisionId, body.RevisionId)
  // Checked whole before anything changes: a bad field leaves the function as it was.
  const next = {...fn}
  applyConfig(next, body)
  Object.assign(fn, next)
  touch(fn)
  await ctx.changed(fn.name, 'configured')
  return [200, configurationOf(ctx, fn)]
}

/** Deletes the function with all its versions and aliases, or (with a qualifier) one version. */
export async function deleteFunction(
  ctx: ControlContext,
  ref: string,
  qualifier: string | null = null,
): Promise<Result> {
  const fn = get(ctx, ref)
  const version = requestedQualifier(ref, qualifier)
  if (version === undefined) {
    ctx.functions.delete(fn.name)
    // Its URLs go with it, as on Lambda.
    for (const url of fn.urls ?? []) await ctx.urls.close(url.urlId)
    await ctx.changed(fn.name, 'deleted')
    return [204, undefined]
  }
  if (version === LATEST) throw invalid('$LATEST version cannot be deleted without deleting the function.')
  if (!isVersionNumber(version)) throw invalid('Deletion of aliases is not supported.')
  if (!findVersion(fn, version)) throw notFound(`${fn.arn}:${version}`)
  const aliases = aliasesOf(fn, version)
  if (aliases.length > 0)
    throw resourceConflict(
      `Unable to delete version because the following aliases reference it: [${aliases.join(', ')}]`,
    )
  fn.versions = fn.versions!.filter((v) => v.version !== version)
  await ctx.changed(fn.name, 'version-deleted', version)
  return [204, undefined]
}

export async function putConcurrency(ctx: ControlContext, ref: string, body: PutConcurrencyBody): Promise<Result> {
  const fn = get(ctx, ref)
  const reserved = numberIn(body.ReservedConcurrentExecutions, 'ReservedConcurrentExecutions', 0, 1000) ?? 0
  checkReservation(ctx, fn, reserved)
  fn.reservedConcurrency = reserved
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
