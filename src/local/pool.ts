import {randomUUID} from 'node:crypto'

import type {DockerEngine} from '../docker/engine.js'
import {Environment} from './environment.js'
import type {InvocationResult} from './invocation.js'
import {failureCode} from './lambda-errors.js'
import {ACTIVE, readying, type FunctionStatus} from './prepared.js'
import {canPrepare} from './sandbox.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/** Longest a sandbox may take to be prepared (created, started, its helper waiting) before it is given up. */
const PREPARE_LIMIT_MS = 30_000

/** Lambda's reasons for a 429 TooManyRequestsException on Invoke. */
export type ThrottleReason = 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded'

/** A synchronous invocation found no environment it may use within the limits: Lambda's 429. */
export class ThrottledError extends Error {
  constructor(readonly reason: ThrottleReason) {
    super('Rate Exceeded.')
  }
}

/**
 * The call got no environment and never will: an Event past the maximum event age (discarded, as
 * Lambda does), or the function was deleted or the service is stopping while it waited.
 */
export class NotRunError extends Error {}

export interface InvokeInput {
  payload: Buffer
  clientContext?: string
  /** Wait for late log lines (LogType Tail). */
  waitForLogs: boolean
  /** Event invocations wait for concurrency (up to the maximum event age); synchronous ones are throttled. */
  sync: boolean
  requestId?: string
  /**
   * InvokeWithResponseStream and RESPONSE_STREAM URLs: the chunks of a streamed response as the function writes them,
   * with the Content-Type the runtime gave the stream; a promise holds the runtime back until the client takes more.
   */
  onChunk?: (chunk: Buffer, contentType: string | undefined) => void | Promise<void>
  /** An Event call waits for concurrency until then (its maximum event age; default the service's). */
  waitUntil?: number
}

interface Waiter {
  /** Hands an environment over, or undefined to make the waiter look again (one went away, a limit changed). */
  wake: (env: Environment | undefined) => void
  sync: boolean
}

/**
 * The execution environments of one function: reuse an idle one (warm), else start one (cold) up to
 * the function's concurrency, else wait for one to free up. Synchronous calls past reserved
 * concurrency are throttled at once, as on Lambda; without reserved concurrency they wait (the
 * environment limit stands for the machine, not for Lambda), but only so many and only so long:
 * past `maxQueuedPerFunction` waiting or `queueTimeoutMs` of waiting they are throttled too. Event
 * calls wait up to the maximum event age. Idle environments are reclaimed after the idle timeout;
 * environments of an older revision (code or configuration updated) are retired when they free up.
 *
 * Cold calls take a sandbox prepared ahead for the current revision when there is one (prepared.ts):
 * up to `preparedPerFunction` are kept, within the environment limit and the service's total, made
 * in the background after a claim, a change or a loss, backing off while they fail. A new or
 * changed revision is Pending (its update InProgress) until its first sandbox is ready, and Failed
 * with the reason when that sandbox cannot be made.
 */
export class FunctionPool {
  readonly envs = new Set<Environment>()
  #idle: Environment[] = []
  #waiters: Waiter[] = []
  #closed = false
  /** Most environments alive at once since the pool was made. */
  peakEnvironments = 0
  /** Prepared sandboxes no call has claimed yet (also in `envs`). */
  #prepared: Environment[] = []
  #preparing = false
  #prepareFailures = 0
  #retryTimer?: NodeJS.Timeout
  /** The revision being readied (Pending / InProgress), and why its first sandbox could not be made. */
  #readying?: {revision: number; creating: boolean; failure?: {reason: string; code: string}}
  #settledWaiters: Array<() => void> = []
  readonly #poke = () => this.#replenish()

  constructor(
    private readonly engine: DockerEngine,
    private readonly current: () => LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
  ) {}

  get limit(): number {
    return this.current().reservedConcurrency ?? this.options.maxEnvironmentsPerFunction
  }

  stats(): {
    environments: number
    idle: number
    busy: number
    queued: number
    prepared: number
    preparing: boolean
    peak: number
  } {
    const busy = [...this.envs].filter((e) => e.state === 'busy').length
    return {
      environments: this.envs.size,
      idle: this.#idle.length,
      busy,
      queued: this.#waiters.length,
      prepared: this.#prepared.length,
      preparing: this.#preparing,
      peak: this.peakEnvironments,
    }
  }

  /** Lambda's state fields for the current revision. */
  status(): FunctionStatus {
    const r = this.#readying
    return r ? readying(r.creating, r.failure) : ACTIVE
  }

