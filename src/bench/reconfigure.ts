import type {LambdaClient} from '@aws-sdk/client-lambda'

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
  return lambdaReconfigurer(async () => clients.lambda)
}

/** The same over any Lambda API endpoint (AWS, or the local service's), the client made on first use. */
export function lambdaReconfigurer(client: () => Promise<LambdaClient>): Reconfigurer {
  const original = new Map<string, {memoryMb: number; env: Record<string, string>}>()
  const reconfigure: Reconfigure = async (fn, change) => {
    const lambda = await client()
    const current = await getFunction(lambda, fn)
    if (!current) throw new UserError(`Function "${fn}" is not deployed.`, {code: 'UNKNOWN_FUNCTION', fix: 'Deploy it first (faas deploy).'})
    if (!original.has(fn)) original.set(fn, {memoryMb: current.memoryMb, env: current.env})
    await updateConfiguration(lambda, fn, {
      ...(change.memoryMb ? {memoryMb: change.memoryMb} : {}),
      ...(change.env ? {env: {...current.env, ...change.env}} : {}),
    })
  }
  return {
    reconfigure,
    async restore() {
      const lambda = await client()
      for (const [fn, config] of original) await updateConfiguration(lambda, fn, {memoryMb: config.memoryMb, env: config.env})
      original.clear()
    },
  }
}

/**
 * How to reconfigure the functions of a target: AWS through its Lambda client; the local target
 * through the Lambda API of its service (LocalTarget.lambda()).
 */
export function reconfigurerOf(target: Target, clients?: Pick<AwsClients, 'lambda'>): Reconfigurer | undefined {
  const local = target as Target & {lambda?: () => Promise<LambdaClient>}
  if (typeof local.lambda === 'function') return lambdaReconfigurer(() => local.lambda!())
  if (target.kind === 'aws' && clients) return awsReconfigurer(clients)
  return undefined
}
