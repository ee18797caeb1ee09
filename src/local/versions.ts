import {randomUUID} from 'node:crypto'

import {invalid, notFound, preconditionFailed} from './lambda-errors.js'
import type {LocalAlias, LocalFunction} from './types.js'

/**
 * Versions and aliases as Lambda has them, as data: what a qualifier names, which version an alias's
 * call runs (its weights), what a published version freezes. The API handlers are in version-api.ts.
 */

export const LATEST = '$LATEST'

const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/
const VERSION = /^[0-9]+$/

export const versionOf = (fn: LocalFunction): string => fn.version ?? LATEST

export const isVersionNumber = (qualifier: string): boolean => VERSION.test(qualifier)

/** The qualifier inside a reference: `name:q`, `123456789012:function:name:q` or a qualified ARN. */
export function qualifierIn(ref: string): string | undefined {
  const decoded = decodeURIComponent(ref)
  const arn = /(?:^|:)function:[^:]+:([^:]+)$/.exec(decoded)
  if (arn) return arn[1]
  if (decoded.includes('function:')) return undefined
  const parts = decoded.split(':')
  return parts.length === 2 ? parts[1] : undefined
}

/** The qualifier a request names, in the function name/ARN or as ?Qualifier: when both, they must agree. */
export function requestedQualifier(ref: string, param: string | null | undefined): string | undefined {
  const derived = qualifierIn(ref)
  const given = param ? param : undefined
  if (derived !== undefined && given !== undefined && derived !== given)
    throw invalid('The derived qualifier from the function name does not match the specified qualifier.')
  const qualifier = derived ?? given
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) {
    throw invalid(
      `1 validation error detected: Value '${qualifier}' at 'qualifier' failed to satisfy constraint: Member must ` +
        `satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`,
    )
  }
  return qualifier
}

/** $LATEST or a published version of the function. */
export function findVersion(fn: LocalFunction, version: string): LocalFunction | undefined {
  return version === LATEST ? fn : fn.versions?.find((v) => v.version === version)
}

/** The version an alias's call runs: the extra version with its weight's probability, else the alias's own. */
export function pickVersion(alias: LocalAlias, random: () => number = Math.random): string {
  const [extra, weight] = Object.entries(alias.weights)[0] ?? []
  return extra !== undefined && weight !== undefined && random() < weight ? extra : alias.functionVersion
}

/**
 * What a qualifier names: $LATEST (none given), a version, or an alias (its version picked by the weights).
 * An unknown one is Lambda's ResourceNotFoundException naming the qualified ARN.
 */
export function resolveQualifier(
  fn: LocalFunction,
  qualifier: string | undefined,
  random: () => number = Math.random,
): {fn: LocalFunction; alias?: LocalAlias} {
  if (qualifier === undefined || qualifier === LATEST) return {fn}
  const alias = isVersionNumber(qualifier) ? undefined : fn.aliases?.[qualifier]
  const version = alias ? pickVersion(alias, random) : qualifier
  const found = findVersion(fn, version)
  if (!found) throw notFound(`${fn.arn}:${qualifier}`)
  return {fn: found, alias}
}

/** A RevisionId precondition: when the caller gives one it must be the current one. */
export function checkRevision(current: string | undefined, given: unknown): void {
  if (given !== undefined && given !== null && given !== current) throw preconditionFailed()
}

/** What a version freezes; two equal fingerprints mean publishing again would change nothing. */
function fingerprint(fn: LocalFunction): string {
  return JSON.stringify([
    fn.codeSha256,
    fn.imageUri,
    fn.memoryMb,
    fn.timeoutS,
    Object.entries(fn.env).sort(([a], [b]) => a.localeCompare(b)),
    fn.command,
    fn.entryPoint,
    fn.architectures,
    fn.ephemeralStorageMb,
    fn.logFormat,
    fn.role,
  ])
}

/** The last published version when $LATEST has not changed since (PublishVersion then returns it). */
export function unchangedSinceLastVersion(fn: LocalFunction): LocalFunction | undefined {
  const last = fn.versions?.at(-1)
  return last && fingerprint(last) === fingerprint(fn) ? last : undefined
}

/** A published version: a frozen copy of $LATEST under the next number, with its own qualified ARN and RevisionId. */
export function freeze(fn: LocalFunction, description: string | undefined): LocalFunction {
  const used = Math.max(0, ...(fn.versions ?? []).map((v) => Number(v.version)))
  const number = String(Math.max(fn.nextVersion ?? 1, used + 1))
  const {
    versions: _versions,
    aliases: _aliases,
    nextVersion: _next,
    reservedConcurrency: _reserved,
    provisioned: _provisioned,
    ...config
  } = fn
  return {
    ...structuredClone(config),
    version: number,
    arn: `${fn.arn}:${number}`,
    description: description ?? fn.description,
    revisionId: randomUUID(),
    lastModified: new Date().toISOString().replace('Z', '+0000'),
  }
}

/** PublishVersion's effect: the last version when nothing changed since, else a new one appended. */
export function publish(
  fn: LocalFunction,
  description: string | undefined,
): {version: LocalFunction; created: boolean} {
  const unchanged = unchangedSinceLastVersion(fn)
  if (unchanged) return {version: unchanged, created: false}
  const version = freeze(fn, description)
  fn.versions = [...(fn.versions ?? []), version]
  fn.nextVersion = Number(version.version) + 1
  return {version, created: true}
}

/** Aliases that route calls to a version (as their own version or as the extra one). */
export const aliasesOf = (fn: LocalFunction, version: string): string[] =>
  Object.values(fn.aliases ?? {})
    .filter((a) => a.functionVersion === version || version in a.weights)
    .map((a) => a.name)

/** Lambda's ResolvedImageUri: the repository at the digest the code was resolved to. */
export function resolvedImageUri(fn: LocalFunction): string {
  const digest = fn.imageDigest
  if (!digest || fn.imageUri.startsWith('sha256:')) return fn.imageUri
  const withoutDigest = fn.imageUri.split('@')[0]!
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  return `${colon > slash ? withoutDigest.slice(0, colon) : withoutDigest}@${digest}`
}

/** CodeSha256 of an image function: the digest's hex. */
export const codeSha256Of = (digest: string): string => digest.replace(/^sha256:/, '')
