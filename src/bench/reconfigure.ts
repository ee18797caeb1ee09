import type {AwsClients} from '../aws/clients.js'
import {getFunction, updateConfiguration} from '../aws/lambda.js'
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
 * On AWS: read the function (GetFunction), then UpdateFunctionConfiguration with the new memory or
 * the env merged into the current one, waiting for the update (as Target.deploy does).
 */
export function awsReconfigurer(clients: Pick<AwsClients, 'lambda'>): Reconfigurer {
  const original = new Map<string, {memoryMb: number; env: Record<string, string>}>()
  const reconfigure: Reconfigure = async (fn, change) => {
    const current = await getFunction(clients.lambda, fn)
    if (!current) throw new UserError(`Function "${fn}" is not deployed.`, {code: 'UNKNOWN_FUNCTION', fix: 'Deploy it first (faas deploy).'})
    if (!original.has(fn)) original.set(fn, {memoryMb: current.memoryMb, env: current.env})
    await updateConfiguration(clients.lambda, fn, {
      ...(change.memoryMb ? {memoryMb: change.memoryMb} : {}),
      ...(change.env ? {env: {...current.env, ...change.env}} : {}),
    })
  }
  return {
    reconfigure,
    async restore() {
      for (const [fn, config] of original) await updateConfiguration(clients.lambda, fn, {memoryMb: config.memoryMb, env: config.env})
      original.clear()
    },
  }
}

/** A target that offers the same (e.g. the local service) exposes `reconfigure`/`restore` itself. */
export function reconfigurerOf(target: Target, clients?: Pick<AwsClients, 'lambda'>): Reconfigurer | undefined {
  const own = target as Target & Partial<Reconfigurer>
  if (typeof own.reconfigure === 'function') return {reconfigure: own.reconfigure.bind(target), restore: own.restore?.bind(target) ?? (async () => {})}
  if (target.kind === 'aws' && clients) return awsReconfigurer(clients)
  return undefined
}
