import {randomUUID} from 'node:crypto'

import {readJsonFileSync, writeJsonFileSync} from '../core/files.js'
import {nameOf} from './arns.js'
import {awsJson, AwsJsonError, parseArn, type JsonApiTarget} from './emulator-api.js'
import {invalid, LambdaApiError, notFound} from './lambda-errors.js'
import type {FunctionPool} from './pool.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * SQS event source mappings, as Lambda runs them: pollers long-poll a queue of the stack's emulator,
 * gather up to BatchSize messages (waiting at most MaximumBatchingWindowInSeconds), invoke the
 * function with Lambda's SQS event, delete what succeeded and leave the rest to reappear after the
 * queue's visibility timeout, where the queue's own redrive policy moves it to its dead-letter queue
 * after maxReceiveCount. With ReportBatchItemFailures only the reported items stay. Mappings are
 * saved beside the functions, so a restarted service polls again (messages in flight reappear).
 */

export interface Mapping {
  uuid: string
  eventSourceArn: string
  functionName: string
  batchSize: number
  maximumBatchingWindowInSeconds: number
  reportBatchItemFailures: boolean
  enabled: boolean
  maximumConcurrency?: number
  lastModified: number
  lastProcessingResult: string
}

export interface MappingContext {
  functions: Map<string, LocalFunction>
  options: Pick<ServiceOptions, 'region' | 'accountId' | 'awsEndpoint' | 's3Endpoint' | 'credentials'>
  pool(name: string): FunctionPool
  log(name: string, line: string): void
  /** Where the mappings are kept (none: memory only). */
  file?: string
}

/** Lambda's pollers for a queue at first (it scales up from 5); MaximumConcurrency caps them. */
const POLLERS = 5
const STANDARD_MAX_BATCH = 10_000
const FIFO_MAX_BATCH = 10

type SqsMessage = {
  MessageId: string
  ReceiptHandle: string
  Body: string
  MD5OfBody: string
  Attributes?: Record<string, string>
  MessageAttributes?: Record<string, {DataType: string; StringValue?: string; BinaryValue?: string}>
}

export class EventSourceMappings {
  readonly mappings = new Map<string, Mapping>()
  readonly #pollers = new Map<string, AbortController>()
  readonly #running = new Set<Promise<void>>()
  /** The last ReceiveMessage asked of each queue (see #receiveAlone). */
  readonly #receiving = new Map<string, Promise<unknown>>()
  #closed = false

  constructor(private readonly ctx: MappingContext) {}

  /** Loads the saved mappings and starts polling the enabled ones. */
  resume(): void {
    const saved = this.ctx.file
      ? readJsonFileSync<{mappings?: Mapping[]}>(this.ctx.file, {
          what: "the local service's event source mappings",
          fix: 'Repair it, or remove it and create the mappings again.',
        })
      : undefined
    for (const mapping of saved?.mappings ?? []) {
      this.mappings.set(mapping.uuid, mapping)
      this.#start(mapping)
    }
  }

