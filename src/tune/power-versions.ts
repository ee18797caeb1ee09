import {DeleteAliasCommand, DeleteFunctionCommand, type LambdaClient} from '@aws-sdk/client-lambda'

import {aws} from '../aws/errors.js'
import {publishAndAlias} from '../aws/lambda-versions.js'
import type {Emit} from '../core/events.js'
import type {Target} from '../targets/target.js'

/**
 * One version per memory size behind an alias `tune-<MB>`, as Power Tuning makes them (faas tune and
 * bench --memory): $LATEST's memory is set to each size to publish it and put back afterwards, whatever
 * happens, so calls through the aliases never meet a function changing under them.
 *
 * Only cold starts (Power Tuning's onlyColdStarts): one version per call, `tune-<MB>-<i>`, each made
 * different by a variable naming its alias (FAAS_TUNE_FORCE_COLD_START, as Power Tuning's
 * LambdaPowerTuningForceColdStart), so each call is the first of its version and starts a new environment
 * (environments are never shared between versions). $LATEST gets its memory and variables back.
 */
export const powerAlias = (memoryMb: number, call?: number): string =>
  call === undefined ? `tune-${memoryMb}` : `tune-${memoryMb}-${call}`

/** The variable that makes each per-call version differ from the last (so Lambda publishes a new one). */
export const FORCE_COLD_START_VARIABLE = 'FAAS_TUNE_FORCE_COLD_START'

export interface PowerVersion {
  alias: string
  version: string
  /** Whether this run published it (else it already existed). */
  created: boolean
}

export interface PowerVersions {
  /** By memory size: its version (the first of its per-call versions with only cold starts). */
  versions: Map<number, PowerVersion>
  /** By memory size: the aliases to call, one per call with only cold starts (else one for all calls). */
  aliases: Map<number, PowerVersion[]>
  /** Removes the tune aliases and the versions this run published, but `keep`. */
  cleanUp(keep?: string): Promise<void>
}

export async function publishPowerVersions(
  target: Pick<Target, 'describe' | 'reconfigure'>,
  lambda: LambdaClient,
  name: string,
  sizes: number[],
  emit: Emit,
  options: {perCall?: number; onPublished?: (memoryMb: number, aliases: PowerVersion[]) => void} = {},
): Promise<PowerVersions> {
  const state = await target.describe(name)
  const aliases = new Map<number, PowerVersion[]>()
  const cleanUp = (keep?: string) => removePowerVersions(lambda, name, [...aliases.values()].flat(), keep)
  const {[FORCE_COLD_START_VARIABLE]: _left, ...ownEnv} = state?.env ?? {}
  const calls = options.perCall === undefined ? [undefined] : Array.from({length: options.perCall}, (_, i) => i)
  try {
    for (const memoryMb of sizes) {
      aliases.set(memoryMb, [])
      for (const call of calls) {
        const alias = powerAlias(memoryMb, call)
        await target.reconfigure(
          name,
          call === undefined ? {memoryMb} : {memoryMb, env: {...ownEnv, [FORCE_COLD_START_VARIABLE]: alias}},
        )
        const published = await publishAndAlias(lambda, name, {alias})
        aliases.get(memoryMb)!.push({alias, version: published.version, created: published.created})
      }
      options.onPublished?.(memoryMb, aliases.get(memoryMb)!)
      const versions = aliases.get(memoryMb)!.map((v) => v.version)
      emit({
        kind: 'progress',
        subject: name,
        message: `${memoryMb} MB is version${versions.length > 1 ? 's' : ''} ${versions.join(', ')}`,
      })
    }
  } catch (error) {
    await cleanUp().catch(() => {})
    throw error
  } finally {
    if (state)
      await target.reconfigure(
        name,
        options.perCall === undefined ? {memoryMb: state.memoryMb} : {memoryMb: state.memoryMb, env: ownEnv},
      )
  }
  const versions = new Map([...aliases].map(([memoryMb, list]) => [memoryMb, list[0]!]))
  return {versions, aliases, cleanUp}
}

async function removePowerVersions(
  lambda: LambdaClient,
  name: string,
  published: PowerVersion[],
  keep: string | undefined,
): Promise<void> {
  await Promise.all(
    published.map(({alias}) =>
      aws(`delete alias ${alias} of ${name} (lambda:DeleteAlias)`, () =>
        lambda.send(new DeleteAliasCommand({FunctionName: name, Name: alias})),
      ),
    ),
  )
  const unused = published.filter(({version, created}) => created && version !== keep)
  for (const {version} of unused) {
    await aws(`delete version ${version} of ${name} (lambda:DeleteFunction)`, () =>
      lambda
        .send(new DeleteFunctionCommand({FunctionName: name, Qualifier: version}))
        .catch((error: {name?: string}) => {
          // Another alias of the user's may name it: it stays.
          if (error?.name !== 'ResourceConflictException') throw error
        }),
    )
  }
}
