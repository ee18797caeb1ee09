import type {LambdaClient} from '@aws-sdk/client-lambda'

import {createSqsMapping, deleteSqsMapping, listSqsMappings, updateSqsMapping} from '../aws/event-sources.js'
import type {RetryPolicy} from '../aws/lambda.js'
import {queueVisibilityTimeoutS, type SqsEventSource} from '../core/event-sources.js'
import type {Emit} from '../core/events.js'
import type {DeployOutcome, DestroyOutcome, FunctionSpec} from './target.js'

const same = (a: SqsEventSource, b: SqsEventSource) =>
  a.batchSize === b.batchSize &&
  a.batchingWindowS === b.batchingWindowS &&
  a.reportBatchItemFailures === b.reportBatchItemFailures &&
  a.maximumConcurrency === b.maximumConcurrency &&
  a.enabled === b.enabled

/** Makes (or finds) a queue where the function runs: its ARN, and whether it was made or changed. */
export type QueueMaker = (
  name: string,
  visibilityTimeoutS: number,
) => Promise<{arn: string; action: 'created' | 'updated' | 'unchanged'}>

/**
 * Converges a deployed function's SQS event source mappings on the manifest's "eventSources" (the same calls on AWS
 * and on the local service): the queues faas makes first, then a mapping per declared queue, created or updated
 * where it differs; mappings of queues no longer declared are deleted. Reads first and writes only what differs, so
 * a second deploy writes nothing. Without "eventSources" nothing is read or changed.
 */
export async function deployEventSources(
  lambda: LambdaClient,
  spec: FunctionSpec,
  outcome: DeployOutcome,
  retry: RetryPolicy,
  emit: Emit,
  makeQueue: QueueMaker,
): Promise<DeployOutcome> {
  if (!spec.eventSources) return outcome
  const subject = spec.name
  const changed: string[] = []
  const wanted: SqsEventSource[] = []
  for (const declared of spec.eventSources) {
    if ('queueArn' in declared) {
      wanted.push(declared)
      continue
    }
    const {createQueue, ...settings} = declared
    const queue = await makeQueue(createQueue, queueVisibilityTimeoutS(spec.timeoutS))
    if (queue.action !== 'unchanged') {
      emit({kind: 'progress', subject, message: `queue ${createQueue} ${queue.action}`})
      changed.push('queue')
    }
    wanted.push({...settings, queueArn: queue.arn})
  }
  const current = await listSqsMappings(lambda, spec.name)
  for (const source of wanted) {
    const mapping = current.find((m) => m.source.queueArn === source.queueArn)
    if (!mapping) {
      emit({kind: 'progress', subject, message: `mapping ${source.queueArn} (batch ${source.batchSize})`})
      await createSqsMapping(lambda, spec.name, source, retry)
      changed.push('event-source')
    } else if (!same(mapping.source, source)) {
      emit({kind: 'progress', subject, message: `updating the mapping of ${source.queueArn}`})
      await updateSqsMapping(lambda, spec.name, mapping, source, retry)
      changed.push('event-source')
    }
  }
  for (const stale of current.filter((m) => !wanted.some((s) => s.queueArn === m.source.queueArn))) {
    emit({kind: 'progress', subject, message: `removing the mapping of ${stale.source.queueArn} (no longer declared)`})
    await deleteSqsMapping(lambda, spec.name, stale, retry)
    changed.push('event-source')
  }
  if (changed.length === 0) return outcome
  emit({kind: 'done', subject, message: `${spec.name}: ${wanted.length} SQS event source(s) in place`})
  return {
    ...outcome,
    action: outcome.action === 'unchanged' ? 'updated' : outcome.action,
    changed: [...outcome.changed, ...new Set(changed)],
  }
}

/**
 * Removes a function's SQS mappings before the function goes (on AWS a mapping outlives its function and keeps
 * polling for it): a `mapping` outcome for each.
 */
export async function destroyEventSources(
  lambda: LambdaClient,
  name: string,
  retry: RetryPolicy,
  emit: Emit,
): Promise<DestroyOutcome[]> {
  const outcomes: DestroyOutcome[] = []
  for (const mapping of await listSqsMappings(lambda, name)) {
    const action = await deleteSqsMapping(lambda, name, mapping, retry)
    emit({kind: 'done', subject: name, message: `mapping of ${mapping.source.queueArn} to ${name} ${action}`})
    if (action === 'deleted') outcomes.push({name, kind: 'mapping', action})
  }
  return outcomes
}
