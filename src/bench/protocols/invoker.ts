import type {Invoke} from '../runner.js'
import type {Protocol} from './endpoints.js'

/**
 * What a bench drives, whatever the protocol: one call per arrival (a rejection or an outcome with
 * an error is recorded as an error, never retried), a check of every endpoint before any load, and
 * a close that frees connections.
 */
export interface ProtocolInvoker {
  readonly protocol: Protocol
  invoke: Invoke
  /** Refuses endpoints this protocol cannot drive (unknown function, unreachable, not a Greeter) with one UserError. */
  check(endpoints: string[]): Promise<void>
  close(): void
}

/** µs since the epoch, now. */
export const epochNowUs = (): number => (performance.timeOrigin + performance.now()) * 1000
