import {UserError} from '../core/errors.js'
import type {Target} from '../targets/target.js'
import type {Reconfigure} from './bench.js'

/** Changes functions' configuration for sweeps and cold starts, and puts back what it found. */
export interface Reconfigurer {
  reconfigure: Reconfigure
  /** Restores each changed function's original memory and environment. */
  restore(): Promise<void>
}

/**
 * Over any target: read the function (Target.describe), then set the new memory or the env merged
 * into the current one, waiting until it serves with them (Target.reconfigure).
 */
export function reconfigurerOf(target: Pick<Target, 'describe' | 'reconfigure'>): Reconfigurer {
  const original = new Map<string, {memoryMb: number; env: Record<string, string>}>()
  const reconfigure: Reconfigure = async (fn, change) => {
    const current = await target.describe(fn)
    if (!current)
      throw new UserError(`Function "${fn}" is not deployed.`, {
        code: 'UNKNOWN_FUNCTION',
        fix: 'Deploy it first (faas deploy).',
      })
    if (!original.has(fn)) original.set(fn, {memoryMb: current.memoryMb, env: current.env})
    await target.reconfigure(fn, {
      ...(change.memoryMb ? {memoryMb: change.memoryMb} : {}),
      ...(change.env ? {env: {...current.env, ...change.env}} : {}),
    })
  }
  // One restore at a time: a second Ctrl-C may ask for it while bench's own restore is running.
  let restoring: Promise<void> | undefined
  return {
    reconfigure,
    restore() {
      restoring ??= (async () => {
        for (const [fn, config] of original) {
          await target.reconfigure(fn, {memoryMb: config.memoryMb, env: config.env})
          original.delete(fn)
        }
      })().finally(() => (restoring = undefined))
      return restoring
    },
  }
}
