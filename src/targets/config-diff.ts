import type {ConfigChange} from '../aws/lambda.js'
import {sameEnv, sameList} from '../core/function-config.js'
import type {FunctionSpec, FunctionState} from './target.js'

/**
 * What UpdateFunctionConfiguration must change for a deployed function to match its spec (both
 * targets compare the same way: env and command as maps and lists, not as JSON text), and the names
 * of the changes for the deploy outcome.
 */
export function configDiff(
  current: FunctionState,
  spec: FunctionSpec,
  command: string[] | undefined,
  roleArn?: string,
): {change: ConfigChange; changed: string[]} {
  const change: ConfigChange = {}
  const changed: string[] = []
  if (roleArn !== undefined && current.role !== roleArn) {
    change.roleArn = roleArn
    changed.push('role-arn')
  }
  if (current.memoryMb !== spec.memoryMb) {
    change.memoryMb = spec.memoryMb
    changed.push('memory')
  }
  if (current.timeoutS !== spec.timeoutS) {
    change.timeoutS = spec.timeoutS
    changed.push('timeout')
  }
  if (current.ephemeralStorageMb !== (spec.ephemeralStorageMb ?? 512)) {
    change.ephemeralStorageMb = spec.ephemeralStorageMb ?? 512
    changed.push('ephemeral-storage')
  }
  if (current.logFormat !== (spec.logFormat ?? 'Text')) {
    change.logFormat = spec.logFormat ?? 'Text'
    changed.push('log-format')
  }
  if (!sameEnv(current.env, spec.env)) {
    change.env = spec.env
    changed.push('env')
  }
  if (command && !sameList(current.command, command)) {
    change.command = command
    changed.push('handler')
  }
  return {change, changed}
}
