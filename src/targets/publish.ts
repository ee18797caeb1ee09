import type {LambdaClient} from '@aws-sdk/client-lambda'

import {publishAndAlias} from '../aws/lambda-versions.js'
import type {Emit} from '../core/events.js'
import type {DeployOutcome, FunctionSpec} from './target.js'

/**
 * After a function is deployed, `--publish`: a version (none new when nothing changed) and the alias
 * pointed at it. The same Lambda calls on both targets.
 */
export async function withPublished(
  lambda: LambdaClient,
  spec: FunctionSpec,
  outcome: DeployOutcome,
  emit: Emit,
): Promise<DeployOutcome> {
  if (!spec.publish) return outcome
  const published = await publishAndAlias(lambda, spec.name, spec.publish)
  const changed = [...outcome.changed]
  if (published.created) changed.push('version')
  if (published.alias && published.alias.action !== 'unchanged') changed.push('alias')
  if (published.provisioned?.action === 'updated') changed.push('provisioned')
  const alias = published.alias
  emit({
    kind: 'done',
    subject: spec.name,
    message:
      `${published.created ? 'Published' : 'Unchanged since'} version ${published.version}` +
      (alias
        ? `; alias ${alias.name} ${alias.action === 'unchanged' ? 'already points at it' : `→ ${alias.version}`}`
        : '') +
      (published.provisioned
        ? `; ${published.provisioned.requested} provisioned on ${published.provisioned.qualifier} ` +
          `(${published.provisioned.status})`
        : ''),
  })
  return {
    ...outcome,
    action: outcome.action === 'unchanged' && changed.length > 0 ? 'updated' : outcome.action,
    changed,
    version: published.version,
    ...(alias ? {alias: {name: alias.name, version: alias.version, weights: alias.weights}} : {}),
    ...(published.provisioned
      ? {
          provisioned: {
            qualifier: published.provisioned.qualifier,
            requested: published.provisioned.requested,
            status: published.provisioned.status,
          },
        }
      : {}),
  }
}
