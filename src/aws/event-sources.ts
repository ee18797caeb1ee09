import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda'

import type {SqsEventSource} from '../core/event-sources.js'
import {aws} from './errors.js'
import {withRetries, type RetryPolicy} from './lambda.js'

/** An event source mapping of a function, as faas compares it with the manifest's. */
export interface Mapping {
  uuid: string
  source: SqsEventSource
}

const isSqs = (m: EventSourceMappingConfiguration) => /^arn:aws[a-z-]*:sqs:/.test(m.EventSourceArn ?? '')

const sourceOf = (m: EventSourceMappingConfiguration): SqsEventSource => ({
  queueArn: m.EventSourceArn!,
  batchSize: m.BatchSize ?? 10,
  batchingWindowS: m.MaximumBatchingWindowInSeconds ?? 0,
  reportBatchItemFailures: (m.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
  ...(m.ScalingConfig?.MaximumConcurrency ? {maximumConcurrency: m.ScalingConfig.MaximumConcurrency} : {}),
  // Enabling/Creating count as on; Disabled/Disabling as off.
  enabled: !/^Disabl/.test(m.State ?? ''),
})

/** The function's SQS mappings (every page). */
export async function listSqsMappings(lambda: LambdaClient, name: string): Promise<Mapping[]> {
  const found: Mapping[] = []
  let marker: string | undefined
  do {
    const page = await aws(`list the event source mappings of ${name} (lambda:ListEventSourceMappings)`, () =>
      lambda.send(new ListEventSourceMappingsCommand({FunctionName: name, Marker: marker})),
    )
    for (const m of page.EventSourceMappings ?? []) if (isSqs(m)) found.push({uuid: m.UUID!, source: sourceOf(m)})
    marker = page.NextMarker
  } while (marker)
  return found
}

/** The settings of a mapping as CreateEventSourceMapping and UpdateEventSourceMapping take them. */
const settingsOf = (s: SqsEventSource) => ({
  BatchSize: s.batchSize,
  MaximumBatchingWindowInSeconds: s.batchingWindowS,
  FunctionResponseTypes: s.reportBatchItemFailures ? (['ReportBatchItemFailures'] as const) : [],
  ...(s.maximumConcurrency ? {ScalingConfig: {MaximumConcurrency: s.maximumConcurrency}} : {}),
  Enabled: s.enabled,
})

/** Creates a mapping; waits out a role whose new SQS actions Lambda does not see yet. */
export async function createSqsMapping(
  lambda: LambdaClient,
  name: string,
  source: SqsEventSource,
  retry: RetryPolicy,
): Promise<string> {
  const out = await withRetries(
    lambda,
    `map ${source.queueArn} to ${name} (lambda:CreateEventSourceMapping)`,
    name,
    () =>
      lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: name,
          EventSourceArn: source.queueArn,
          ...settingsOf(source),
          FunctionResponseTypes: [...settingsOf(source).FunctionResponseTypes],
        }),
      ),
    retry,
    {rolePropagation: true},
  )
  return out.UUID!
}

export async function updateSqsMapping(
  lambda: LambdaClient,
  name: string,
  mapping: Mapping,
  source: SqsEventSource,
  retry: RetryPolicy,
): Promise<void> {
  const settings = settingsOf(source)
  await withRetries(
    lambda,
    `update the mapping of ${source.queueArn} to ${name} (lambda:UpdateEventSourceMapping)`,
    name,
    () =>
      lambda.send(
        new UpdateEventSourceMappingCommand({
          UUID: mapping.uuid,
          ...settings,
          FunctionResponseTypes: [...settings.FunctionResponseTypes],
          // Lambda keeps a cap once set: lifting it is an empty ScalingConfig.
          ...(source.maximumConcurrency ? {} : mapping.source.maximumConcurrency ? {ScalingConfig: {}} : {}),
        }),
      ),
    retry,
    {rolePropagation: true},
  )
}

/** Deletes a mapping; one already gone counts as deleted by someone else ('absent'). */
export async function deleteSqsMapping(
  lambda: LambdaClient,
  name: string,
  mapping: Mapping,
  retry: RetryPolicy,
): Promise<'deleted' | 'absent'> {
  return withRetries(
    lambda,
    `delete the mapping of ${mapping.source.queueArn} to ${name} (lambda:DeleteEventSourceMapping)`,
    name,
    () =>
      lambda.send(new DeleteEventSourceMappingCommand({UUID: mapping.uuid})).then(
        () => 'deleted' as const,
        (error: {name?: string}) => {
          if (error?.name === 'ResourceNotFoundException') return 'absent' as const
          throw error
        },
      ),
    retry,
  )
}
