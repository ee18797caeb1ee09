import {randomUUID} from 'node:crypto'

import type {DockerEngine} from '../docker/engine.js'
import {Environment} from './environment.js'
import type {InvocationResult} from './invocation.js'
import type {InvokeInput} from './pool.js'
import type {LocalFunction, ServiceOptions} from './types.js'

export type ProvisionedStatus = 'IN_PROGRESS' | 'READY' | 'FAILED'

/** What GetProvisionedConcurrencyConfig reports of a configuration's environments. */
export interface ProvisionedState {
  version: string
  allocated: number
  status: ProvisionedStatus
  reason?: string
}

/**
 * Provisioned concurrency of one version: `requested` environments initialised ahead (their runtime sees
 * AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, and their first call is not cold), kept until
 * the configuration goes (never reaped when idle), and replaced when one ends. A call takes an idle one;
 * when none is free it returns undefined and the call spills over to the on-demand pool. An init that
 * fails makes the configuration FAILED with the init's error as the reason, and nothing is allocated.
 * Separate from FunctionPool so the on-demand pool's limits, queue and reaping stay as they are.
 */
export class ProvisionedEnvironments {
  readonly envs = new Set<Environment>()
  #idle: Environment[] = []
  #ready = new Set<Environment>()
  #closed = false
  status: ProvisionedStatus = 'IN_PROGRESS'
  reason?: string

  constructor(
    private readonly engine: DockerEngine,
    private readonly fn: LocalFunction,
    private readonly options: ServiceOptions,
    private readonly log: (line: string) => void,
    readonly requested: number,
  ) {
    this.fn = {...fn, initializationType: 'provisioned-concurrency'}
    for (let i = 0; i < requested; i++) this.#start()
  }

  get version(): string {
    return this.fn.version ?? '$LATEST'
  }

  state(): ProvisionedState {
    return {version: this.version, allocated: this.#ready.size, status: this.status, reason: this.reason}
  }

  #start(): void {
    const env = new Environment(this.engine, this.fn, this.options, this.log, (dead) => this.#forget(dead))
    this.envs.add(env)
    env.start().catch(() => {})
    env.ready.then(
      () => {
        if (this.#closed || env.state !== 'idle') return
        this.#ready.add(env)
        this.#idle.push(env)
        if (this.status === 'IN_PROGRESS' && this.#ready.size >= this.requested) this.status = 'READY'
      },
      () => this.#failed(env),
    )
  }

  /** An init failed: Lambda reports the configuration FAILED; its environments go. */
  #failed(env: Environment): void {
    if (this.#closed || this.status === 'FAILED') return
    let detail = 'the environment ended during init'
    try {
      const error = JSON.parse(env.initError?.toString('utf8') ?? '')
      detail = `${error.errorType}: ${error.errorMessage}`
    } catch {}
    this.status = 'FAILED'
    this.reason = `Function failed to initialize (${detail}).`
    for (const other of this.envs) void other.destroy()
  }

  #forget(env: Environment): void {
    const wasReady = this.#ready.delete(env)
    this.envs.delete(env)
    this.#idle = this.#idle.filter((e) => e !== env)
    // One that served and ended (a crash, a timeout) is replaced, as Lambda keeps the allocation.
    if (wasReady && !this.#closed && this.status !== 'FAILED') this.#start()
  }

  /** Runs the call in an idle environment of this configuration, or returns undefined when none is free. */
  async invoke(input: InvokeInput): Promise<InvocationResult | undefined> {
    let env: Environment | undefined
    while ((env = this.#idle.pop()) && env.state !== 'idle');
    if (!env) return undefined
    try {
      return await env.invoke({
        requestId: input.requestId ?? randomUUID(),
        payload: input.payload,
        clientContext: input.clientContext,
        waitForLogs: input.waitForLogs,
      })
    } finally {
      if (env.state === 'idle' && !this.#closed) this.#idle.push(env)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.envs].map((env) => env.destroy()))
  }
}
