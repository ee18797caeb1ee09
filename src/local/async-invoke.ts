import {randomUUID} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {awsJson, AwsJsonError, parseArn, type JsonApiTarget} from './emulator-api.js'
import {writeJsonFileSync} from '../core/files.js'
import {nameOf} from './arns.js'
import type {InvocationResult} from './invocation.js'
import {NotRunError, ThrottledError, type FunctionPool} from './pool.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * Lambda's asynchronous invocation: an Event call is queued (on disk, so a restarted service finds it),
 * run when concurrency allows (throttled by reserved concurrency: retried with back-off from 1 s to 5 minutes),
 * retried after a function error with Lambda's delays (about 1 and 2
 * minutes, `--async-retry-delays` for tests) up to MaximumRetryAttempts, dropped once older than
 * MaximumEventAgeInSeconds, and its outcome sent as Lambda's record to the OnSuccess / OnFailure
 * destination: an SQS queue or EventBridge bus of the stack's emulator, or another local function.
 * A queued event's file goes once its outcome is delivered: an event that was running when the
 * service stopped runs again on the next start (at least once, as on Lambda); a completed one never.
 */

const THROTTLE_BACKOFF_MAX_MS = 5 * 60_000

export type Condition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded'

interface QueuedEvent {
  /** The version the call named (its alias resolved when it was accepted); $LATEST when absent. */
  version?: string
  requestId: string
  functionName: string
  /** The payload (JSON text). */
  payload: string
  clientContext?: string
  enqueuedAt: number
  attempts: number
  /** Throttles in a row (the next back-off doubles); attempts do not count them, as on Lambda. */
  throttles?: number
  notBefore: number
  /** Set once the last attempt ended: the record still to deliver. */
  outcome?: {condition: Condition; record: DestinationRecord}
}

/** What a destination receives (Lambda's invocation record). */
export interface DestinationRecord {
  version: '1.0'
  timestamp: string
  requestContext: {requestId: string; functionArn: string; condition: Condition; approximateInvokeCount: number}
  requestPayload: unknown
  responseContext?: {statusCode: number; executedVersion: string; functionError?: string}
  responsePayload?: unknown
}

