import type {DockerEngine} from '../docker/engine.js'
import type {Change} from './control-api.js'
import type {InvocationResult} from './invocation.js'
import {unreservedConcurrency} from './account.js'
import {FunctionPool, ThrottledError, type InvokeInput} from './pool.js'
import {ProvisionedEnvironments, ProvisionedSplit, type ProvisionedState} from './provisioned.js'
import type {LocalFunction, ServiceOptions} from './types.js'
import {findVersion, isVersionNumber, LATEST} from './versions.js'

/** Pools are per version: `name` for $LATEST (as before versions existed), `name:N` for version N. */
export const poolKey = (name: string, version: string): string => (version === LATEST ? name : `${name}:${version}`)

const ofFunction = (name: string) => (key: string) => key === name || key.startsWith(`${name}:`)

/** What runs a call: an environment of the provisioned configuration if one is free, else the on-demand pool. */
export interface Runner {
  invoke(input: InvokeInput): Promise<InvocationResult>
}

/**
 * The environments of every version of every function: one on-demand FunctionPool per (function, version),
 * never shared between versions (a version runs its image by digest, so a moved tag cannot change what it
 * runs), and the environments provisioned ahead for a version or alias (provisioned concurrency).
 */
export class VersionPools {
  readonly pools = new Map<string, FunctionPool>()
  /** By `name:qualifier` (the version or alias the configuration is on). */
  readonly provisioned = new Map<string, ProvisionedSplit>()

  constructor(
    private readonly engine: DockerEngine,
    private readonly functions: Map<string, LocalFunction>,
    private readonly options: ServiceOptions,
    private readonly log: (name: string, line: string) => void,
  ) {}

