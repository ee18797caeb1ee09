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

/**
 * A provisioned concurrency configuration: on a version, its environments; on an alias with weights, Lambda splits
 * the requested environments between the alias's two versions by their weights (AllocatedProvisionedConcurrent-
 * Executions "fluctuates depending on the amount of concurrency provisioned for the function versions" during
 * weighted deployments), so a call the weights send to either version finds environments of its own.
 */
export class ProvisionedSplit {
  readonly sets = new Map<string, ProvisionedEnvironments>()

  constructor(
    readonly requested: number,
    /** The configuration's main version (the alias's own, or the version it is on). */
    readonly version: string,
    make: (version: string, count: number) => ProvisionedEnvironments,
    split: Map<string, number>,
  ) {
    for (const [version, count] of split) this.sets.set(version, make(version, count))
  }

  /** version=count pairs, to tell whether a change of weights or versions asks for other environments. */
  static shape(split: Map<string, number>): string {
    return [...split].map(([version, count]) => `${version}=${count}`).join(',')
  }

  get shape(): string {
    return ProvisionedSplit.shape(new Map([...this.sets].map(([version, set]) => [version, set.requested])))
  }

  get envs(): Set<Environment> {
    return new Set([...this.sets.values()].flatMap((set) => [...set.envs]))
  }

  has(version: string): boolean {
    return this.sets.has(version)
  }

  /** All its versions' environments together: FAILED if one failed, READY once all are. */
  state(): ProvisionedState {
    const states = [...this.sets.values()].map((set) => set.state())
    const failed = states.find((s) => s.status === 'FAILED')
    return {
      version: this.version,
      allocated: states.reduce((sum, s) => sum + s.allocated, 0),
      status: failed ? 'FAILED' : states.every((s) => s.status === 'READY') ? 'READY' : 'IN_PROGRESS',
      ...(failed?.reason ? {reason: failed.reason} : {}),
    }
  }

  invoke(version: string, input: InvokeInput): Promise<InvocationResult | undefined> {
    return this.sets.get(version)?.invoke(input) ?? Promise.resolve(undefined)
  }

  async close(): Promise<void> {
    await Promise.all([...this.sets.values()].map((set) => set.close()))
  }
}
