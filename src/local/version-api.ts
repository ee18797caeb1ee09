import {randomUUID} from 'node:crypto'

import type {CreateAliasRequest, PublishVersionRequest, UpdateAliasRequest} from '@aws-sdk/client-lambda'

import {configuration, functionOf, type ControlContext, type Result} from './control-api.js'
import {aliasNotFound, invalid, notFound, resourceConflict} from './lambda-errors.js'
import type {LocalAlias, LocalFunction} from './types.js'
import {checkRevision, findVersion, isVersionNumber, LATEST, publish, qualifierIn} from './versions.js'

/**
 * PublishVersion, ListVersionsByFunction and the alias calls (Create/Get/Update/Delete/ListAliases), as
 * Lambda answers them. Bodies are untrusted JSON in the SDK's shapes: everything is checked before anything
 * changes, so a refused call leaves the function as it was.
 */

export type PublishBody = Partial<PublishVersionRequest>
export type CreateAliasBody = Partial<CreateAliasRequest>
export type UpdateAliasBody = Partial<UpdateAliasRequest>

const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/

/** The function itself: these calls take no qualifier in the function name. */
function unqualified(ctx: ControlContext, ref: string): LocalFunction {
  if (qualifierIn(ref) !== undefined) throw invalid('Cannot provide qualifier')
  return functionOf(ctx, ref)
}

/** A page of items as Lambda pages lists: Marker is where the page starts, MaxItems its size (1–10,000). */
function page<T>(items: T[], query: URLSearchParams): {items: T[]; next?: string} {
  const start = Number(query.get('Marker') ?? 0)
  if (!Number.isInteger(start) || start < 0) throw invalid('Invalid Marker.')
  const max = query.get('MaxItems') === null ? 10_000 : Number(query.get('MaxItems'))
  if (!Number.isInteger(max) || max < 1 || max > 10_000)
    throw invalid(`MaxItems must be an integer from 1 to 10000; got ${JSON.stringify(query.get('MaxItems'))}.`)
  const end = start + max
  return {items: items.slice(start, end), next: end < items.length ? String(end) : undefined}
}

export async function publishVersion(ctx: ControlContext, ref: string, body: PublishBody): Promise<Result> {
  const fn = unqualified(ctx, ref)
  checkRevision(fn.revisionId, body.RevisionId)
  if (body.CodeSha256 !== undefined && body.CodeSha256 !== null && body.CodeSha256 !== fn.codeSha256) {
    throw invalid(
      `CodeSHA256 (${body.CodeSha256}) is different from current CodeSHA256 in $LATEST (${fn.codeSha256}). Please ` +
        `try again with the current CodeSHA256.`,
    )
  }
  const {version, created} = publish(fn, body.Description ?? undefined)
  if (created) await ctx.changed(fn.name, 'published', version.version)
  return [201, configuration(version)]
}

export function listVersions(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  const fn = unqualified(ctx, ref)
  const {items, next} = page([fn, ...(fn.versions ?? [])], query)
  return [200, {Versions: items.map((v) => configuration(v)), ...(next ? {NextMarker: next} : {})}]
}

export function aliasJson(fn: LocalFunction, alias: LocalAlias): Record<string, unknown> {
  return {
    AliasArn: `${fn.arn}:${alias.name}`,
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(Object.keys(alias.weights).length > 0 ? {RoutingConfig: {AdditionalVersionWeights: alias.weights}} : {}),
    RevisionId: alias.revisionId,
  }
}