  /** Settles once the current revision is no longer Pending / InProgress, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    if (!this.#readying || this.#readying.failure) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.#settledWaiters.push(done)
    })
  }

  async invoke(input: InvokeInput): Promise<InvocationResult> {
    const requestId = input.requestId ?? randomUUID()
    let env = await this.#acquire(input.sync, input.waitUntil)
    for (let retries = 0; ; retries++) {
      try {
        await env.ready
        break
      } catch {
        // A prepared sandbox lost before its runtime got anything (killed from outside): nothing ran, take another.
        if (!env.hold.unreleased || retries >= 2) return this.#initFailure(env, requestId)
        void env.destroy()
        env = await this.#acquire(input.sync, input.waitUntil)
      }
    }
    this.#readied(env.fn.revision)
    try {
      return await env.invoke({
        requestId,
        payload: input.payload,
        clientContext: input.clientContext,
        waitForLogs: input.waitForLogs,
        onChunk: input.onChunk,
      })
    } finally {
      this.#release(env)
    }
  }

  async #acquire(sync: boolean, until?: number): Promise<Environment> {
    const waitUntil = until ?? Date.now() + (sync ? this.options.queueTimeoutMs : this.options.maxEventAgeMs)
    for (;;) {
      if (this.#closed) throw new NotRunError('The function was deleted or the service stopped.')
      const fn = this.current()
      // Reserved concurrency counts calls, not environments: lowered below the calls running, an idle warm
      // environment is not taken either (Lambda throttles).
      const reservedFull = fn.reservedConcurrency !== undefined && this.#inUse() >= fn.reservedConcurrency
      while (!reservedFull && this.#idle.length > 0) {
        const env = this.#idle.pop()!
        if (env.state === 'idle' && env.fn.revision === fn.revision) {
          env.state = 'busy'
          return env
        }
        void env.destroy()
      }
      const prepared = reservedFull ? undefined : this.#claimPrepared(fn)
      if (prepared) return prepared
      if (!reservedFull && this.envs.size < this.limit) return this.#startEnvironment(fn)
      if (sync && fn.reservedConcurrency !== undefined)
        throw new ThrottledError('ReservedFunctionConcurrentInvocationLimitExceeded')
      if (sync && this.#waiters.filter((w) => w.sync).length >= this.options.maxQueuedPerFunction)
        throw new ThrottledError('ConcurrentInvocationLimitExceeded')
      const left = waitUntil - Date.now()
      if (left <= 0) {
        if (sync) throw new ThrottledError('ConcurrentInvocationLimitExceeded')
        throw new NotRunError('The event reached its maximum event age waiting for concurrency and was discarded.')
      }
      const handed = await new Promise<Environment | undefined>((resolve) => {
        const waiter: Waiter = {
          sync,
          wake: (env) => {
            clearTimeout(timer)
            resolve(env)
          },
        }
        const timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          resolve(undefined)
        }, left)
        this.#waiters.push(waiter)
      })
      if (handed) return handed
    }
  }

  /** A new environment for this revision (a copy: an update never changes what it runs). */
  #newEnvironment(fn: LocalFunction, prepare: boolean): Environment {
    const env = new Environment(
      this.engine,
      structuredClone(fn),
      this.options,
      this.log,
      (dead) => this.#forget(dead),
      prepare,
    )
    this.envs.add(env)
    this.peakEnvironments = Math.max(this.peakEnvironments, this.envs.size)
    return env
  }

  #startEnvironment(fn: LocalFunction): Environment {
    const env = this.#newEnvironment(fn, false)
    env.start().catch(() => {})
    return env
  }

  /** A prepared sandbox of this revision for a cold call, one whose helper already waits first. */
  #claimPrepared(fn: LocalFunction): Environment | undefined {
    for (const env of this.#prepared.filter((e) => e.fn.revision !== fn.revision)) void env.destroy()
    for (const env of this.#prepared.filter((e) => !e.hold.claimable)) void env.destroy()
    const env = this.#prepared.find((e) => e.hold.waiting) ?? this.#prepared[0]
    if (!env) return undefined
    this.#unprepare(env)
    env.claim()
    // The next one is made once this one's runtime is up, not while it competes for the cores.
    env.ready.then(this.#poke, this.#poke)
    return env
  }

  #unprepare(env: Environment): void {
    const at = this.#prepared.indexOf(env)
    if (at < 0) return
    this.#prepared.splice(at, 1)
    this.options.reserve?.give()
  }

  #release(env: Environment): void {
    if (env.state !== 'idle') return
    // Over the limit, a prepared sandbox gives way before a warm environment does (the next call stays warm).
    while (this.#prepared.length > 0 && this.envs.size > this.limit) void this.#prepared.at(-1)!.destroy()
    if (env.fn.revision !== this.current().revision || this.envs.size > this.limit) {
      void env.destroy()
      return
    }
    const waiter = this.#waiters.shift()
    if (waiter) {
      env.state = 'busy'
      waiter.wake(env)
      return
    }
    this.#idle.push(env)
  }

  #forget(env: Environment): void {
    if (!this.envs.delete(env)) return
    this.#idle = this.#idle.filter((e) => e !== env)
    const wasPrepared = this.#prepared.includes(env)
    this.#unprepare(env)
    this.#waiters.shift()?.wake(undefined)
    // A prepared sandbox lost before its claim (killed from outside, the engine gone): make another.
    if (wasPrepared) this.#replenish()
  }

  /** Environments running a call or starting for one (not idle, not a prepared sandbox no call has claimed). */
  #inUse(): number {
    return this.envs.size - this.#idle.length - this.#prepared.length
  }

  /**
   * A limit changed (reserved concurrency): every waiter looks again, the prepared sandboxes fit the limit, and so
   * do the idle environments (the busy ones go when their call ends, in #release).
   */
  wakeAll(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.wake(undefined)
    while (this.#prepared.length > 0 && this.envs.size > this.limit) void this.#prepared.at(-1)!.destroy()
    while (this.#idle.length > 0 && this.envs.size > this.limit) void this.#idle.shift()!.destroy()
    this.#replenish()
  }

  /**
   * The function was created (`creating`) or its code or configuration changed: environments of older revisions are
   * retired (idle and prepared ones now, busy ones when they free up), and the new revision is readied.
   */
  revise(creating: boolean): void {
    const fn = this.current()
    this.reclaimIdle(Number.POSITIVE_INFINITY)
    for (const env of this.#prepared.filter((e) => e.fn.revision !== fn.revision)) void env.destroy()
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.#prepareFailures = 0
    this.#readying = this.#mayPrepare(fn) ? {revision: fn.revision, creating} : undefined
    if (!this.#readying) this.#settle()
    this.#replenish()
  }

  /** Keeps the prepared sandboxes of a function the service already knew (loaded at start): it stays Active. */
  prepare(): void {
    this.#replenish()
  }

  #mayPrepare(fn: LocalFunction): boolean {
    return Boolean(this.options.reserve?.enabled) && canPrepare(fn, this.options) && this.limit > 0
  }

  /** Makes prepared sandboxes until there are enough, one at a time, in the service's background queue. */
  #replenish(): void {
    const reserve = this.options.reserve
    if (this.#closed || this.#preparing || this.#retryTimer || !reserve) return
    const fn = this.current()
    const room = this.#mayPrepare(fn) && this.#prepared.length < reserve.perFunction && this.envs.size < this.limit
    // No sandbox can be made ahead (no helper, no room): the revision is as ready as it gets.
    if (!room || !reserve.take(this.#poke)) {
      if (this.#prepared.length === 0) this.#readied(fn.revision)
      return
    }
    this.#preparing = true
    void reserve
      .serial(() => this.#prepareOne())
      .finally(() => {
        this.#preparing = false
        this.#replenish()
      })
  }

  async #prepareOne(): Promise<void> {
    const fn = this.current()
    if (this.#closed || !this.#mayPrepare(fn)) {
      this.options.reserve?.give()
      return
    }
    const env = this.#newEnvironment(fn, true)
    this.#prepared.push(env)
    await env.start()
    let timer: NodeJS.Timeout | undefined
    try {
      // A sandbox that neither waits nor fails (a start the engine never finishes) must not stall the queue.
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('stalled')), PREPARE_LIMIT_MS)
      })
      await Promise.race([env.hold.held, stalled])
      this.#prepareFailures = 0
      if (env.state === 'prepared') this.#readied(env.fn.revision)
      // The engine answers: containers it could not remove before go now.
      void this.options.reserve?.sweep(this.engine)
    } catch {
      if (env.state === 'prepared') void env.destroy()
      if (this.#closed || env.fn.revision !== this.current().revision) return
      if (env.startError) this.#prepareFailed(env)
      // Failing again and again (an image gone, the engine away): try less and less often, up to every 30 s.
      const delay = Math.min(30_000, 500 * 2 ** this.#prepareFailures++)
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined
        this.#replenish()
      }, delay)
      this.#retryTimer.unref()
    } finally {
      clearTimeout(timer)
    }
  }

  /** The revision's first sandbox is ready (or a call's environment reached its first `next`): Active. */
  #readied(revision: number): void {
    if (this.#readying?.revision !== revision) return
    this.#readying = undefined
    this.#settle()
  }

  /** The revision's first sandbox could not be made: Failed, with the reason (calls still try, and may heal it). */
  #prepareFailed(env: Environment): void {
    const r = this.#readying
    if (r?.revision !== env.fn.revision || r.failure) return
    let reason = env.startError!.message
    try {
      reason = JSON.parse(env.initError!.toString('utf8')).errorMessage ?? reason
    } catch {}
    r.failure = {reason, code: failureCode(env.startError)}
    this.#settle()
  }

  #settle(): void {
    for (const done of this.#settledWaiters.splice(0)) done()
  }

  #initFailure(env: Environment, requestId: string): InvocationResult {
    void env.destroy()
    return env.initFailureResult(requestId)
  }

  /** Stops environments idle for longer than the idle timeout. */
  reclaimIdle(now = Date.now()): number {
    const stale = this.#idle.filter((env) => now - env.lastUsed >= this.options.idleTimeoutMs)
    for (const env of stale) void env.destroy()
    return stale.length
  }

  /** Stops every environment; calls still waiting for one end (an Event is discarded, a sync call fails). */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    this.options.reserve?.forget(this.#poke)
    this.#settle()
    // The function may be gone already (deleted): only the waiters are woken, nothing looks at its settings.
    for (const waiter of this.#waiters.splice(0)) waiter.wake(undefined)
    await Promise.all([...this.envs].map((env) => env.destroy()))
  }
}
