import {DeleteAliasCommand, DeleteFunctionCommand, type LambdaClient} from '@aws-sdk/client-lambda'

import {aws} from '../aws/errors.js'
import {publishAndAlias} from '../aws/lambda-versions.js'
import type {Emit} from '../core/events.js'
import type {Target} from '../targets/target.js'

/**
 * One version per memory size behind an alias `tune-<MB>`, as Power Tuning makes them (faas tune and
 * bench --memory): $LATEST's memory is set to each size to publish it and put back afterwards, whatever
 * happens, so calls through the aliases never meet a function changing under them.
 */
export const powerAlias = (memoryMb: number): string => `tune-${memoryMb}`

export interface PowerVersions {
  /** By memory size: the version, and whether this run published it (else it already existed). */
  versions: Map<number, {version: string; created: boolean}>
  /** Removes the tune-<MB> aliases and the versions this run published, but `keep`. */
  cleanUp(keep?: string): Promise<void>
}

export async function publishPowerVersions(
  target: Pick<Target, 'describe' | 'reconfigure'>,
  lambda: LambdaClient,
  name: string,
  sizes: number[],
  emit: Emit,
): Promise<PowerVersions> {
  const state = await target.describe(name)
  const versions = new Map<number, {version: string; created: boolean}>()
  const cleanUp = (keep?: string) => removePowerVersions(lambda, name, versions, keep)
  try {
    for (const memoryMb of sizes) {
      await target.reconfigure(name, {memoryMb})
      const published = await publishAndAlias(lambda, name, {alias: powerAlias(memoryMb)})
      versions.set(memoryMb, {version: published.version, created: published.created})
      emit({kind: 'progress', subject: name, message: `${memoryMb} MB is version ${published.version}`})
    }
  } catch (error) {
    await cleanUp().catch(() => {})
    throw error
  } finally {
    if (state) await target.reconfigure(name, {memoryMb: state.memoryMb})
  }
  return {versions, cleanUp}
}

async function removePowerVersions(
  lambda: LambdaClient,
  name: string,
  versions: Map<number, {version: string; created: boolean}>,
  keep: string | undefined,
): Promise<void> {
  await Promise.all(
    [...versions.keys()].map((memoryMb) =>
      aws(`delete alias ${powerAlias(memoryMb)} of ${name} (lambda:DeleteAlias)`, () =>
        lambda.send(new DeleteAliasCommand({FunctionName: name, Name: powerAlias(memoryMb)})),
      ),
    ),
  )
  const unused = [...versions.values()].filter(({version, created}) => created && version !== keep)
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