  #save(): void {
    if (this.ctx.file) writeJsonFileSync(this.ctx.file, {mappings: [...this.mappings.values()]})
  }

  #emulator(): JsonApiTarget {
    const endpoint = this.ctx.options.awsEndpoint ?? this.ctx.options.s3Endpoint
    if (!endpoint)
      throw invalid(
        'The local service has no AWS emulator to poll queues in: start it with --aws-endpoint URL (the ' +
          "stack's moto, e.g. http://127.0.0.1:5050).",
      )
    return {
      endpoint,
      region: this.ctx.options.region,
      credentials: this.ctx.options.credentials ?? {accessKeyId: 'faas-local', secretAccessKey: 'faas-local'},
    }
  }

  async #queueUrl(arn: string): Promise<string> {
    const parts = parseArn(arn)
    if (parts?.service !== 'sqs')
      throw invalid(
        `EventSourceArn ${JSON.stringify(arn)} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME): the local ` +
          'service maps SQS queues only.',
      )
    try {
      const {QueueUrl} = await awsJson<{QueueUrl: string}>(this.#emulator(), 'sqs', 'GetQueueUrl', {
        QueueName: parts.resource,
        QueueOwnerAWSAccountId: parts.account || undefined,
      })
      return QueueUrl
    } catch (error) {
      if (error instanceof AwsJsonError)
        throw invalid(
          `The queue ${arn} does not exist in the emulator (${error.type}): create it first, or fix the ARN.`,
        )
      throw error
    }
  }

  describe(mapping: Mapping, state?: string): Record<string, unknown> {
    const fn = this.ctx.functions.get(mapping.functionName)
    return {
      UUID: mapping.uuid,
      EventSourceArn: mapping.eventSourceArn,
      FunctionArn:
        fn?.arn ??
        `arn:aws:lambda:${this.ctx.options.region}:${this.ctx.options.accountId}:function:${mapping.functionName}`,
      BatchSize: mapping.batchSize,
      MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
      FunctionResponseTypes: mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      ScalingConfig: mapping.maximumConcurrency ? {MaximumConcurrency: mapping.maximumConcurrency} : undefined,
      LastModified: mapping.lastModified,
      LastProcessingResult: mapping.lastProcessingResult,
      State: state ?? (mapping.enabled ? 'Enabled' : 'Disabled'),
      StateTransitionReason: 'USER_INITIATED',
    }
  }

  /** Checks and applies the fields of a Create or Update body to `mapping` (a copy: nothing changes on error). */
  async #apply(mapping: Mapping, body: Record<string, unknown>, creating: boolean): Promise<Mapping> {
    const next = {...mapping}
    if (body.FunctionName !== undefined) {
      const name = nameOf(String(body.FunctionName))
      if (!this.ctx.functions.has(name))
        throw notFound(`arn:aws:lambda:${this.ctx.options.region}:${this.ctx.options.accountId}:function:${name}`)
      next.functionName = name
    }
    const fifo = next.eventSourceArn.endsWith('.fifo')
    const max = fifo ? FIFO_MAX_BATCH : STANDARD_MAX_BATCH
    const int = (value: unknown, field: string, min: number, top: number): number | undefined => {
      if (value === undefined || value === null) return undefined
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > top)
        throw invalid(`${field} must be a whole number from ${min} to ${top} here; got ${JSON.stringify(value)}.`)
      return value
    }
    next.batchSize =
      int(body.BatchSize, `BatchSize (an ${fifo ? 'SQS FIFO' : 'SQS standard'} queue's maximum ${max})`, 1, max) ??
      next.batchSize
    next.maximumBatchingWindowInSeconds =
      int(body.MaximumBatchingWindowInSeconds, 'MaximumBatchingWindowInSeconds', 0, 300) ??
      next.maximumBatchingWindowInSeconds
    if (next.batchSize > 10 && next.maximumBatchingWindowInSeconds < 1)
      throw invalid(
        `Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10: set ` +
          `MaximumBatchingWindowInSeconds (1–300) with BatchSize ${next.batchSize}, or a BatchSize of 10 or less.`,
      )
    if (body.FunctionResponseTypes !== undefined) {
      const types = body.FunctionResponseTypes as unknown[]
      if (!Array.isArray(types) || types.some((t) => t !== 'ReportBatchItemFailures'))
        throw invalid(`FunctionResponseTypes may only hold ReportBatchItemFailures; got ${JSON.stringify(types)}.`)
      next.reportBatchItemFailures = types.length > 0
    }
    if (body.Enabled !== undefined) next.enabled = body.Enabled !== false
    const scaling = body.ScalingConfig as {MaximumConcurrency?: unknown} | undefined
    if (scaling !== undefined)
      next.maximumConcurrency = int(scaling?.MaximumConcurrency, 'ScalingConfig.MaximumConcurrency', 2, 1000)
    if (creating) await this.#queueUrl(next.eventSourceArn)
    next.lastModified = Date.now() / 1000
    return next
  }

  async create(body: Record<string, unknown>): Promise<[number, unknown]> {
    if (typeof body.EventSourceArn !== 'string') throw invalid('EventSourceArn is required: the SQS queue to poll.')
    if (body.FunctionName === undefined) throw invalid('FunctionName is required.')
    for (const existing of this.mappings.values()) {
      if (
        existing.eventSourceArn === body.EventSourceArn &&
        existing.functionName === nameOf(String(body.FunctionName))
      )
        throw new LambdaApiError(
          409,
          'ResourceConflictException',
          `An event source mapping with SQS arn (" ${body.EventSourceArn} ") and function ` +
            `(" ${existing.functionName} ") already exists. Please update or delete the existing mapping with ` +
            `UUID ${existing.uuid}`,
        )
    }
    const blank: Mapping = {
      uuid: randomUUID(),
      eventSourceArn: body.EventSourceArn,
      functionName: '',
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      reportBatchItemFailures: false,
      enabled: true,
      lastModified: 0,
      lastProcessingResult: 'No records processed',
    }
    const mapping = await this.#apply(blank, body, true)
    this.mappings.set(mapping.uuid, mapping)
    this.#save()
    this.#start(mapping)
    return [202, this.describe(mapping, 'Creating')]
  }

  #get(uuid: string): Mapping {
    const mapping = this.mappings.get(uuid)
    if (!mapping)
      throw new LambdaApiError(404, 'ResourceNotFoundException', `The resource you requested does not exist. (${uuid})`)
    return mapping
  }

  get(uuid: string): [number, unknown] {
    return [200, this.describe(this.#get(uuid))]
  }

  list(functionName: string | null, eventSourceArn: string | null): [number, unknown] {
    const name = functionName ? nameOf(functionName) : undefined
    const all = [...this.mappings.values()].filter(
      (m) => (!name || m.functionName === name) && (!eventSourceArn || m.eventSourceArn === eventSourceArn),
    )
    return [200, {EventSourceMappings: all.map((m) => this.describe(m))}]
  }

  async update(uuid: string, body: Record<string, unknown>): Promise<[number, unknown]> {
    const mapping = await this.#apply(this.#get(uuid), body, false)
    this.#stop(uuid)
    this.mappings.set(uuid, mapping)
    this.#save()
    this.#start(mapping)
    return [202, this.describe(mapping, mapping.enabled ? 'Updating' : 'Disabling')]
  }

  delete(uuid: string): [number, unknown] {
    const mapping = this.#get(uuid)
    this.#stop(uuid)
    this.mappings.delete(uuid)
    this.#save()
    return [202, this.describe(mapping, 'Deleting')]
  }

  /** Drops the mappings of a deleted function (Lambda keeps them, failing; here they would poll for nothing). */
  functionDeleted(name: string): void {
    for (const mapping of [...this.mappings.values()]) if (mapping.functionName === name) this.delete(mapping.uuid)
  }

  #start(mapping: Mapping): void {
    if (this.#closed || !mapping.enabled) return
    const abort = new AbortController()
    this.#pollers.set(mapping.uuid, abort)
    // No more pollers than environments may run: a batch received with no environment free would sit out its
    // visibility timeout and come back (Lambda scales its pollers with the concurrency it gets).
    const limit = this.ctx.pool(mapping.functionName).limit
    for (let i = 0; i < Math.min(POLLERS, mapping.maximumConcurrency ?? POLLERS, Math.max(1, limit)); i++) {
      const run = this.#poll(mapping, abort.signal).catch(() => {})
      this.#running.add(run)
      void run.finally(() => this.#running.delete(run))
    }
  }

  #stop(uuid: string): void {
    this.#pollers.get(uuid)?.abort()
    this.#pollers.delete(uuid)
  }

  /** One poller: receive a batch, invoke, delete what succeeded; until the mapping stops. */
  async #poll(mapping: Mapping, signal: AbortSignal): Promise<void> {
    let url: string | undefined
    while (!signal.aborted) {
      try {
        url ??= await this.#queueUrl(mapping.eventSourceArn)
        const batch = await this.#receive(mapping, url, signal)
        if (batch.length > 0 && !signal.aborted) await this.#process(mapping, url, batch)
      } catch (error) {
        if (signal.aborted) return
        this.ctx.log(mapping.functionName, `ESM ${mapping.eventSourceArn}: ${(error as Error).message}; polling again`)
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }

  /** Up to BatchSize messages, gathered for at most the batching window (a long poll while none has come). */
  async #receive(mapping: Mapping, url: string, signal: AbortSignal): Promise<SqsMessage[]> {
    const batch: SqsMessage[] = []
    const until = Date.now() + mapping.maximumBatchingWindowInSeconds * 1000
    for (;;) {
      const left = Math.ceil((until - Date.now()) / 1000)
      const {Messages} = await this.#receiveAlone(url, () =>
        awsJson<{Messages?: SqsMessage[]}>(
          this.#emulator(),
          'sqs',
          'ReceiveMessage',
          {
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, mapping.batchSize - batch.length),
            WaitTimeSeconds: batch.length === 0 ? Math.max(1, Math.min(20, left)) : Math.max(0, Math.min(20, left)),
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          },
          signal,
        ),
      )
      batch.push(...(Messages ?? []))
      if (batch.length >= mapping.batchSize || Date.now() >= until || signal.aborted) return batch
      if (batch.length > 0 && !Messages?.length) return batch
    }
  }

  /**
   * One ReceiveMessage at a time per queue; the pollers still invoke in parallel. The stack's moto checks and marks
   * a message's visibility without a lock, so two receives at once sometimes both get it (about one message in 200
   * at five pollers): SQS promises at least once, but the emulator should not add duplicates of its own.
   */
  async #receiveAlone<T>(url: string, receive: () => Promise<T>): Promise<T> {
    const mine = (this.#receiving.get(url) ?? Promise.resolve()).catch(() => {}).then(receive)
    this.#receiving.set(url, mine)
    try {
      return await mine
    } finally {
      if (this.#receiving.get(url) === mine) this.#receiving.delete(url)
    }
  }

  async #process(mapping: Mapping, url: string, batch: SqsMessage[]): Promise<void> {
    const region = this.ctx.options.region
    const event = {
      Records: batch.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
            k,
            {
              stringValue: v.StringValue,
              binaryValue: v.BinaryValue,
              stringListValues: [],
              binaryListValues: [],
              dataType: v.DataType,
            },
          ]),
        ),
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: mapping.eventSourceArn,
        awsRegion: parseArn(mapping.eventSourceArn)?.region || region,
      })),
    }
    const result = await this.ctx.pool(mapping.functionName).invoke({
      payload: Buffer.from(JSON.stringify(event)),
      waitForLogs: false,
      sync: false,
    })
    let keep = new Set<string>()
    if (result.functionError) {
      keep = new Set(batch.map((m) => m.MessageId))
    } else if (mapping.reportBatchItemFailures) {
      keep = reportedFailures(result.payload, batch)
    }
    const done = batch.filter((m) => !keep.has(m.MessageId))
    for (let i = 0; i < done.length; i += 10) {
      const {Failed} = await awsJson<{Failed?: Array<{Id: string; Code?: string; Message?: string}>}>(
        this.#emulator(),
        'sqs',
        'DeleteMessageBatch',
        {
          QueueUrl: url,
          Entries: done.slice(i, i + 10).map((m, n) => ({Id: String(n), ReceiptHandle: m.ReceiptHandle})),
        },
      )
      // A delete the queue refused (its answer is 200 all the same): that message comes back, and runs again.
      if (Failed?.length)
        this.ctx.log(
          mapping.functionName,
          `ESM ${Failed.length} delete(s) refused (${Failed[0]!.Code ?? ''} ${Failed[0]!.Message ?? ''}): ` +
            `those messages reappear after the visibility timeout`,
        )
    }
    mapping.lastProcessingResult = keep.size === 0 ? 'OK' : `${keep.size} of ${batch.length} failed`
    if (keep.size > 0)
      this.ctx.log(
        mapping.functionName,
        `ESM batch of ${batch.length}: ${keep.size} left on the queue ` +
          `(${result.functionError ? 'the function failed' : 'reported as failed'})`,
      )
  }

  /** Stops polling (messages received and not deleted reappear after their visibility timeout). */
  close(): void {
    this.#closed = true
    for (const uuid of [...this.#pollers.keys()]) this.#stop(uuid)
  }

  /** Settles once the pollers have ended (after the pools closed: a batch under way ends with them). */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.#running])
  }
}

/**
 * The items a ReportBatchItemFailures answer names (`batchItemFailures[].itemIdentifier`). As on Lambda, an answer
 * that names an id not in the batch, or an empty or malformed id, fails the whole batch; an empty list, none.
 */
function reportedFailures(payload: Buffer, batch: SqsMessage[]): Set<string> {
  const all = new Set(batch.map((m) => m.MessageId))
  let answer: unknown
  try {
    answer = JSON.parse(payload.toString('utf8'))
  } catch {
    return new Set()
  }
  const failures = (answer as {batchItemFailures?: unknown} | null)?.batchItemFailures
  if (failures === undefined || failures === null) return new Set()
  if (!Array.isArray(failures)) return all
  const ids = new Set<string>()
  for (const failure of failures) {
    const id = (failure as {itemIdentifier?: unknown} | null)?.itemIdentifier
    if (typeof id !== 'string' || !all.has(id)) return all
    ids.add(id)
  }
  return ids
}
