import {invalid} from './lambda-errors.js'
import type {LocalFunction} from './types.js'

/**
 * The account's concurrency, as Lambda divides it: the account limit (1,000 by default; the local service's
 * FAAS_LOCAL_ACCOUNT_CONCURRENCY), less what functions reserve, is the unreserved concurrency every other
 * function shares. Reservations may not leave less than a tenth of the limit unreserved (Lambda's 100 of
 * 1,000). Provisioned concurrency of a function without a reservation comes out of the unreserved share.
 */

export const DEFAULT_ACCOUNT_CONCURRENCY = 1000

/** What the checks read of the control plane (a part of ControlContext). */
export interface Account {
  accountConcurrency: number
  functions: Map<string, LocalFunction>
}

/** The least unreserved concurrency reservations must leave (Lambda: 100 of the default 1,000). */
export const minimumUnreserved = (limit: number): number => Math.ceil(limit / 10)

const reservedOf = (functions: Iterable<LocalFunction>, except?: string): number =>
  [...functions].filter((fn) => fn.name !== except).reduce((sum, fn) => sum + (fn.reservedConcurrency ?? 0), 0)

export const unreservedConcurrency = (limit: number, functions: Iterable<LocalFunction>): number =>
  limit - reservedOf(functions)

/** Refuses a reservation that would leave less than the minimum unreserved, in Lambda's words. */
export function checkReservation(ctx: Account, fn: LocalFunction, reserved: number): void {
  const minimum = minimumUnreserved(ctx.accountConcurrency)
  if (ctx.accountConcurrency - reservedOf(ctx.functions.values(), fn.name) - reserved < minimum) {
    throw invalid(
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution ` +
        `below its minimum value of [${minimum}].`,
    )
  }
}

/** Refuses provisioned concurrency above the function's reservation, or, without one, above the unreserved share. */
export function checkProvisioned(ctx: Account, fn: LocalFunction, qualifier: string, requested: number): void {
  if (fn.reservedConcurrency !== undefined) {
    if (requested > fn.reservedConcurrency)
      throw invalid(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function ` +
          `(${requested} > ${fn.reservedConcurrency}).`,
      )
    return
  }
  const unreserved = unreservedConcurrency(ctx.accountConcurrency, ctx.functions.values())
  const others = Object.entries(fn.provisioned ?? {})
    .filter(([q]) => q !== qualifier)
    .reduce((sum, [, config]) => sum + config.requested, 0)
  const available = unreserved - minimumUnreserved(ctx.accountConcurrency) - others
  if (requested > available)
    throw invalid(
      `Requested Provisioned Concurrency exceeds the account's available UnreservedConcurrentExecution ` +
        `(${requested} > ${Math.max(0, available)}); the account limit is ${ctx.accountConcurrency} ` +
        `(FAAS_LOCAL_ACCOUNT_CONCURRENCY for the local service).`,
    )
}

/** GetAccountSettings. */
export function accountSettings(ctx: Account): [number, unknown] {
  return [
    200,
    {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: ctx.accountConcurrency,
        UnreservedConcurrentExecutions: unreservedConcurrency(ctx.accountConcurrency, ctx.functions.values()),
      },
      AccountUsage: {TotalCodeSize: 0, FunctionCount: ctx.functions.size},
    },
  ]
}
