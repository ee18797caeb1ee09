import type {LambdaClient} from '@aws-sdk/client-lambda'

import {
  addPermission,
  createUrlConfig,
  deleteUrlConfig,
  getUrlConfig,
  policyStatementIds,
  PUBLIC_URL_STATEMENTS,
  removePermission,
  updateUrlConfig,
} from '../aws/function-urls.js'
import type {RetryPolicy} from '../aws/lambda.js'
import type {Emit} from '../core/events.js'
import type {DeployOutcome, DestroyOutcome, FunctionSpec} from './target.js'

const sameOrigins = (a: readonly string[] | undefined, b: readonly string[]) =>
  (a ?? []).length === b.length && [...(a ?? [])].sort().every((o, i) => o === [...b].sort()[i])

/**
 * Converges a deployed function's URL on what `--url` asked for (the same calls on AWS and on the local
 * service): the URL config (auth type; CORS origins, other Cors fields kept), then the resource policy: a
 * NONE URL gets the two public statements, an AWS_IAM one loses those faas added. Reads first and writes
 * only what differs, so a second deploy writes nothing. Without `--url` nothing is read or changed.
 */
export async function deployFunctionUrl(
  lambda: LambdaClient,
  spec: FunctionSpec,
  outcome: DeployOutcome,
  retry: RetryPolicy,
  emit: Emit,
): Promise<DeployOutcome> {
  const want = spec.url
  if (!want) return outcome
  const subject = spec.name
  const changed: string[] = []
  const current = await getUrlConfig(lambda, spec.name)
  let url = current?.url
  if (!current) {
    emit({kind: 'progress', subject, message: `creating its URL (${want.authType})`})
    const cors = want.corsOrigins.length > 0 ? {AllowOrigins: want.corsOrigins} : undefined
    url = await createUrlConfig(lambda, spec.name, {authType: want.authType, cors}, retry)
    changed.push('url')
  } else if (current.authType !== want.authType || !sameOrigins(current.cors?.AllowOrigins, want.corsOrigins)) {
    emit({kind: 'progress', subject, message: `updating its URL (${want.authType})`})
    const cors = {...current.cors, AllowOrigins: want.corsOrigins}
    await updateUrlConfig(lambda, spec.name, {authType: want.authType, cors}, retry)
    changed.push('url')
  }
  const sids = await policyStatementIds(lambda, spec.name)
  const ours = PUBLIC_URL_STATEMENTS.map((s) => s.StatementId)
  if (want.authType === 'NONE') {
    const missing = PUBLIC_URL_STATEMENTS.filter((s) => !sids.includes(s.StatementId))
    for (const statement of missing) await addPermission(lambda, spec.name, statement, retry)
    if (missing.length > 0) changed.push('url-permission')
  } else {
    const stale = sids.filter((sid) => ours.includes(sid))
    for (const sid of stale) await removePermission(lambda, spec.name, sid, retry)
    if (stale.length > 0) changed.push('url-permission')
  }
  if (changed.length > 0)
    emit({kind: 'done', subject, message: `URL of ${spec.name} (${want.authType}): ${url} (${changed.join(', ')})`})
  return {
    ...outcome,
    action: outcome.action === 'unchanged' && changed.length > 0 ? 'updated' : outcome.action,
    changed: [...outcome.changed, ...changed],
    url,
  }
}

/**
 * Removes a function's URL before the function goes (Lambda would drop it with the function; saying so is
 * the point): a `url` outcome when there was one, nothing otherwise.
 */
export async function destroyFunctionUrl(
  lambda: LambdaClient,
  name: string,
  retry: RetryPolicy,
  emit: Emit,
): Promise<DestroyOutcome[]> {
  const current = await getUrlConfig(lambda, name)
  if (!current) return []
  const action = await deleteUrlConfig(lambda, name, retry)
  emit({kind: 'done', subject: name, message: `URL ${current.url} of ${name} ${action}`})
  return action === 'deleted' ? [{name, kind: 'url', action}] : []
}
