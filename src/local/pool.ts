import {randomUUID} from 'node:crypto'

import type {DockerEngine} from '../docker/engine.js'
import {Environment, type InvocationResult} from './environment.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/** A synchronous invocation found every allowed environment busy and the function has reserved concurrency. */
export class ThrottledError extends Error {
  constructor(readonly reason: 'ReservedFunctionConcurrentInvocationLimitExceeded') {
    super('Rate Exceeded.')
  }
}

export interface InvokeInput {
  payload: Buffer
  clientContext?: string
  /** Wait for late log lines (LogType Tail). */
  waitForLogs: boolean
  /** Event invocations always queue; synchronous ones are throttled past reserved concurrency. */
  sync: boolean
  requestId?: string
}

type Waiter = (env: Environment | undefined) => void

/**
 * The execution environments of one function: reuse an idle one (warm), else start one (cold) up to
 * the function's concurrency, else queue (or throttle a synchronous call when concurrency is
 * reserved, as Lambda does). Idle environments are reclaimed after the service's idle timeout;
 * environments of an older revision (code or configuration updated) are retired when they free up.
 */
export class FunctionPool {
  readonly envs = new Set<Environment>()
  #idle: Environment[] = []
  #waiters: Waiter[] = []

  constructor(
    private readonly engine: DockerEngine,
    private readonly current: () => LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
  ) {}

  get limit(): number {
    return this.current().reservedConcurrency ?? this.options.maxEnvironmentsPerFunction
  }

  stats(): {environments: number; idle: number; busy: number; queued: number} {
    const busy = [...this.envs].filter((e) => e.state === 'busy').length
    return {environments: this.envs.size, idle: this.#idle.length, busy, queued: this.#waiters.length}
  }

  async invoke(input: InvokeInput): Promise<InvocationResult> {
    const requestId = input.requestId ?? randomUUID()
    const env = await this.#acquire(input.sync)
    try {
      await env.ready
    } catch {
      return this.#initFailure(env, requestId)
    }
    try {
      return await env.invoke({requestId, payload: input.payload, clientContext: input.clientContext, waitForLogs: input.waitForLogs})
    } finally {
      this.#release(env)
    }
  }

  async #acquire(sync: boolean): Promise<Environment> {
    for (;;) {
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
      if (sync && fn.reservedConcurrency !== undefined) throw new ThrottledError('ReservedFunctionConcurrentInvocationLimitExceeded')
      const handed = await new Promise<Environment | undefined>((resolve) => this.#waiters.push(resolve))
      if (handed) return handed
    }
  }

  #startEnvironment(fn: LocalFunction): Environment {
    const env = new Environment(this.engine, fn, this.options, this.log, (dead) => this.#forget(dead))
    this.envs.add(env)
    env.start().catch(() => {})
    return env
  }

  #release(env: Environment): void {
    if (env.state !== 'idle') return
    if (env.fn.revision !== this.current().revision) {
      void env.destroy()
      return
    }
    const waiter = this.#waiters.shift()
    if (waiter) {
      env.state = 'busy'
      waiter(env)
      return
    }
    this.#idle.push(env)
  }

  #forget(env: Environment): void {
    if (!this.envs.delete(env)) return
    this.#idle = this.#idle.filter((e) => e !== env)
    this.#waiters.shift()?.(undefined)
  }

  #initFailure(env: Environment, requestId: string): InvocationResult {
    const payload = env.initError ?? Buffer.from(JSON.stringify({errorMessage: 'The runtime failed to start.', errorType: 'Runtime.Unknown'}))
    void env.destroy()
    const fn = this.current()
    const lines = [
      `START RequestId: ${requestId} Version: $LATEST`,
      `END RequestId: ${requestId}`,
      `REPORT RequestId: ${requestId}\tDuration: 0.00 ms\tBilled Duration: 0 ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: 0 MB\tStatus: error\tError Type: ${errorTypeOf(payload)}\t`,
    ]
    for (const line of lines) this.log(line)
    return {requestId, payload, functionError: 'Unhandled', logLines: lines, durationMs: 0, maxMemoryUsedMb: 0, cold: true}
  }

  /** Stops environments idle for longer than the idle timeout. */
  reclaimIdle(now = Date.now()): number {
    const stale = this.#idle.filter((env) => now - env.lastUsed >= this.options.idleTimeoutMs)
    for (const env of stale) void env.destroy()
    return stale.length
  }

  async close(): Promise<void> {
    await Promise.all([...this.envs].map((env) => env.destroy()))
  }
}

function errorTypeOf(payload: Buffer): string {
  try {
    return JSON.parse(payload.toString('utf8')).errorType ?? 'Runtime.Unknown'
  } catch {
    return 'Runtime.Unknown'
  }
}