  /** What a version runs: its frozen configuration, its image by digest, the function's reserved concurrency. */
  #view(name: string, version: string): () => LocalFunction {
    if (version === LATEST) return () => this.functions.get(name)!
    const frozen = findVersion(this.functions.get(name)!, version)!
    const runnable: LocalFunction = {...frozen, imageUri: frozen.imageDigest ?? frozen.imageUri}
    return () => {
      // Reserved concurrency is the function's, set on $LATEST.
      runnable.reservedConcurrency = this.functions.get(name)?.reservedConcurrency
      return runnable
    }
  }

  pool(name: string, version = LATEST): FunctionPool {
    const key = poolKey(name, version)
    let pool = this.pools.get(key)
    if (!pool) {
      pool = new FunctionPool(this.engine, this.#view(name, version), this.options, (line) => this.log(name, line))
      this.pools.set(key, pool)
    }
    return pool
  }

  /**
   * The runner of a call that named `qualifier` and runs `version`: provisioned environments first, then
   * on-demand. A synchronous call is throttled first if it would take the function past its reserved
   * concurrency (all its versions together) or, without one, the functions without reservations past the
   * account's unreserved concurrency; calls count from acceptance to their end (a call the local service
   * queues would run at once on Lambda).
   */
  runner(name: string, qualifier: string | undefined, version: string): Runner {
    const pool = this.pool(name, version)
    const set = qualifier === undefined ? undefined : this.provisioned.get(`${name}:${qualifier}`)
    const run =
      !set || !set.has(version)
        ? pool
        : {invoke: async (input: InvokeInput) => (await set.invoke(version, input)) ?? pool.invoke(input)}
    return {
      invoke: async (input) => {
        if (input.sync) this.#checkConcurrency(name)
        this.#inFlight.set(name, (this.#inFlight.get(name) ?? 0) + 1)
        try {
          return await run.invoke(input)
        } finally {
          this.#inFlight.set(name, this.#inFlight.get(name)! - 1)
        }
      },
    }
  }

  /** Pools of deleted versions still removing their environments. */
  readonly #closing = new Set<Promise<void>>()

  /** Calls in flight by function. */
  readonly #inFlight = new Map<string, number>()

  #checkConcurrency(name: string): void {
    const reserved = this.functions.get(name)?.reservedConcurrency
    if (reserved !== undefined) {
      if ((this.#inFlight.get(name) ?? 0) >= reserved)
        throw new ThrottledError('ReservedFunctionConcurrentInvocationLimitExceeded')
      return
    }
    let unreservedInFlight = 0
    for (const [other, count] of this.#inFlight)
      if (this.functions.get(other)?.reservedConcurrency === undefined) unreservedInFlight += count
    if (unreservedInFlight >= unreservedConcurrency(this.options.accountConcurrency, this.functions.values()))
      throw new ThrottledError('ConcurrentInvocationLimitExceeded')
  }

  provisioning(name: string, qualifier: string): ProvisionedState | undefined {
    return this.provisioned.get(`${name}:${qualifier}`)?.state()
  }

  /** The version a provisioned configuration's environments run, or undefined when its version or alias is gone. */
  #provisionedVersion(fn: LocalFunction, qualifier: string): string | undefined {
    const version = isVersionNumber(qualifier) ? qualifier : fn.aliases?.[qualifier]?.functionVersion
    return version && version !== LATEST && findVersion(fn, version) ? version : undefined
  }

  /**
   * After a control call: configurations whose version or alias is gone are dropped (before the
   * function is saved), then pools and provisioned environments follow the change.
   */
  forget(name: string): void {
    const fn = this.functions.get(name)
    for (const qualifier of Object.keys(fn?.provisioned ?? {}))
      if (!this.#provisionedVersion(fn!, qualifier)) delete fn!.provisioned![qualifier]
  }

  async changed(name: string, what: Change, version?: string): Promise<void> {
    const gone =
      what === 'deleted'
        ? [...this.pools].filter(([key]) => ofFunction(name)(key))
        : what === 'version-deleted'
          ? [...this.pools].filter(([key]) => key === poolKey(name, version!))
          : []
    for (const [key, pool] of gone) {
      this.pools.delete(key)
      // A deleted version's environments are removed in the background (the call answers at once, as on Lambda);
      // close() still waits for them.
      const closing = pool.close().finally(() => this.#closing.delete(closing))
      this.#closing.add(closing)
      if (what === 'deleted') await closing
    }
    if (what === 'concurrency') for (const [key, pool] of this.pools) if (ofFunction(name)(key)) pool.wakeAll()
    // Only $LATEST changes in place: published versions are immutable.
    if (what === 'configured') this.pools.get(name)?.reclaimIdle(Number.POSITIVE_INFINITY)
    await this.syncProvisioned(name)
  }

  /**
   * How a configuration's environments fall to versions: all to the version it is on or its alias's version, or, on
   * an alias with weights, to the extra version its weight's share (rounded) and the rest to the alias's own.
   */
  #split(fn: LocalFunction, qualifier: string, requested: number): Map<string, number> | undefined {
    const version = this.#provisionedVersion(fn, qualifier)
    if (!version) return undefined
    const split = new Map<string, number>()
    const weights = isVersionNumber(qualifier) ? {} : (fn.aliases?.[qualifier]?.weights ?? {})
    let rest = requested
    for (const [extra, weight] of Object.entries(weights)) {
      const count = Math.min(rest, Math.round(requested * weight))
      if (count > 0 && extra !== version && findVersion(fn, extra)) {
        split.set(extra, count)
        rest -= count
      }
    }
    if (rest > 0) split.set(version, rest)
    return split
  }

  /**
   * Starts what a function's provisioned configurations ask for and stops what they no longer do; a version whose
   * share is unchanged keeps its environments when an alias's weights move.
   */
  async syncProvisioned(name: string): Promise<void> {
    const fn = this.functions.get(name)
    const stale: ProvisionedEnvironments[] = []
    for (const [key, current] of this.provisioned) {
      if (!key.startsWith(`${name}:`)) continue
      const qualifier = key.slice(name.length + 1)
      const config = fn?.provisioned?.[qualifier]
      const split = config && this.#split(fn!, qualifier, config.requested)
      if (split && ProvisionedSplit.shape(split) === current.shape) continue
      this.provisioned.delete(key)
      for (const [version, set] of current.sets)
        if (split?.get(version) === set.requested)
          split.set(version, -1) // kept: see below
        else stale.push(set)
      if (!split) continue
      const version = this.#provisionedVersion(fn!, qualifier)!
      const make = (v: string, count: number) =>
        count < 0 ? current.sets.get(v)! : this.#provisionedSet(name, v, count)
      this.provisioned.set(key, new ProvisionedSplit(config!.requested, version, make, split))
    }
    for (const [qualifier, config] of Object.entries(fn?.provisioned ?? {})) {
      const key = `${name}:${qualifier}`
      const split = this.#split(fn!, qualifier, config.requested)
      if (this.provisioned.has(key) || !split) continue
      const version = this.#provisionedVersion(fn!, qualifier)!
      this.provisioned.set(
        key,
        new ProvisionedSplit(config.requested, version, (v, count) => this.#provisionedSet(name, v, count), split),
      )
    }
    await Promise.all(stale.map((set) => set.close()))
  }

  #provisionedSet(name: string, version: string, count: number): ProvisionedEnvironments {
    const view = this.#view(name, version)()
    return new ProvisionedEnvironments(this.engine, view, this.options, (line) => this.log(name, line), count)
  }

  reclaimIdle(): void {
    for (const pool of this.pools.values()) pool.reclaimIdle()
  }

  stats(): Record<string, unknown> {
    return Object.fromEntries([
      ...[...this.pools].map(([key, pool]) => [key, pool.stats()]),
      ...[...this.provisioned].map(([key, set]) => [
        `${key} (provisioned)`,
        {environments: set.envs.size, ...set.state()},
      ]),
    ])
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values(), ...this.provisioned.values()].map((p) => p.close()))
    await Promise.all(this.#closing)
  }
}