export interface AsyncContext {
  functions: Map<string, LocalFunction>
  options: Pick<
    ServiceOptions,
    'region' | 'accountId' | 'maxEventAgeMs' | 'asyncRetryDelaysMs' | 'awsEndpoint' | 's3Endpoint' | 'credentials'
  >
  /** The on-demand environments of a version ($LATEST when not given). */
  pool(name: string, version?: string): FunctionPool
  log(name: string, line: string): void
  /** Where queued events are kept (none: memory only). */
  dir?: string
}

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class AsyncInvoker {
  readonly #events = new Map<string, QueuedEvent>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #running = new Set<Promise<void>>()
  #closed = false

  constructor(private readonly ctx: AsyncContext) {}

  /** Queued and running events (the health answer shows it). */
  get size(): number {
    return this.#events.size
  }

  /** Queues an Event invocation; it is on disk before the caller gets its 202. */
  enqueue(functionName: string, payload: Buffer, requestId: string, clientContext?: string, version?: string): void {
    const now = Date.now()
    const event: QueuedEvent = {
      requestId,
      functionName,
      ...(version && version !== '$LATEST' ? {version} : {}),
      payload: payload.toString('utf8'),
      clientContext,
      enqueuedAt: now,
      attempts: 0,
      notBefore: now,
    }
    this.#save(event)
    this.#schedule(event)
  }

  /** Takes up the events a previous service on the same home left queued. */
  resume(): number {
    if (!this.ctx.dir) return 0
    let found = 0
    for (const file of this.#files()) {
      try {
        const event = JSON.parse(readFileSync(join(this.ctx.dir, file), 'utf8')) as QueuedEvent
        if (this.#events.has(event.requestId)) continue
        this.#events.set(event.requestId, event)
        this.#schedule(event)
        found++
      } catch {
        rmSync(join(this.ctx.dir, file), {force: true}) // half-written by a crash before its 202: never accepted
      }
    }
    return found
  }

  #files(): string[] {
    try {
      return readdirSync(this.ctx.dir!).filter((f) => f.endsWith('.json'))
    } catch {
      return []
    }
  }

  #save(event: QueuedEvent): void {
    this.#events.set(event.requestId, event)
    if (!this.ctx.dir) return
    mkdirSync(this.ctx.dir, {recursive: true, mode: 0o700})
    writeJsonFileSync(join(this.ctx.dir, `${event.requestId}.json`), event)
  }

  #forget(event: QueuedEvent): void {
    this.#events.delete(event.requestId)
    if (this.ctx.dir) rmSync(join(this.ctx.dir, `${event.requestId}.json`), {force: true})
  }

  /** Runs the event's next step when due: at once (in this tick, so it already waits for concurrency) when it is. */
  #schedule(event: QueuedEvent): void {
    if (this.#closed) return
    const delay = event.notBefore - Date.now()
    if (delay <= 0) return this.#run(event)
    const timer = setTimeout(() => {
      this.#timers.delete(event.requestId)
      this.#run(event)
    }, delay)
    this.#timers.set(event.requestId, timer)
  }

  #run(event: QueuedEvent): void {
    const run = this.#step(event).catch((error) =>
      this.ctx.log(event.functionName, `EVENT RequestId: ${event.requestId} ${(error as Error).message}`),
    )
    this.#running.add(run)
    void run.finally(() => this.#running.delete(run))
  }

  /** One attempt (or the delivery of an outcome already reached). */
  async #step(event: QueuedEvent): Promise<void> {
    if (event.outcome) return this.#deliver(event)
    const fn = this.ctx.functions.get(event.functionName)
    if (!fn) {
      this.ctx.log(event.functionName, `EVENT RequestId: ${event.requestId} dropped: the function was deleted`)
      return this.#forget(event)
    }
    const config = fn.eventInvokeConfig
    const deadline =
      event.enqueuedAt + (config?.maximumEventAgeInSeconds ?? this.ctx.options.maxEventAgeMs / 1000) * 1000
    if (Date.now() >= deadline) return this.#finish(event, fn, 'EventAgeExceeded')
    let result: InvocationResult
    try {
      result = await this.ctx.pool(fn.name, event.version).invoke({
        payload: Buffer.from(event.payload),
        clientContext: event.clientContext,
        waitForLogs: false,
        // Reserved concurrency in use throttles the event (retried with back-off below), as on Lambda; otherwise
        // it waits for one of this machine's environments (the stand-in for the account's concurrency).
        sync: fn.reservedConcurrency !== undefined,
        requestId: event.requestId,
        waitUntil: deadline,
      })
    } catch (error) {
      if (this.#closed) return // runs again on the next start
      if (error instanceof ThrottledError) return this.#throttled(event, fn, deadline, error.reason)
      if (!(error instanceof NotRunError)) throw error
      if (Date.now() >= deadline) return this.#finish(event, fn, 'EventAgeExceeded')
      this.ctx.log(fn.name, `EVENT RequestId: ${event.requestId} dropped: ${error.message}`)
      return this.#forget(event)
    }
    if (this.#closed) return // the service stopped under it: not counted, it runs again on the next start
    event.attempts++
    event.throttles = 0
    if (!result.functionError) return this.#finish(event, fn, 'Success', result)
    const retries = config?.maximumRetryAttempts ?? 2
    if (event.attempts > retries) return this.#finish(event, fn, 'RetriesExhausted', result)
    const delays = this.ctx.options.asyncRetryDelaysMs
    event.notBefore = Date.now() + (delays[event.attempts - 1] ?? delays.at(-1) ?? 0)
    if (event.notBefore >= deadline) return this.#finish(event, fn, 'EventAgeExceeded', result)
    this.ctx.log(
      fn.name,
      `EVENT RequestId: ${event.requestId} failed (attempt ${event.attempts}); retried in ` +
        `${Math.round((event.notBefore - Date.now()) / 1000)} s`,
    )
    this.#save(event)
    this.#schedule(event)
  }

  /** A throttled event goes back to the queue: Lambda's back-off, from 1 s doubling up to 5 minutes, within its age. */
  #throttled(event: QueuedEvent, fn: LocalFunction, deadline: number, reason: string): Promise<void> | void {
    event.throttles = (event.throttles ?? 0) + 1
    const backoffMs = Math.min(THROTTLE_BACKOFF_MAX_MS, 1000 * 2 ** (event.throttles - 1))
    event.notBefore = Date.now() + backoffMs
    if (event.notBefore >= deadline) return this.#finish(event, fn, 'EventAgeExceeded')
    this.ctx.log(
      fn.name,
      `EVENT RequestId: ${event.requestId} throttled (${reason}); retried in ${Math.round(backoffMs / 1000)} s`,
    )
    this.#save(event)
    this.#schedule(event)
  }

  #finish(event: QueuedEvent, fn: LocalFunction, condition: Condition, result?: InvocationResult): Promise<void> {
    const record: DestinationRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: event.requestId,
        functionArn: `${fn.arn}:$LATEST`,
        condition,
        approximateInvokeCount: event.attempts,
      },
      requestPayload: parsed(event.payload),
    }
    if (result) {
      record.responseContext = {statusCode: 200, executedVersion: '$LATEST', functionError: result.functionError}
      if (!result.functionError) delete record.responseContext.functionError
      record.responsePayload = parsed(result.payload.toString('utf8'))
    }
    event.outcome = {condition, record}
    this.#save(event)
    return this.#deliver(event)
  }

  async #deliver(event: QueuedEvent): Promise<void> {
    const {condition, record} = event.outcome!
    const fn = this.ctx.functions.get(event.functionName)
    const config = fn?.eventInvokeConfig
    const destination = condition === 'Success' ? config?.onSuccess : config?.onFailure
    const line = `EVENT RequestId: ${event.requestId} ${condition} after ${event.attempts} attempt(s)`
    if (!destination) {
      this.ctx.log(event.functionName, condition === 'Success' ? line : `${line}; no failure destination: dropped`)
      return this.#forget(event)
    }
    try {
      await this.send(destination, record, condition === 'Success')
      this.ctx.log(event.functionName, `${line}; record sent to ${destination}`)
    } catch (error) {
      if (this.#closed) return // delivered on the next start
      this.ctx.log(event.functionName, `${line}; could not reach ${destination}: ${(error as Error).message}`)
    }
    this.#forget(event)
  }

  #emulator(arn: string): JsonApiTarget {
    const endpoint = this.ctx.options.awsEndpoint ?? this.ctx.options.s3Endpoint
    if (!endpoint)
      throw new Error(
        `the local service has no AWS emulator to reach ${arn} on: start it with --aws-endpoint URL (the stack's ` +
          `moto, e.g. http://127.0.0.1:5050)`,
      )
    return {
      endpoint,
      region: parseArn(arn)?.region || this.ctx.options.region,
      credentials: this.ctx.options.credentials ?? {accessKeyId: 'faas-local', secretAccessKey: 'faas-local'},
    }
  }

  async #queueUrl(arn: string): Promise<string> {
    const {account, resource} = parseArn(arn)!
    const answer = await awsJson<{QueueUrl: string}>(this.#emulator(arn), 'sqs', 'GetQueueUrl', {
      QueueName: resource,
      QueueOwnerAWSAccountId: account || undefined,
    })
    return answer.QueueUrl
  }

  /** Sends a record to a destination (the emulator's SQS or EventBridge, or a local function as an Event call). */
  async send(arn: string, record: DestinationRecord, success: boolean): Promise<void> {
    const service = parseArn(arn)?.service
    const body = JSON.stringify(record)
    if (service === 'sqs') {
      await awsJson(this.#emulator(arn), 'sqs', 'SendMessage', {QueueUrl: await this.#queueUrl(arn), MessageBody: body})
    } else if (service === 'events') {
      await awsJson(this.#emulator(arn), 'events', 'PutEvents', {
        Entries: [
          {
            EventBusName: arn,
            Source: 'lambda',
            DetailType: `Lambda Function Invocation Result - ${success ? 'Success' : 'Failure'}`,
            Detail: body,
            Resources: [record.requestContext.functionArn],
          },
        ],
      })
    } else if (service === 'lambda') {
      const name = nameOf(arn)
      if (!this.ctx.functions.has(name)) throw new Error(`the function ${name} no longer exists`)
      this.enqueue(name, Buffer.from(body), randomUUID())
    } else {
      throw new Error(`the local service does not deliver to ${service ?? arn} destinations`)
    }
  }

  /** Why `fn` cannot use `arn` as a destination, or undefined when it exists and is reachable. */
  async problemWith(arn: string, fn: LocalFunction): Promise<string | undefined> {
    const parts = parseArn(arn)
    if (!parts) return 'it is not an ARN.'
    if (parts.region && parts.region !== this.ctx.options.region)
      return `it is in ${parts.region}, and destinations must be in the function's region (${this.ctx.options.region}).`
    try {
      if (parts.service === 'lambda') {
        const name = nameOf(arn)
        if (name === fn.name) return 'a function cannot be its own destination.'
        if (!this.ctx.functions.has(name)) return `no local function is named ${name}: deploy it first.`
      } else if (parts.service === 'sqs') {
        await this.#queueUrl(arn)
      } else if (parts.service === 'events') {
        await awsJson(this.#emulator(arn), 'events', 'DescribeEventBus', {Name: arn})
      } else {
        return `the local service delivers to SQS queues, EventBridge buses and functions, not to ${parts.service}.`
      }
    } catch (error) {
      if (error instanceof AwsJsonError)
        return `the emulator says ${error.type}: ${error.message} Create it first, or fix the ARN.`
      return `${(error as Error).message}.`
    }
    return undefined
  }

  /** Stops taking events up; queued ones stay on disk for the next start. Waits for deliveries under way. */
  async close(): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  /** Settles once the attempts under way have ended (after the pools closed). */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.#running])
  }
}
