import {randomUUID} from 'node:crypto'

import type {DockerEngine} from '../docker/engine.js'
import {Environment} from './environment.js'
import type {InvocationResult} from './invocation.js'
import type {LocalFunction, ServiceOptions} from './types.js'

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
  /** InvokeWithResponseStream: the chunks of a streamed response as the function writes them. */
  onChunk?: (chunk: Buffer) => void
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
 */
export class FunctionPool {
  readonly envs = new Set<Environment>()
  #idle: Environment[] = []
  #waiters: Waiter[] = []
  #closed = false
  /** Most environments alive at once since the pool was made. */
  peakEnvironments = 0

  constructor(
    private readonly engine: DockerEngine,
    private readonly current: () => LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
  ) {}

  get limit(): number {
    return this.current().reservedConcurrency ?? this.options.maxEnvironmentsPerFunction
  }

  stats(): {environments: number; idle: number; busy: number; queued: number; peak: number} {
    const busy = [...this.envs].filter((e) => e.state === 'busy').length
    return {
      environments: this.envs.size,
      idle: this.#idle.length,
      busy,
      queued: this.#waiters.length,
      peak: this.peakEnvironments,
    }
  }

  async invoke(input: InvokeInput): Promise<InvocationResult> {
    const requestId = input.requestId ?? randomUUID()
    const env = await this.#acquire(input.sync, input.waitUntil)
    try {
      await env.ready
    } catch {
      return this.#initFailure(env, requestId)
    }
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
      while (this.#idle.length > 0) {
        const env = this.#idle.pop()!
        if (env.state === 'idle' && env.fn.revision === fn.revision) {
          env.state = 'busy'
          return env
        }
        void env.destroy()
      }
      if (this.envs.size < this.limit) return this.#startEnvironment(fn)
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

  #startEnvironment(fn: LocalFunction): Environment {
    const env = new Environment(this.engine, fn, this.options, this.log, (dead) => this.#forget(dead))
    this.envs.add(env)
    this.peakEnvironments = Math.max(this.peakEnvironments, this.envs.size)
    env.start().catch(() => {})
    return env
  }

  #release(env: Environment): void {
    if (env.state !== 'idle') return
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
    this.#waiters.shift()?.wake(undefined)
  }

  /** A limit changed (reserved concurrency): every waiter looks again. */
  wakeAll(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.wake(undefined)
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
    this.wakeAll()
    await Promise.all([...this.envs].map((env) => env.destroy()))
  }
}
