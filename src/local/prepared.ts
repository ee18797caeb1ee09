import type {ServerResponse} from 'node:http'

import {removeContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'

/**
 * Sandboxes prepared ahead of calls, as Lambda keeps sandbox creation off the request path: the
 * container is created, started, networked, limited and isolated exactly as for a cold call, and
 * its entry point (the static sandbox helper, docker/sandbox-init) waits on the environment's
 * Runtime API for its variables. A call claims it: the variables are handed over, the helper execs
 * the runtime, and the call pays only for that and the runtime's init. Which function revision a
 * sandbox is for is fixed when it is made (its container's configuration, its variables), so the
 * pools (pool.ts) retire prepared sandboxes of a revision that is no longer current.
 */

/**
 * The service-wide side: how many prepared sandboxes may exist at once (per function and in all),
 * their preparation one at a time (so the background work takes at most one core from the calls
 * being served), and containers whose removal failed while the engine was away (removed once it
 * answers again).
 */
export class SandboxReserve {
  #held = 0
  #chain: Promise<unknown> = Promise.resolve()
  /** Pools waiting for a slot in the total. */
  #wanting = new Set<() => void>()
  #orphans = new Set<string>()

  constructor(
    readonly perFunction: number,
    readonly total: number,
  ) {}

  get enabled(): boolean {
    return this.perFunction > 0 && this.total > 0
  }

  /** Prepared sandboxes alive or being made, over all functions. */
  get held(): number {
    return this.#held
  }

  /** Takes a slot in the total, or registers `poke` to be called when one frees up. */
  take(poke: () => void): boolean {
    if (this.#held >= this.total) {
      this.#wanting.add(poke)
      return false
    }
    this.#wanting.delete(poke)
    this.#held++
    return true
  }

  /** A prepared sandbox was claimed or went away: its slot goes to whoever waits for one. */
  give(): void {
    this.#held = Math.max(0, this.#held - 1)
    const waiting = [...this.#wanting]
    this.#wanting.clear()
    for (const poke of waiting) poke()
  }

  forget(poke: () => void): void {
    this.#wanting.delete(poke)
  }

  /** Runs background preparations one after another. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task, task)
    this.#chain = run.catch(() => {})
    return run
  }

  /** A container that could not be removed (the engine was away): removed by the next sweep. */
  orphan(id: string): void {
    this.#orphans.add(id)
  }

  /** Removes the orphans the engine now lets go of. */
  async sweep(engine: DockerEngine): Promise<void> {
    for (const id of [...this.#orphans]) {
      await removeContainer(engine, id).then(
        () => this.#orphans.delete(id),
        () => {},
      )
    }
  }

  stats(): {perFunction: number; total: number; held: number} {
    return {perFunction: this.perFunction, total: this.total, held: this.#held}
  }
}

/**
 * One sandbox's hold: the helper's request for the variables (GET /2018-06-01/faas/sandbox/env on
 * the environment's Runtime API) is answered at once for a sandbox made for a call, and only once
 * claimed for a prepared one. `releasedAt` is when the variables were handed over: the runtime's
 * init (Lambda's Init Duration) starts there.
 */
export class SandboxHold {
  #vars?: Buffer
  #waiting?: () => void
  #claimed: boolean
  releasedAt?: number
  /**
   * Settles once the helper waits for its claim (the prepared sandbox is ready) or the sandbox was claimed; rejects
   * when neither will happen (it failed or ended first).
   */
  readonly held: Promise<void>
  #heldResolve!: () => void
  #heldReject!: (error: Error) => void

  /** The helper waits for the claim. */
  waiting = false
  /** The helper hung up while it waited (its sandbox is ending): no call may claim it. */
  lost = false

  constructor(readonly prepared: boolean) {
    this.#claimed = !prepared
    this.held = new Promise<void>((resolve, reject) => {
      this.#heldResolve = resolve
      this.#heldReject = reject
    })
    this.held.catch(() => {})
  }

  get claimed(): boolean {
    return this.#claimed
  }

  /** A prepared sandbox a call may take: unclaimed, and not lost (its helper hung up: it is ending). */
  get claimable(): boolean {
    return !this.#claimed && !this.lost
  }

  /** A prepared sandbox whose runtime was given nothing yet: if it ends now, nothing of the function ran in it. */
  get unreleased(): boolean {
    return this.prepared && this.releasedAt === undefined
  }

  /** The variables the helper is to get (once). */
  set vars(vars: Buffer | undefined) {
    this.#vars = vars
  }

  /** The helper asks for its variables: answered now, or when the sandbox is claimed. */
  request(deliver: (vars: Buffer | undefined) => void, res: ServerResponse): void {
    if (this.#vars === undefined) {
      deliver(undefined)
      return
    }
    const release = () => {
      this.#waiting = undefined
      const vars = this.#vars
      this.#vars = undefined
      this.releasedAt = performance.now()
      deliver(vars)
    }
    if (this.#claimed) {
      release()
      return
    }
    this.#waiting = release
    this.waiting = true
    res.on('close', () => {
      if (this.#waiting !== release || res.writableEnded) return
      this.#waiting = undefined
      this.waiting = false
      this.lost = true
    })
    this.#heldResolve()
  }

  /** A call takes the sandbox: the waiting helper gets its variables (or gets them as soon as it asks). */
  claim(): void {
    this.#claimed = true
    this.waiting = false
    // Claimed before its helper asked (still being made): nothing is to be held any more.
    this.#heldResolve()
    this.#waiting?.()
  }

  /** The sandbox ended or failed before it was held. */
  fail(error: Error): void {
    this.#heldReject(error)
  }
}

/** Lambda's state fields of a function (GetFunction's Configuration). */
export interface FunctionStatus {
  State: 'Pending' | 'Active' | 'Failed'
  StateReason?: string
  StateReasonCode?: string
  LastUpdateStatus: 'InProgress' | 'Successful' | 'Failed'
  LastUpdateStatusReason?: string
  LastUpdateStatusReasonCode?: string
}

export const ACTIVE: FunctionStatus = {State: 'Active', LastUpdateStatus: 'Successful'}

/**
 * The state of a revision being readied: a new function is Pending (its update InProgress) and an
 * updated one Active with its update InProgress, as Lambda reports them; when its first sandbox
 * cannot be made, the creation (State) or the update (LastUpdateStatus) Failed, with the reason.
 */
export function readying(creating: boolean, failure?: {reason: string; code: string}): FunctionStatus {
  if (failure) {
    const update = {
      LastUpdateStatus: 'Failed' as const,
      LastUpdateStatusReason: failure.reason,
      LastUpdateStatusReasonCode: failure.code,
    }
    return creating
      ? {State: 'Failed', StateReason: failure.reason, StateReasonCode: failure.code, ...update}
      : {State: 'Active', ...update}
  }
  const update = {
    LastUpdateStatus: 'InProgress' as const,
    LastUpdateStatusReason: creating ? 'The function is being created.' : 'The function is being updated.',
  }
  return creating
    ? {State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating', ...update}
    : {State: 'Active', ...update}
}

/** Settles when `work` settles (whichever way) or after `ms`, whichever comes first. */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  await Promise.race([work.catch(() => {}), bound])
  clearTimeout(timer)
}