/** FunctionVersion and RoutingConfig as Lambda checks them: existing versions, one extra version, weights 0–1. */
function checkTarget(fn: LocalFunction, version: unknown, routing: unknown): Record<string, number> {
  if (typeof version !== 'string' || (version !== LATEST && !isVersionNumber(version)))
    throw invalid(`FunctionVersion must be $LATEST or a published version number; got ${JSON.stringify(version)}.`)
  if (!findVersion(fn, version)) throw notFound(`${fn.arn}:${version}`)
  const given = (routing as {AdditionalVersionWeights?: unknown} | undefined | null)?.AdditionalVersionWeights
  if (given === undefined || given === null) return {}
  if (typeof given !== 'object' || Array.isArray(given))
    throw invalid('RoutingConfig.AdditionalVersionWeights must map a version to its weight.')
  const weights = given as Record<string, unknown>
  const entries = Object.entries(weights)
  if (entries.length === 0) return {}
  if (entries.length > 1)
    throw invalid(`Number of items in AdditionalVersionWeights cannot be greater than 1; got ${entries.length}.`)
  const [extra, weight] = entries[0]!
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw invalid(
      `1 validation error detected: Value '{${extra}=${JSON.stringify(weight)}}' at ` +
        `'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: ` +
        `[Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`,
    )
  }
  if (version === LATEST || extra === LATEST)
    throw invalid('$LATEST is not supported for an alias pointing to more than 1 version')
  if (!isVersionNumber(extra))
    throw invalid(`AdditionalVersionWeights names versions by number; got ${JSON.stringify(extra)}.`)
  if (!findVersion(fn, extra)) throw notFound(`${fn.arn}:${extra}`)
  if (extra === version)
    throw invalid(`The alias's own version ${version} cannot also be its additional version in RoutingConfig.`)
  return {[extra]: weight}
}

function aliasOf(fn: LocalFunction, name: string): LocalAlias {
  const alias = fn.aliases?.[name]
  if (!alias) throw aliasNotFound(`${fn.arn}:${name}`)
  return alias
}

export async function createAlias(ctx: ControlContext, ref: string, body: CreateAliasBody): Promise<Result> {
  const fn = unqualified(ctx, ref)
  const name = body.Name
  if (typeof name !== 'string' || !ALIAS_NAME.test(name) || name === LATEST) {
    throw invalid(
      `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must ` +
        `satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
    )
  }
  if (fn.aliases?.[name]) throw resourceConflict(`Alias already exists: ${fn.arn}:${name}`)
  const weights = checkTarget(fn, body.FunctionVersion, body.RoutingConfig)
  const alias: LocalAlias = {
    name,
    functionVersion: body.FunctionVersion!,
    description: body.Description ?? '',
    weights,
    revisionId: randomUUID(),
  }
  fn.aliases = {...fn.aliases, [name]: alias}
  await ctx.changed(fn.name, 'aliased')
  return [201, aliasJson(fn, alias)]
}

export function getAlias(ctx: ControlContext, ref: string, name: string): Result {
  const fn = unqualified(ctx, ref)
  return [200, aliasJson(fn, aliasOf(fn, decodeURIComponent(name)))]
}

export async function updateAlias(
  ctx: ControlContext,
  ref: string,
  name: string,
  body: UpdateAliasBody,
): Promise<Result> {
  const fn = unqualified(ctx, ref)
  const alias = aliasOf(fn, decodeURIComponent(name))
  checkRevision(alias.revisionId, body.RevisionId)
  const version = body.FunctionVersion ?? alias.functionVersion
  // Routing given replaces the old one (an empty map clears it); not given, it stays.
  const routing = body.RoutingConfig === undefined ? {AdditionalVersionWeights: alias.weights} : body.RoutingConfig
  const weights = checkTarget(fn, version, routing)
  Object.assign(alias, {
    functionVersion: version,
    weights,
    description: body.Description ?? alias.description,
    revisionId: randomUUID(),
  })
  await ctx.changed(fn.name, 'aliased')
  return [200, aliasJson(fn, alias)]
}

export async function deleteAlias(ctx: ControlContext, ref: string, name: string): Promise<Result> {
  const fn = unqualified(ctx, ref)
  const aliasName = decodeURIComponent(name)
  if (fn.aliases?.[aliasName]) {
    const {[aliasName]: _gone, ...rest} = fn.aliases
    fn.aliases = rest
    await ctx.changed(fn.name, 'aliased')
  }
  return [204, undefined]
}

export function listAliases(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  const fn = unqualified(ctx, ref)
  const version = query.get('FunctionVersion')
  const aliases = Object.values(fn.aliases ?? {}).filter(
    (a) => !version || a.functionVersion === version || version in a.weights,
  )
  const {items, next} = page(aliases, query)
  return [200, {Aliases: items.map((a) => aliasJson(fn, a)), ...(next ? {NextMarker: next} : {})}]
}
